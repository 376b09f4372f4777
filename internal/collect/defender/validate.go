package defender

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// validate turns a decoded document into a Report, checking each field
// against AWS's device metrics document specification.
func (p *Parser) validate(w *wireReport) (*Report, error) {
	long := w.Header != nil || w.Metrics != nil || w.CustomMetrics != nil
	short := w.Hed != nil || w.Met != nil || w.Cmet != nil
	if long && short {
		return nil, invalid("", "mixes long (header, metrics, custom_metrics) and short (hed, met, cmet) field names")
	}
	n, header, metrics, custom := &longNames, w.Header, w.Metrics, w.CustomMetrics
	if short {
		// Same structure, short tags: the conversion ignores the tags.
		n, header, metrics, custom = &shortNames, (*wireHeader)(w.Hed), (*wireMetrics)(w.Met), w.Cmet
	}
	r := &Report{Short: short}
	if err := checkHeader(n, header, r); err != nil {
		return nil, err
	}
	if metrics == nil && custom == nil {
		return nil, invalid("", fmt.Sprintf("a report needs %s or %s", n.metrics, n.custom))
	}
	if metrics != nil {
		if err := p.checkMetrics(n, metrics, r); err != nil {
			return nil, err
		}
	}
	if err := p.checkCustom(n.custom, custom, r); err != nil {
		return nil, err
	}
	return r, nil
}

func checkHeader(n *names, h *wireHeader, r *Report) error {
	if h == nil {
		return invalid(n.header, "required")
	}
	switch {
	case h.ReportID == nil:
		return invalid(n.header+"."+n.reportID, "required")
	case *h.ReportID <= 0:
		return invalid(n.header+"."+n.reportID, fmt.Sprintf("%d is not a positive integer", *h.ReportID))
	case h.Version == nil:
		return invalid(n.header+"."+n.version, "required")
	}
	r.ID, r.Version = *h.ReportID, *h.Version
	major, minor, ok := strings.Cut(r.Version, ".")
	if !ok || !isDigits(major) || !isDigits(minor) {
		return invalid(n.header+"."+n.version, fmt.Sprintf("%q is not Major.Minor", truncate(r.Version)))
	}
	// A minor version only adds fields, which are ignored: 1.x is read
	// as 1.0.
	if major != "1" {
		return &ReportError{Code: CodeUnsupportedVersion, Field: n.header + "." + n.version,
			Message: fmt.Sprintf("version %q is not supported (1.0 is)", truncate(r.Version))}
	}
	return nil
}

func (p *Parser) checkMetrics(n *names, m *wireMetrics, r *Report) error {
	var err error
	if t := m.ListeningTCPPorts; t != nil {
		if r.TCPPorts, err = p.ports(n, n.metrics+"."+n.tcpPorts, t.Ports, t.Total); err != nil {
			return err
		}
	}
	if u := m.ListeningUDPPorts; u != nil {
		// The UDP block has the TCP block's structure.
		if r.UDPPorts, err = p.ports(n, n.metrics+"."+n.udpPorts, u.Ports, u.Total); err != nil {
			return err
		}
	}
	if s := m.NetworkStats; s != nil {
		base := n.metrics + "." + n.netStats + "."
		ns := &NetworkStats{}
		for _, c := range []struct {
			v    *int64
			dst  *int64
			name string
		}{{s.BytesIn, &ns.BytesIn, n.bytesIn}, {s.BytesOut, &ns.BytesOut, n.bytesOut}, {s.PacketsIn, &ns.PacketsIn, n.packetsIn}, {s.PacketsOut, &ns.PacketsOut, n.packetsOut}} {
			if *c.dst, err = count(base+c.name, c.v); err != nil {
				return err
			}
		}
		r.Network = ns
	}
	if t := m.TCPConnections; t != nil && t.EstablishedConnections != nil {
		if r.TCPConns, err = p.connections(n, t.EstablishedConnections); err != nil {
			return err
		}
	}
	return nil
}

