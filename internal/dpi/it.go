package dpi

// itAnalyzers are the IT protocols (DNS, TLS, HTTP, DHCP, …).
var itAnalyzers = []Analyzer{}
