package dpi

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// pack packs a message built with miekg/dns, the wire bytes of the tests.
func pack(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rr(t testing.TB, s string) dns.RR {
	t.Helper()
	r, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func query(t testing.TB, id uint16, name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = id
	return m
}

func reply(t testing.TB, q *dns.Msg, rcode int, answers ...string) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	for _, a := range answers {
		m.Answer = append(m.Answer, rr(t, a))
	}
	return m
}

// tcpDNS frames messages with the 2-byte length of DNS over TCP.
func tcpDNS(msgs ...[]byte) []byte {
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
	}
	return out
}

// dnsFlows are the DNS test flows, also the fuzz seeds.
func dnsFlows(t testing.TB) map[string]*Flow {
	q := query(t, 0x1234, "www.example.com.", dns.TypeA)
	r := reply(t, q, dns.RcodeSuccess, "www.example.com. 300 IN CNAME example.com.", "example.com. 300 IN A 93.184.216.34")
	q6 := query(t, 7, "nope.example.", dns.TypeAAAA)
	q2 := query(t, 8, "example.org.", dns.TypeMX)
	return map[string]*Flow{
		"udp A with CNAME": udpFlow([][]byte{pack(t, q)}, [][]byte{pack(t, r)}),
		"tcp two queries": tcpFlow(tcpDNS(pack(t, q6), pack(t, q2)),
			tcpDNS(pack(t, reply(t, q6, dns.RcodeNameError)), pack(t, reply(t, q2, 0, "example.org. 60 IN MX 10 mx.example.org.")))),
	}
}

func TestDNSDecode(t *testing.T) {
	flows := dnsFlows(t)
	q := query(t, 99, "x.example.", dns.TypeTXT)
	other := reply(t, query(t, 98, "y.example.", dns.TypeA), dns.RcodeServerFailure)
	txt := reply(t, q, 0, `x.example. 1 IN TXT "v=spf1" "-all"`, "x.example. 1 IN NS ns1.example.", "x.example. 1 IN PTR host.example.", "x.example. 1 IN AAAA 2001:db8::1")
	full := pack(t, txt)
	tests := []struct {
		name string
		f    *Flow
		want *schema.DNS
	}{
		{"udp A with CNAME", flows["udp A with CNAME"], &schema.DNS{ID: 0x1234, Query: "www.example.com", QType: "A", RCode: "NOERROR",
			Answers: []string{"example.com", "93.184.216.34"}, Queries: 1}},
		{"tcp two queries", flows["tcp two queries"], &schema.DNS{ID: 7, Query: "nope.example", QType: "AAAA", RCode: "NXDOMAIN", Queries: 2}},
		{"answer types in order", udpFlow([][]byte{pack(t, q)}, [][]byte{full}), &schema.DNS{ID: 99, Query: "x.example", QType: "TXT", RCode: "NOERROR",
			Answers: []string{"v=spf1 -all", "ns1.example", "host.example", "2001:db8::1"}, Queries: 1}},
		{"the response to the query id, not the first", udpFlow([][]byte{pack(t, q)}, [][]byte{pack(t, other), full}),
			&schema.DNS{ID: 99, Query: "x.example", QType: "TXT", RCode: "NOERROR", Answers: []string{"v=spf1 -all", "ns1.example", "host.example", "2001:db8::1"}, Queries: 1}},
		{"response cut in its last answer keeps the others", udpFlow([][]byte{pack(t, q)}, [][]byte{full[:len(full)-5]}),
			&schema.DNS{ID: 99, Query: "x.example", QType: "TXT", RCode: "NOERROR", Answers: []string{"v=spf1 -all", "ns1.example", "host.example"}, Queries: 1}},
		{"unnamed type", udpFlow([][]byte{pack(t, query(t, 5, "a.example.", 65280))}, nil), &schema.DNS{ID: 5, Query: "a.example", QType: "TYPE65280", Queries: 1}},
		{"HTTPS type", udpFlow([][]byte{pack(t, query(t, 6, "a.example.", dns.TypeHTTPS))}, nil), &schema.DNS{ID: 6, Query: "a.example", QType: "HTTPS", Queries: 1}},
		{"root priming query", udpFlow([][]byte{pack(t, query(t, 4, ".", dns.TypeNS))}, nil), &schema.DNS{ID: 4, Query: ".", QType: "NS", Queries: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(dnsAnalyzer, tc.f)
			if score < 0.9 {
				t.Fatalf("Match %v, want ≥ 0.9", score)
			}
			if diff := cmp.Diff(tc.want, l7.DNS); diff != "" {
				t.Errorf("DNS (-want +got):\n%s", diff)
			}
			if len(l7.Names) != 0 {
				t.Errorf("plain DNS announced names %v", l7.Names)
			}
		})
	}
}

func TestDNSMatch(t *testing.T) {
	q := pack(t, query(t, 0x4242, "www.example.com.", dns.TypeA))
	r := pack(t, reply(t, query(t, 0x4242, "www.example.com.", dns.TypeA), 0, "www.example.com. 1 IN A 192.0.2.1"))
	badClass := append([]byte(nil), q...)
	binary.BigEndian.PutUint16(badClass[len(badClass)-2:], 77)
	tooMany := append([]byte(nil), q...)
	binary.BigEndian.PutUint16(tooMany[6:], 40) // 40 answers cannot fit
	mdns := pack(t, query(t, 0, "printer.local.", dns.TypeA))
	tests := []struct {
		name string
		f    *Flow
		want float64
	}{
		{"query and its answer", udpFlow([][]byte{q}, [][]byte{r}), 0.95},
		{"query alone", udpFlow([][]byte{q}, nil), 0.9},
		{"over TCP", tcpFlow(tcpDNS(q), tcpDNS(r)), 0.95},
		{"TCP without the length prefix", tcpFlow(q, nil), 0},
		{"unknown class", udpFlow([][]byte{badClass}, nil), 0},
		{"counts longer than the message", udpFlow([][]byte{tooMany}, nil), 0},
		{"header only", udpFlow([][]byte{q[:12]}, nil), 0},
		{"text", udpFlow([][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")}, nil), 0},
		{"mDNS-shaped is a sibling's", udpFlow([][]byte{mdns}, nil), 0.3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dnsAnalyzer.Match(tc.f); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDNSAnswersCapped(t *testing.T) {
	q := query(t, 1, "many.example.", dns.TypeA)
	r := reply(t, q, 0)
	for i := range 100 {
		r.Answer = append(r.Answer, &dns.A{Hdr: dns.RR_Header{Name: "many.example.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(10, 0, 0, byte(i))})
	}
	_, l7 := run(dnsAnalyzer, udpFlow([][]byte{pack(t, q)}, [][]byte{pack(t, r)}))
	if n := len(l7.DNS.Answers); n != maxDNSAnswers {
		t.Errorf("%d answers kept, want %d", n, maxDNSAnswers)
	}
}