func (p *Parser) ports(n *names, base string, ports []struct {
	Port      *int64 `json:"port"`
	Interface string `json:"interface"`
}, total *int64) (*ListeningPorts, error) {
	if len(ports) > p.limits.MaxList {
		return nil, invalid(base+"."+n.ports, fmt.Sprintf("%d entries, over the limit of %d", len(ports), p.limits.MaxList))
	}
	lp := &ListeningPorts{Ports: make([]ListeningPort, len(ports))}
	for i, pt := range ports {
		field := fmt.Sprintf("%s.%s[%d].%s", base, n.ports, i, n.port)
		if pt.Port == nil {
			return nil, invalid(field, "required")
		}
		if *pt.Port <= 0 || *pt.Port > math.MaxUint16 {
			return nil, invalid(field, fmt.Sprintf("%d is not a port (1-65535)", *pt.Port))
		}
		lp.Ports[i] = ListeningPort{Port: uint16(*pt.Port), Interface: pt.Interface}
	}
	var err error
	lp.Total, err = count(base+"."+n.total, total)
	return lp, err
}

func (p *Parser) connections(n *names, ec *struct {
	Connections []struct {
		RemoteAddr     *string `json:"remote_addr"`
		LocalPort      *int64  `json:"local_port"`
		LocalInterface string  `json:"local_interface"`
	} `json:"connections"`
	Total *int64 `json:"total"`
}) (*Connections, error) {
	base := n.metrics + "." + n.tcpConns + "." + n.established
	if len(ec.Connections) > p.limits.MaxList {
		return nil, invalid(base+"."+n.connections, fmt.Sprintf("%d entries, over the limit of %d", len(ec.Connections), p.limits.MaxList))
	}
	cs := &Connections{Connections: make([]Connection, len(ec.Connections))}
	for i, c := range ec.Connections {
		field := fmt.Sprintf("%s.%s[%d].", base, n.connections, i)
		if c.RemoteAddr == nil {
			return nil, invalid(field+n.remoteAddr, "required")
		}
		remote, err := parseRemote(*c.RemoteAddr)
		if err != nil {
			return nil, invalid(field+n.remoteAddr, err.Error())
		}
		local := int32(-1)
		if c.LocalPort != nil {
			if *c.LocalPort < 0 || *c.LocalPort > math.MaxUint16 {
				return nil, invalid(field+n.localPort, fmt.Sprintf("%d is not a port (0-65535)", *c.LocalPort))
			}
			local = int32(*c.LocalPort)
		}
		cs.Connections[i] = Connection{Remote: remote, LocalPort: local, LocalInterface: c.LocalInterface}
	}
	var err error
	cs.Total, err = count(base+"."+n.total, ec.Total)
	return cs, err
}

// parseRemote reads remote_addr, "ip:port". IPv6 peers may come with
// brackets or, as AWS's sample agents write them, without: the port is
// then after the last colon.
func parseRemote(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().WithZone(""), ap.Port()), nil
	}
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		a, aerr := netip.ParseAddr(s[:i])
		port, perr := strconv.ParseUint(s[i+1:], 10, 16)
		if aerr == nil && perr == nil && a.Is6() {
			return netip.AddrPortFrom(a.WithZone(""), uint16(port)), nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("%q is not ip:port", truncate(s))
}

// count reads an optional non-negative count; -1 stands for absent.
func count(field string, v *int64) (int64, error) {
	if v == nil {
		return -1, nil
	}
	if *v < 0 {
		return 0, invalid(field, fmt.Sprintf("%d is negative", *v))
	}
	return *v, nil
}

