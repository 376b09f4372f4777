package dpi

import (
	"math/rand/v2"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// udpSide is a side made of whole datagrams.
func udpSide(msgs ...[]byte) Side {
	s := Side{Complete: true}
	for _, m := range msgs {
		s.Data = append(s.Data, m...)
		s.Ends = append(s.Ends, len(s.Data))
	}
	return s
}

func udpFlow(orig, resp [][]byte) *Flow {
	return &Flow{Proto: 17, Orig: udpSide(orig...), Resp: udpSide(resp...)}
}

func tcpFlow(orig, resp []byte) *Flow {
	return &Flow{Proto: 6, Orig: Side{Data: orig, Complete: true}, Resp: Side{Data: resp, Complete: true}}
}

// run is what the engine does with one analyzer: Match, then Decode
// when it matched.
func run(a Analyzer, f *Flow) (float64, *schema.L7) {
	score := a.Match(f)
	if score <= 0 {
		return score, nil
	}
	l7 := &schema.L7{By: "content", Confidence: score}
	a.Decode(f, l7)
	return score, l7
}

// TestITRandomPayloads checks that random payloads are not labelled: the
// Match functions must not mistake noise for a protocol.
func TestITRandomPayloads(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	for range 20000 {
		orig, resp := make([]byte, 16+r.IntN(600)), make([]byte, r.IntN(600))
		for i := range orig {
			orig[i] = byte(r.Uint32())
		}
		for i := range resp {
			resp[i] = byte(r.Uint32())
		}
		for _, f := range []*Flow{udpFlow([][]byte{orig}, [][]byte{resp}), tcpFlow(orig, resp)} {
			for _, a := range itAnalyzers {
				if (a.Proto == 0 || a.Proto == f.Proto) && a.Match(f) > 0 {
					counts[a.App]++
				}
			}
		}
	}
	for app, n := range counts {
		if n > 2 { // telnet: 0xff then a negotiation byte happens 1 in 13000
			t.Errorf("%s matched %d random payloads of 40000", app, n)
		}
	}
}

// BenchmarkITMatch runs every IT Match on a flow none of them claims,
// the cost each flow pays; it must not allocate.
func BenchmarkITMatch(b *testing.B) {
	f := tcpFlow([]byte("\x00\x01\x02 some binary protocol that nobody here knows"), []byte("\x10\x20ok"))
	u := udpFlow([][]byte{[]byte("\x01\x02\x03\x04 not a known datagram, long enough to be checked by several analyzers")}, nil)
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range itAnalyzers {
			a.Match(f)
			a.Match(u)
		}
	}
}

// TestITBestMatch checks that among all IT analyzers the right one wins
// (highest score, the earlier on a tie, as the engine picks) for every
// test flow.
func TestITBestMatch(t *testing.T) {
	apps := map[string]string{"FuzzDNS": "dns", "FuzzMDNS": "mdns", "FuzzLLMNR": "llmnr", "FuzzNetBIOS": "netbios",
		"FuzzSSDP": "ssdp", "FuzzTLS": "tls", "FuzzHTTP": "http", "FuzzDHCP": "dhcp", "FuzzSSH": "ssh", "FuzzNTP": "ntp",
		"FuzzFTP": "ftp", "FuzzTelnet": "telnet"}
	for target, flows := range itSeeds(t) {
		for name, f := range flows {
			best, score := "", 0.0
			for _, a := range itAnalyzers {
				if a.Proto != 0 && a.Proto != f.Proto {
					continue
				}
				if s := a.Match(f); s > score {
					best, score = a.App, s
				}
			}
			if best != apps[target] {
				t.Errorf("%s: labelled %q (%v), want %q", name, best, score, apps[target])
			}
		}
	}
}

// TestITEnough checks when the analyzers that wait for more than the
// first exchange let the engine decide.
func TestITEnough(t *testing.T) {
	t12, t13 := tlsFlows(t)["tls12 self-signed ecdsa"], tlsFlows(t)["tls13"]
	dora := dhcpFlows(t)["dora"]
	firstTwo := udpFlow([][]byte{dora.Orig.Data[:dora.Orig.Ends[0]]}, [][]byte{dora.Resp.Data[:dora.Resp.Ends[0]]})
	tests := []struct {
		name string
		a    Analyzer
		f    *Flow
		want bool
	}{
		{"tls 1.2 up to ServerHelloDone", tlsAnalyzer, t12, true},
		{"tls 1.2 ServerHello without the certificate", tlsAnalyzer, tcpFlow(t12.Orig.Data, firstRecord(t12.Resp.Data)), false},
		{"tls 1.3 ServerHello", tlsAnalyzer, t13, true},
		{"ClientHello cut", tlsAnalyzer, tcpFlow(t13.Orig.Data[:100], t13.Resp.Data), false},
		{"http heads whole", httpAnalyzer, tcpFlow([]byte(httpGet), []byte(httpOK)), true},
		{"http response head cut", httpAnalyzer, tcpFlow([]byte(httpGet), []byte(httpOK[:20])), false},
		{"ssh both lines", sshAnalyzer, sshFlows()["openssh"], true},
		{"ssh server line cut", sshAnalyzer, tcpFlow([]byte("SSH-2.0-a\r\n"), []byte("SSH-2.0-Open")), false},
		{"dhcp up to the ACK", dhcpAnalyzer, dora, true},
		{"dhcp DISCOVER and OFFER", dhcpAnalyzer, firstTwo, false},
		{"ftp PASS sent", ftpAnalyzer, cleartextFlows()["ftp login"], true},
		{"ftp USER only", ftpAnalyzer, tcpFlow([]byte("USER bob\r\n"), []byte("220 FTP\r\n331 Password?\r\n")), false},
		{"telnet never", telnetAnalyzer, cleartextFlows()["telnet login"], false},
	}
	for _, tc := range tests {
		if got := tc.a.Enough(tc.f); got != tc.want {
			t.Errorf("%s: Enough %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestITMatchAllocs checks that Match allocates nothing, on the test
// flows of every protocol: it runs on every flow.
func TestITMatchAllocs(t *testing.T) {
	for _, flows := range itSeeds(t) {
		for name, f := range flows {
			for _, a := range itAnalyzers {
				if n := testing.AllocsPerRun(5, func() { a.Match(f) }); n != 0 {
					t.Errorf("%s Match on %q: %v allocations", a.App, name, n)
				}
			}
		}
	}
}
