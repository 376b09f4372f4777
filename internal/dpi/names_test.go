package dpi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// netbiosEncode is the first-level encoding of RFC 1001 section 14.1,
// as a DNS name.
func netbiosEncode(name string, suffix byte) string {
	b := []byte(name + strings.Repeat(" ", 15-len(name)) + string(suffix))
	if name == "*" {
		b = append([]byte("*"), make([]byte, 15)...)
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte('A' + c>>4)
		sb.WriteByte('A' + c&0xf)
	}
	return sb.String() + "."
}

func netbiosMsg(id uint16, opcode int, response bool, name string, qtype uint16, answers ...dns.RR) *dns.Msg {
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Id: id, Opcode: opcode, Response: response, RecursionDesired: true, Authoritative: response}}
	if !response {
		m.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: dns.ClassINET}}
	}
	m.Answer = answers
	return m
}

func rawRR(name string, typ uint16, rdata string) dns.RR {
	return &dns.RFC3597{Hdr: dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: 300000}, Rdata: rdata}
}

// nbstatRdata lists node names: count, then 15 bytes, suffix, flags each.
func nbstatRdata(names ...string) string {
	var b []byte
	b = append(b, byte(len(names)))
	for _, n := range names {
		b = append(b, []byte(n+strings.Repeat(" ", 15-len(n)))...)
		b = append(b, 0x00, 0x04, 0x00)
	}
	return strings.ToLower(strings.TrimSpace(hexString(b)))
}

func hexString(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

// nameFlows are the mDNS, LLMNR and NetBIOS test flows, also fuzz seeds.
func nameFlows(t testing.TB) map[string]*Flow {
	announce := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Answer: []dns.RR{
		rr(t, `_ipp._tcp.local. 4500 IN PTR Office\ Printer._ipp._tcp.local.`),
		rr(t, `Office\ Printer._ipp._tcp.local. 120 IN SRV 0 0 631 prn-42.local.`),
		rr(t, `Office\ Printer._ipp._tcp.local. 4500 IN TXT "ty=Office Printer"`),
		&dns.A{Hdr: dns.RR_Header{Name: "prn-42.local.", Rrtype: dns.TypeA, Class: dns.ClassINET | 0x8000, Ttl: 120}, A: []byte{192, 168, 1, 42}},
	}}
	mq := query(t, 0, "_googlecast._tcp.local.", dns.TypePTR)
	mq.Question[0].Qclass |= 0x8000 // QU: unicast response wanted

	lq := query(t, 0x9a1b, "wpad.", dns.TypeA)
	lq.RecursionDesired = false
	lr := reply(t, lq, 0, "wpad. 30 IN A 192.168.1.66")

	fs := netbiosEncode("FILESERVER", 0x20)
	nq := netbiosMsg(0x8001, 0, false, fs, 0x20)
	nr := netbiosMsg(0x8001, 0, true, "", 0, rawRR(fs, 0x20, "0000c0a80105"))
	reg := netbiosMsg(0x8002, 5, false, netbiosEncode("DESKTOP-7", 0x00), 0x20)
	reg.Extra = []dns.RR{rawRR(netbiosEncode("DESKTOP-7", 0x00), 0x20, "0000c0a80107")}
	star := netbiosEncode("*", 0)
	sq := netbiosMsg(0x8003, 0, false, star, 0x21)
	sr := netbiosMsg(0x8003, 0, true, "", 0, rawRR(star, 0x21, nbstatRdata("DESKTOP-7", "WORKGROUP", "DESKTOP-7")))
	return map[string]*Flow{
		"mdns announcement": udpFlow([][]byte{pack(t, announce)}, nil),
		"mdns QU query":     udpFlow([][]byte{pack(t, mq)}, nil),
		"llmnr wpad":        udpFlow([][]byte{pack(t, lq)}, [][]byte{pack(t, lr)}),
		"netbios query":     udpFlow([][]byte{pack(t, nq)}, [][]byte{pack(t, nr)}),
		"netbios register":  udpFlow([][]byte{pack(t, reg)}, nil),
		"netbios nbstat":    udpFlow([][]byte{pack(t, sq)}, [][]byte{pack(t, sr)}),
	}
}

