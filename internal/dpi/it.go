package dpi

import (
	"bytes"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// itAnalyzers are the IT protocols (DNS, TLS, HTTP, DHCP, …). The DNS
// family comes first: its members tell each other apart by their
// scores, and ties go to the earlier analyzer.
var itAnalyzers = []Analyzer{
	dnsAnalyzer, mdnsAnalyzer, llmnrAnalyzer, netbiosAnalyzer,
	tlsAnalyzer, httpAnalyzer, sshAnalyzer,
	dhcpAnalyzer, ssdpAnalyzer, ntpAnalyzer,
	ftpAnalyzer, telnetAnalyzer,
}

// maxNames bounds l7.Names: an mDNS responder can announce hundreds.
const maxNames = 32

// addName appends a name to l7.Names once; names that are empty or
// service types ("_http._tcp.local") are not device names.
func addName(l7 *schema.L7, name string) {
	name = strings.TrimSpace(name)
	if name == "" || name[0] == '_' || len(l7.Names) >= maxNames {
		return
	}
	for _, n := range l7.Names {
		if n == name {
			return
		}
	}
	l7.Names = append(l7.Names, name)
}

// firstDatagram returns the first datagram of a UDP side.
func firstDatagram(s *Side) []byte {
	if len(s.Ends) > 0 && s.Ends[0] <= len(s.Data) {
		return s.Data[:s.Ends[0]]
	}
	return s.Data
}

// containsFold reports whether b contains the lower-case ASCII pattern
// in any case, without allocating.
func containsFold(b, lower []byte) bool {
	for i := 0; i+len(lower) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}

// setOnce keeps the first non-empty value.
func setOnce(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
