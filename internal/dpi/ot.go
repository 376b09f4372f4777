package dpi

// otAnalyzers are the IoT and OT protocols (MQTT, Modbus/TCP, DNP3, …).
var otAnalyzers = []Analyzer{}
