package dpi

// Well-known ports of services without a decoder here, for the port
// fallback (IANA assignments; ICS ports from the vendors' documentation).
var fallbackPorts = []struct {
	app   string
	proto uint8 // 0 = both
	ports []uint16
}{
	{"smb", 6, []uint16{139, 445}},
	{"rdp", 0, []uint16{3389}},
	{"ldap", 0, []uint16{389}},
	{"kerberos", 0, []uint16{88}},
	{"snmp", 17, []uint16{161, 162}},
	{"syslog", 0, []uint16{514, 6514}},
	{"sip", 0, []uint16{5060, 5061}},
	{"smtp", 6, []uint16{25, 587}},
	{"imap", 6, []uint16{143}}, // 993 and 995 are TLS: the tls analyzer's ports
	{"pop3", 6, []uint16{110}},
	{"quic", 17, []uint16{443}},
	{"tls", 6, []uint16{8883}}, // MQTT over TLS; the tls analyzer lists the others
	{"mysql", 6, []uint16{3306}},
	{"postgresql", 6, []uint16{5432}},
	{"mssql", 6, []uint16{1433}},
	{"redis", 6, []uint16{6379}},
	{"mongodb", 6, []uint16{27017}},
	{"vnc", 6, []uint16{5900}},
	{"rtsp", 0, []uint16{554}},
	{"coap", 17, []uint16{5683}},
	{"opcua", 6, []uint16{4840}},
	{"ethernetip", 0, []uint16{44818, 2222}},
	{"iec104", 6, []uint16{2404}},
	{"radius", 17, []uint16{1812, 1813}},
	{"tftp", 17, []uint16{69}},
	{"ipp", 6, []uint16{631}},
	{"jetdirect", 6, []uint16{9100}},
	{"nfs", 0, []uint16{2049}},
	{"amqp", 6, []uint16{5672}},
	{"stun", 17, []uint16{3478}},
	{"wsd", 17, []uint16{3702}},
	{"winrm", 6, []uint16{5985, 5986}},
}

// portLabels maps proto<<16|port to a label: the analyzers' own ports
// first, then fallbackPorts.
func portLabels(list []Analyzer) map[uint32]string {
	m := map[uint32]string{}
	add := func(app string, proto uint8, ports []uint16) {
		for _, p := range ports {
			for _, pr := range protosOf(proto) {
				k := uint32(pr)<<16 | uint32(p)
				if _, ok := m[k]; !ok {
					m[k] = app
				}
			}
		}
	}
	for _, a := range list {
		add(a.App, a.Proto, a.Ports)
	}
	for _, f := range fallbackPorts {
		add(f.app, f.proto, f.ports)
	}
	return m
}
