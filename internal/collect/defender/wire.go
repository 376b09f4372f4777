package defender

// The report document as it travels, in AWS's long and short field
// names. The two metric blocks are the same anonymous structure with
// different tags, so a short-named block converts to the long one (Go
// ignores tags in struct conversions) and one validator serves both.
// encoding/json and fxamacker/cbor read the same json tags.

type wireReport struct {
	Header        *wireHeader             `json:"header"`
	Metrics       *wireMetrics            `json:"metrics"`
	CustomMetrics map[string][]wireCustom `json:"custom_metrics"`

	Hed  *wireHeaderShort        `json:"hed"`
	Met  *wireMetricsShort       `json:"met"`
	Cmet map[string][]wireCustom `json:"cmet"`
}

type wireHeader struct {
	ReportID *int64  `json:"report_id"`
	Version  *string `json:"version"`
}

type wireHeaderShort struct {
	ReportID *int64  `json:"rid"`
	Version  *string `json:"v"`
}

// wireCustom is one custom metric value; the names are the same in both
// forms.
type wireCustom struct {
	Number     *float64  `json:"number"`
	NumberList []float64 `json:"number_list"`
	StringList []string  `json:"string_list"`
	IPList     []string  `json:"ip_list"`
}

type wireMetrics struct {
	ListeningTCPPorts *struct {
		Ports []struct {
			Port      *int64 `json:"port"`
			Interface string `json:"interface"`
		} `json:"ports"`
		Total *int64 `json:"total"`
	} `json:"listening_tcp_ports"`
	ListeningUDPPorts *struct {
		Ports []struct {
			Port      *int64 `json:"port"`
			Interface string `json:"interface"`
		} `json:"ports"`
		Total *int64 `json:"total"`
	} `json:"listening_udp_ports"`
	NetworkStats *struct {
		BytesIn    *int64 `json:"bytes_in"`
		BytesOut   *int64 `json:"bytes_out"`
		PacketsIn  *int64 `json:"packets_in"`
		PacketsOut *int64 `json:"packets_out"`
	} `json:"network_stats"`
	TCPConnections *struct {
		EstablishedConnections *struct {
			Connections []struct {
				RemoteAddr     *string `json:"remote_addr"`
				LocalPort      *int64  `json:"local_port"`
				LocalInterface string  `json:"local_interface"`
			} `json:"connections"`
			Total *int64 `json:"total"`
		} `json:"established_connections"`
	} `json:"tcp_connections"`
}

type wireMetricsShort struct {
	ListeningTCPPorts *struct {
		Ports []struct {
			Port      *int64 `json:"pt"`
			Interface string `json:"if"`
		} `json:"pts"`
		Total *int64 `json:"t"`
	} `json:"tp"`
	ListeningUDPPorts *struct {
		Ports []struct {
			Port      *int64 `json:"pt"`
			Interface string `json:"if"`
		} `json:"pts"`
		Total *int64 `json:"t"`
	} `json:"up"`
	NetworkStats *struct {
		BytesIn    *int64 `json:"bi"`
		BytesOut   *int64 `json:"bo"`
		PacketsIn  *int64 `json:"pi"`
		PacketsOut *int64 `json:"po"`
	} `json:"ns"`
	TCPConnections *struct {
		EstablishedConnections *struct {
			Connections []struct {
				RemoteAddr     *string `json:"rad"`
				LocalPort      *int64  `json:"lp"`
				LocalInterface string  `json:"li"`
			} `json:"cs"`
			Total *int64 `json:"t"`
		} `json:"ec"`
	} `json:"tc"`
}

// names are the field names of one form, for error messages that point
// into the document as the device wrote it.
type names struct {
	header, reportID, version, metrics, custom                string
	tcpPorts, udpPorts, ports, port, total                    string
	netStats, bytesIn, bytesOut, packetsIn, packetsOut        string
	tcpConns, established, connections, remoteAddr, localPort string
}

var (
	longNames = names{"header", "report_id", "version", "metrics", "custom_metrics",
		"listening_tcp_ports", "listening_udp_ports", "ports", "port", "total",
		"network_stats", "bytes_in", "bytes_out", "packets_in", "packets_out",
		"tcp_connections", "established_connections", "connections", "remote_addr", "local_port"}
	shortNames = names{"hed", "rid", "v", "met", "cmet",
		"tp", "up", "pts", "pt", "t",
		"ns", "bi", "bo", "pi", "po",
		"tc", "ec", "cs", "rad", "lp"}
)