func (p *Parser) checkCustom(base string, custom map[string][]wireCustom, r *Report) error {
	if len(custom) > p.limits.MaxList {
		return invalid(base, fmt.Sprintf("%d custom metrics, over the limit of %d", len(custom), p.limits.MaxList))
	}
	for name, values := range custom {
		field := base + "." + name
		if err := checkCustomName(name); err != nil {
			return invalid(base, err.Error())
		}
		// AWS takes each custom metric as a list of exactly one value
		// object, even a single number.
		if len(values) != 1 {
			return invalid(field, fmt.Sprintf("must be a list of one value object, has %d", len(values)))
		}
		m, err := p.customValue(field, name, &values[0])
		if err != nil {
			return err
		}
		r.Custom = append(r.Custom, m)
	}
	slices.SortFunc(r.Custom, func(a, b CustomMetric) int { return strings.Compare(a.Name, b.Name) })
	return nil
}

func (p *Parser) customValue(field, name string, v *wireCustom) (CustomMetric, error) {
	m := CustomMetric{Name: name}
	set := 0
	if v.Number != nil {
		set++
		m.Kind, m.Number = CustomNumber, *v.Number
	}
	if v.NumberList != nil {
		set++
		m.Kind, m.Numbers = CustomNumberList, v.NumberList
	}
	if v.StringList != nil {
		set++
		m.Kind, m.Strings = CustomStringList, v.StringList
	}
	if v.IPList != nil {
		set++
		m.Kind, m.Strings = CustomIPList, v.IPList
	}
	if set != 1 {
		return m, invalid(field, fmt.Sprintf("needs exactly one of number, number_list, string_list, ip_list; has %d", set))
	}
	if n := len(m.Numbers) + len(m.Strings); n > p.limits.MaxList {
		return m, invalid(field, fmt.Sprintf("%d entries, over the limit of %d", n, p.limits.MaxList))
	}
	// CBOR can carry NaN and infinities, which no threshold compares with.
	if math.IsNaN(m.Number) || math.IsInf(m.Number, 0) || slices.ContainsFunc(m.Numbers, func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }) {
		return m, invalid(field, "numbers must be finite")
	}
	if m.Kind == CustomIPList {
		ips := make([]string, len(m.Strings))
		for i, s := range m.Strings {
			a, err := parseIPOrCIDR(s)
			if err != nil {
				return m, invalid(fmt.Sprintf("%s.ip_list[%d]", field, i), err.Error())
			}
			ips[i] = a
		}
		m.Strings = ips
	}
	return m, nil
}

// parseIPOrCIDR returns the canonical text of an address or prefix.
func parseIPOrCIDR(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").String(), nil
	}
	if pf, err := netip.ParsePrefix(s); err == nil {
		return pf.Masked().String(), nil
	}
	return "", fmt.Errorf("%q is not an IP address or CIDR", truncate(s))
}

// checkCustomName applies AWS's rule for custom metric names:
// [a-zA-Z0-9:_-]{1,128}, not starting with aws:.
func checkCustomName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("custom metric name %q must have 1 to 128 characters", truncate(name))
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-') {
			return fmt.Errorf("custom metric name %q may only hold letters, digits, ':', '_' and '-'", truncate(name))
		}
	}
	if strings.HasPrefix(name, "aws:") {
		return fmt.Errorf("custom metric name %q must not start with \"aws:\"", truncate(name))
	}
	return nil
}

// checkThingName applies AWS IoT's rule for the names devices report
// under: at most 128 bytes of UTF-8 without control characters, and, as
// it is a topic level, no '/', '+' or '#'.
func checkThingName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty thing name")
	case len(name) > 128:
		return fmt.Errorf("thing name of %d bytes is longer than 128", len(name))
	case !utf8.ValidString(name):
		return fmt.Errorf("thing name is not UTF-8")
	case strings.ContainsAny(name, "/+#"):
		return fmt.Errorf("thing name %q holds '/', '+' or '#'", name)
	}
	for _, c := range name {
		if c < 0x20 || c >= 0x7f && c < 0xa0 {
			return fmt.Errorf("thing name %q holds a control character", name)
		}
	}
	return nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// truncate keeps error messages short when a device sends a long value.
func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}