func TestNameServices(t *testing.T) {
	flows := nameFlows(t)
	tests := []struct {
		flow      string
		a         Analyzer
		wantScore float64
		dnsScore  float64 // what plain DNS says of the same flow
		want      *schema.DNS
		names     []string
	}{
		{"mdns announcement", mdnsAnalyzer, 0.9, 0.3,
			&schema.DNS{Query: "_ipp._tcp.local", QType: "PTR", RCode: "NOERROR",
				Answers: []string{"Office Printer._ipp._tcp.local", "prn-42.local", "ty=Office Printer", "192.168.1.42"}},
			[]string{"Office Printer._ipp._tcp.local", "prn-42.local"}},
		{"mdns QU query", mdnsAnalyzer, 0.9, 0.3,
			&schema.DNS{Query: "_googlecast._tcp.local", QType: "PTR", Queries: 1}, nil},
		{"llmnr wpad", llmnrAnalyzer, 0.8, 0.3,
			&schema.DNS{ID: 0x9a1b, Query: "wpad", QType: "A", RCode: "NOERROR", Answers: []string{"192.168.1.66"}, Queries: 1},
			[]string{"wpad"}},
		{"netbios query", netbiosAnalyzer, 0.95, 0,
			&schema.DNS{ID: 0x8001, Query: "FILESERVER", QType: "NB", RCode: "NOERROR", Answers: []string{"192.168.1.5"}, Queries: 1},
			[]string{"FILESERVER"}},
		{"netbios register", netbiosAnalyzer, 0.95, 0,
			&schema.DNS{ID: 0x8002, Query: "DESKTOP-7", QType: "NB", Queries: 1}, []string{"DESKTOP-7"}},
		{"netbios nbstat", netbiosAnalyzer, 0.95, 0,
			&schema.DNS{ID: 0x8003, Query: "*", QType: "NBSTAT", RCode: "NOERROR", Answers: []string{"DESKTOP-7", "WORKGROUP"}, Queries: 1},
			[]string{"DESKTOP-7", "WORKGROUP"}},
	}
	for _, tc := range tests {
		t.Run(tc.flow, func(t *testing.T) {
			f := flows[tc.flow]
			score, l7 := run(tc.a, f)
			if score != tc.wantScore {
				t.Fatalf("%s Match %v, want %v", tc.a.App, score, tc.wantScore)
			}
			if got := dnsAnalyzer.Match(f); got != tc.dnsScore {
				t.Errorf("dns Match %v, want %v", got, tc.dnsScore)
			}
			for _, other := range []Analyzer{mdnsAnalyzer, llmnrAnalyzer, netbiosAnalyzer} {
				if other.App != tc.a.App && other.Match(f) != 0 {
					t.Errorf("%s also matched", other.App)
				}
			}
			if diff := cmp.Diff(tc.want, l7.DNS); diff != "" {
				t.Errorf("DNS (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.names, l7.Names); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNetBIOSName(t *testing.T) {
	tests := []struct{ in, want string }{
		{netbiosEncode("FILESERVER", 0x20), "FILESERVER"},
		{netbiosEncode("*", 0), "*"},
		{netbiosEncode("A", 0x1b) + "corp.example.", "A"}, // with a scope
		{"not-encoded.example.", "not-encoded.example"},
	}
	for _, tc := range tests {
		if got := netbiosName(tc.in); got != tc.want {
			t.Errorf("netbiosName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

const (
	hueNotify = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=100\r\n" +
		"LOCATION: http://192.168.1.2:80/description.xml\r\nSERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0\r\n" +
		"NTS: ssdp:alive\r\nhue-bridgeid: 001788FFFE100491\r\nNT: urn:schemas-upnp-org:device:basic:1\r\n" +
		"USN: uuid:2f402f80-da50-11e1-9b23-001788100491::urn:schemas-upnp-org:device:basic:1\r\n\r\n"
	hueRoot = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nLOCATION: http://192.168.1.2:80/description.xml\r\n" +
		"SERVER: Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0\r\nNTS: ssdp:alive\r\nNT: upnp:rootdevice\r\n" +
		"USN: uuid:2f402f80-da50-11e1-9b23-001788100491::upnp:rootdevice\r\n\r\n"
	mSearch = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\n" +
		"ST: urn:dial-multiscreen-org:service:dial:1\r\nUSER-AGENT: Google Chrome/120.0 Windows\r\n\r\n"
	dialReply = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: http://192.168.1.30:8008/ssdp/device-desc.xml\r\n" +
		"SERVER: Linux/3.8.13+, UPnP/1.0, Portable SDK for UPnP devices/1.6.18\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n" +
		"USN: uuid:3e1cc7c6-f4a4-4cf3-b8a2-c8f5c3b6c1bd::urn:dial-multiscreen-org:service:dial:1\r\n\r\n"
)

func ssdpFlows() map[string]*Flow {
	return map[string]*Flow{
		"hue notify":  udpFlow([][]byte{[]byte(hueNotify), []byte(hueRoot)}, nil),
		"m-search":    udpFlow([][]byte{[]byte(mSearch)}, nil),
		"dial answer": udpFlow([][]byte{[]byte(dialReply)}, nil),
	}
}

func TestSSDP(t *testing.T) {
	flows := ssdpFlows()
	tests := []struct {
		name  string
		f     *Flow
		score float64
		names []string
	}{
		{"hue notify", flows["hue notify"], 0.95, []string{"Linux/3.14.0 UPnP/1.0 IpBridge/1.26.0",
			"http://192.168.1.2:80/description.xml", "urn:schemas-upnp-org:device:basic:1"}},
		{"m-search", flows["m-search"], 0.95, nil},
		{"dial answer", flows["dial answer"], 0.9, []string{"Linux/3.8.13+, UPnP/1.0, Portable SDK for UPnP devices/1.6.18",
			"http://192.168.1.30:8008/ssdp/device-desc.xml"}},
		{"HTTP over UDP without USN", udpFlow([][]byte{[]byte("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n")}, nil), 0, nil},
		{"HTTP request", udpFlow([][]byte{[]byte("GET / HTTP/1.1\r\n\r\n")}, nil), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(ssdpAnalyzer, tc.f)
			if score != tc.score {
				t.Fatalf("Match %v, want %v", score, tc.score)
			}
			if l7 == nil {
				return
			}
			if diff := cmp.Diff(tc.names, l7.Names); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
		})
	}
}
