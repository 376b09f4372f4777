package defender

import (
	"net/netip"
)

// Format is how a report is encoded: the last level of its MQTT topic,
// or its HTTP Content-Type.
type Format uint8

const (
	FormatJSON Format = iota
	FormatCBOR
)

func (f Format) String() string {
	if f == FormatCBOR {
		return "cbor"
	}
	return "json"
}

// Report is a device-side metrics report that passed validation, in the
// terms of AWS's document specification whichever names it was written
// with. Counts a device left out are -1.
type Report struct {
	ID      int64
	Version string
	Short   bool // the device used the short field names

	TCPPorts *ListeningPorts // nil when the report has no such block
	UDPPorts *ListeningPorts
	Network  *NetworkStats
	TCPConns *Connections
	Custom   []CustomMetric // in the order of their names
}

// ListeningPorts is listening_tcp_ports or listening_udp_ports.
type ListeningPorts struct {
	Ports []ListeningPort
	Total int64
}

// ListeningPort is one listening socket.
type ListeningPort struct {
	Port      uint16
	Interface string
}

// NetworkStats holds the deltas since the previous report.
type NetworkStats struct {
	BytesIn, BytesOut, PacketsIn, PacketsOut int64
}

// Connections is tcp_connections.established_connections.
type Connections struct {
	Connections []Connection
	Total       int64
}

// Connection is one established TCP connection. LocalPort is -1 when the
// device did not give it.
type Connection struct {
	Remote         netip.AddrPort
	LocalPort      int32
	LocalInterface string
}

// CustomKind is the type of a custom metric's value.
type CustomKind uint8

const (
	CustomNumber CustomKind = iota
	CustomNumberList
	CustomStringList
	CustomIPList
)

// CustomMetric is one entry of custom_metrics. Number holds a number,
// Numbers a number list, Strings a string list or an IP list.
type CustomMetric struct {
	Name    string
	Kind    CustomKind
	Number  float64
	Numbers []float64
	Strings []string
}

// Limits bound what a report may hold.
type Limits struct {
	MaxBytes int // whole payload
	MaxList  int // entries of any one list, and custom metrics per report
}

// limits returns the configuration's report limits.
func (c Config) limits() Limits {
	return Limits{MaxBytes: c.MaxReportBytes, MaxList: c.MaxListEntries}
}
