package dpi

import (
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Helpers shared by the OT analyzers' tests, and one fuzz target per
// analyzer. The seed corpora under testdata/fuzz/Fuzz<Name>/ are the table
// cases; regenerate them with
//
//	OSPREY_WRITE_OT_CORPUS=1 go test -run=TestOTWriteCorpus ./internal/dpi/

// otHex decodes hex written with spaces, newlines and "|" between fields.
func otHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", "\n", "", "\t", "", "|", "").Replace(s))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func otTCP(orig, resp []byte) *Flow {
	return &Flow{Proto: 6, Orig: Side{Data: orig, Complete: true}, Resp: Side{Data: resp, Complete: true}}
}

func otSide(msgs [][]byte) Side {
	s := Side{Complete: true}
	for _, m := range msgs {
		s.Data = append(s.Data, m...)
		s.Ends = append(s.Ends, len(s.Data))
	}
	return s
}

func otUDP(orig, resp [][]byte) *Flow {
	return &Flow{Proto: 17, Orig: otSide(orig), Resp: otSide(resp)}
}

// otChunks cuts b into datagrams of size bytes; 0 means one datagram.
func otChunks(b []byte, size int) [][]byte {
	if size <= 0 || size >= len(b) {
		if len(b) == 0 {
			return nil
		}
		return [][]byte{b}
	}
	var msgs [][]byte
	for len(b) > size {
		msgs, b = append(msgs, b[:size]), b[size:]
	}
	return append(msgs, b)
}

// otRun checks the analyzer contract on one flow: Match is a number in
// [0, 1] and the same on a second call, and Decode never panics, even
// when Match said no.
func otRun(t *testing.T, a Analyzer, f *Flow) (float64, *schema.L7) {
	t.Helper()
	m := a.Match(f)
	if math.IsNaN(m) || m < 0 || m > 1 {
		t.Fatalf("%s: Match = %v, want within [0, 1]", a.App, m)
	}
	if again := a.Match(f); again != m {
		t.Fatalf("%s: Match gave %v then %v", a.App, m, again)
	}
	l7 := &schema.L7{}
	a.Decode(f, l7)
	return m, l7
}

// otSeed is one fuzz seed: both sides, and for UDP the datagram size.
type otSeed struct {
	name       string
	orig, resp []byte
	chunk      uint16
}

// otFuzz runs a fuzz target over a TCP analyzer, or over a UDP one when
// udp is set: chunk then cuts each side into datagrams (DNP3 runs over
// both, chunk 0 meaning TCP).
func otFuzz(f *testing.F, a Analyzer, udp bool, seeds []otSeed) {
	for _, s := range seeds {
		f.Add(s.orig, s.resp, s.chunk)
	}
	f.Fuzz(func(t *testing.T, orig, resp []byte, chunk uint16) {
		fl := otTCP(orig, resp)
		if udp || (a.Proto == 0 && chunk > 0) {
			fl = otUDP(otChunks(orig, int(chunk)), otChunks(resp, int(chunk)))
		}
		fl.Orig.Complete, fl.Resp.Complete = chunk%2 == 0, chunk%3 == 0
		otRun(t, a, fl)
	})
}

func FuzzMQTT(f *testing.F)   { otFuzz(f, mqttAnalyzer, false, otSeeds(f, "mqtt")) }
func FuzzModbus(f *testing.F) { otFuzz(f, modbusAnalyzer, false, otSeeds(f, "modbus")) }
func FuzzDNP3(f *testing.F)   { otFuzz(f, dnp3Analyzer, false, otSeeds(f, "dnp3")) }
func FuzzBACnet(f *testing.F) { otFuzz(f, bacnetAnalyzer, true, otSeeds(f, "bacnet")) }

// FuzzS7comm drives both ISO-on-TCP analyzers, S7comm and S7comm-plus.
func FuzzS7comm(f *testing.F) {
	for _, s := range otSeeds(f, "s7comm") {
		f.Add(s.orig, s.resp, s.chunk)
	}
	f.Fuzz(func(t *testing.T, orig, resp []byte, chunk uint16) {
		fl := otTCP(orig, resp)
		fl.Orig.Complete = chunk%2 == 0
		otRun(t, s7commAnalyzer, fl)
		otRun(t, s7plusAnalyzer, fl)
	})
}

// otSeeds returns the table cases of one protocol's tests as seeds.
func otSeeds(t testing.TB, app string) []otSeed {
	switch app {
	case "mqtt":
		return mqttSeeds(t)
	case "modbus":
		return modbusSeeds(t)
	case "dnp3":
		return dnp3Seeds(t)
	case "bacnet":
		return bacnetSeeds(t)
	case "s7comm":
		return s7Seeds(t)
	}
	t.Fatalf("no seeds for %s", app)
	return nil
}

// TestOTWriteCorpus writes the seeds as committed corpus files, in the
// format of `go test fuzz v1`, when OSPREY_WRITE_OT_CORPUS is set.
func TestOTWriteCorpus(t *testing.T) {
	if os.Getenv("OSPREY_WRITE_OT_CORPUS") == "" {
		t.Skip("set OSPREY_WRITE_OT_CORPUS=1 to rewrite testdata/fuzz/Fuzz{MQTT,Modbus,DNP3,BACnet,S7comm}/seed-*")
	}
	targets := map[string]string{"mqtt": "FuzzMQTT", "modbus": "FuzzModbus", "dnp3": "FuzzDNP3", "bacnet": "FuzzBACnet", "s7comm": "FuzzS7comm"}
	for app, target := range targets {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		for _, p := range old {
			os.Remove(p)
		}
		for _, s := range otSeeds(t, app) {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nuint16(%d)\n", s.orig, s.resp, s.chunk)
			name := "seed-" + strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
					return r
				}
				return '_'
			}, s.name)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestOTIdentify runs every OT case through the engine with no port to
// go by: each positive case must come out as its protocol, judged on
// content, and no negative one may.
func TestOTIdentify(t *testing.T) {
	e := NewEngine(DefaultLimits())
	suites := []struct {
		app   string
		cases []otCase
	}{
		{"modbus", modbusCases}, {"dnp3", dnp3Cases()}, {"bacnet", bacnetCases},
		{"s7comm", s7Cases}, {"s7comm-plus", s7plusCases},
	}
	for _, c := range mqttCases {
		suites = append(suites, struct {
			app   string
			cases []otCase
		}{"mqtt", []otCase{{name: c.name, orig: c.orig, resp: c.resp, cut: c.cut, match: c.match}}})
	}
	for _, s := range suites {
		for _, c := range s.cases {
			t.Run(s.app+"/"+c.name, func(t *testing.T) {
				app, l7 := e.Identify(c.flow(t))
				switch {
				case c.match > 0 && (app != s.app || l7 == nil || l7.By != "content"):
					t.Errorf("Identify = %q (%+v), want %q by content", app, l7, s.app)
				case c.match == 0 && app == s.app:
					t.Errorf("Identify = %q, want another label", app)
				}
			})
		}
	}
}
