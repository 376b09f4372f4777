package dpi

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// The fuzz targets feed arbitrary payloads to each IT analyzer's Match
// and Decode; their seeds (testdata/fuzz/FuzzX) are the tests' flows,
// written by: go test -run TestWriteITSeeds -write-it-seeds ./internal/dpi/
var writeITSeeds = flag.Bool("write-it-seeds", false, "rewrite the IT fuzz seed corpora from the test flows")

// Fuzz input flags.
const (
	fuzzComplete = 1 << iota
	fuzzTCP      // for analyzers of both transports
)

// fuzzSide builds a side from fuzz bytes: a TCP stream as is, UDP
// datagrams framed by a 2-byte length (the last takes what is left).
func fuzzSide(b []byte, tcp, complete bool) Side {
	s := Side{Complete: complete}
	if tcp {
		s.Data = b
		return s
	}
	for len(b) > 0 {
		n := len(b)
		if len(b) >= 2 {
			n = min(int(binary.BigEndian.Uint16(b)), len(b)-2)
			b = b[2:]
		}
		s.Data = append(s.Data, b[:n]...)
		s.Ends = append(s.Ends, len(s.Data))
		b = b[n:]
	}
	return s
}

// frame is the inverse of fuzzSide for UDP.
func frame(s Side) []byte {
	var out []byte
	s.Msgs(func(m []byte) bool {
		out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
		return true
	})
	return out
}

// fuzzAnalyzer checks that Match stays in [0, 1] and that neither Match,
// Enough nor Decode panics; Decode runs even when Match said no.
func fuzzAnalyzer(f *testing.F, a Analyzer) {
	f.Fuzz(func(t *testing.T, orig, resp []byte, flags uint8) {
		tcp := a.Proto == 6 || a.Proto == 0 && flags&fuzzTCP != 0
		fl := &Flow{Proto: 17, Orig: fuzzSide(orig, tcp, flags&fuzzComplete != 0), Resp: fuzzSide(resp, tcp, flags&fuzzComplete != 0)}
		if tcp {
			fl.Proto = 6
		}
		if s := a.Match(fl); s < 0 || s > 1 {
			t.Fatalf("Match %v out of [0, 1]", s)
		}
		if a.Enough != nil {
			a.Enough(fl)
		}
		a.Decode(fl, &schema.L7{})
	})
}

func FuzzDNS(f *testing.F)     { fuzzAnalyzer(f, dnsAnalyzer) }
func FuzzMDNS(f *testing.F)    { fuzzAnalyzer(f, mdnsAnalyzer) }
func FuzzLLMNR(f *testing.F)   { fuzzAnalyzer(f, llmnrAnalyzer) }
func FuzzNetBIOS(f *testing.F) { fuzzAnalyzer(f, netbiosAnalyzer) }
func FuzzSSDP(f *testing.F)    { fuzzAnalyzer(f, ssdpAnalyzer) }
func FuzzTLS(f *testing.F)     { fuzzAnalyzer(f, tlsAnalyzer) }
func FuzzHTTP(f *testing.F)    { fuzzAnalyzer(f, httpAnalyzer) }
func FuzzDHCP(f *testing.F)    { fuzzAnalyzer(f, dhcpAnalyzer) }
func FuzzSSH(f *testing.F)     { fuzzAnalyzer(f, sshAnalyzer) }
func FuzzNTP(f *testing.F)     { fuzzAnalyzer(f, ntpAnalyzer) }
func FuzzFTP(f *testing.F)     { fuzzAnalyzer(f, ftpAnalyzer) }
func FuzzTelnet(f *testing.F)  { fuzzAnalyzer(f, telnetAnalyzer) }

// itSeeds maps each fuzz target to the test flows that seed it.
func itSeeds(t testing.TB) map[string]map[string]*Flow {
	names := nameFlows(t)
	pick := func(prefix string) map[string]*Flow { return pickFlows(names, prefix) }
	tlsSeeds := tlsFlows(t)
	tlsSeeds["ja4 spec hello"] = tcpFlow(specHello(true, true, []uint16{0x0403, 0x0804}), nil)
	return map[string]map[string]*Flow{
		"FuzzDNS": dnsFlows(t), "FuzzMDNS": pick("mdns"), "FuzzLLMNR": pick("llmnr"), "FuzzNetBIOS": pick("netbios"),
		"FuzzSSDP": ssdpFlows(), "FuzzTLS": tlsSeeds, "FuzzHTTP": httpFlows(), "FuzzDHCP": dhcpFlows(t),
		"FuzzSSH": sshFlows(), "FuzzNTP": ntpFlows(), "FuzzFTP": pickFlows(cleartextFlows(), "ftp"),
		"FuzzTelnet": pickFlows(cleartextFlows(), "telnet"),
	}
}

func pickFlows(m map[string]*Flow, prefix string) map[string]*Flow {
	out := map[string]*Flow{}
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// TestWriteITSeeds writes the seed corpora in go's corpus file format.
func TestWriteITSeeds(t *testing.T) {
	if !*writeITSeeds {
		t.Skip("run with -write-it-seeds to rewrite testdata/fuzz")
	}
	for target, flows := range itSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, fl := range flows {
			orig, resp := fl.Orig.Data, fl.Resp.Data
			flags := uint8(fuzzComplete)
			if fl.Proto == 17 {
				orig, resp = frame(fl.Orig), frame(fl.Resp)
			} else {
				flags |= fuzzTCP
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nuint8(%d)\n", orig, resp, flags)
			file := "seed-" + strings.NewReplacer(" ", "-", "/", "-").Replace(name)
			if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
