package dpi

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestTCPReassembly(t *testing.T) {
	lim := Limits{Bytes: 16, Packets: 8, Flows: 10}
	type seg struct {
		seq  uint32
		syn  bool
		data string
	}
	tests := []struct {
		name     string
		segs     []seg
		want     string
		complete bool
	}{
		{"in order after SYN", []seg{{100, true, ""}, {101, false, "abc"}, {104, false, "def"}}, "abcdef", true},
		{"no SYN seen starts at first data", []seg{{500, false, "abc"}, {503, false, "d"}}, "abcd", true},
		{"out of order fills the gap", []seg{{100, true, ""}, {104, false, "def"}, {101, false, "abc"}}, "abcdef", true},
		{"retransmission overlaps", []seg{{100, true, ""}, {101, false, "abc"}, {102, false, "bcdE"}}, "abcdE", true},
		{"old duplicate ignored", []seg{{100, true, ""}, {101, false, "abcd"}, {101, false, "ab"}}, "abcd", true},
		{"gap never filled", []seg{{100, true, ""}, {101, false, "ab"}, {110, false, "x"}}, "ab", false},
		{"cut at the byte limit", []seg{{0, true, ""}, {1, false, "0123456789"}, {11, false, "abcdefghij"}}, "0123456789abcdef", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(lim, nil)
			h := e.Start(6)
			for _, s := range tc.segs {
				e.Feed(h, Meta{}, 0, s.seq, s.syn, []byte(s.data))
			}
			side := e.states[h-1].flow(Meta{}).Orig
			if string(side.Data) != tc.want || side.Complete != tc.complete {
				t.Errorf("got %q complete=%v, want %q complete=%v", side.Data, side.Complete, tc.want, tc.complete)
			}
		})
	}
}

func TestUDPDatagramsAndLimits(t *testing.T) {
	lim := Limits{Bytes: 10, Packets: 3, Flows: 1}
	e := newEngine(lim, nil)
	e.Start(17)
	if e.Start(17) != 0 || e.Stats().OverCapacity != 1 {
		t.Fatal("a second flow past Limits.Flows was buffered")
	}
	st := &State{proto: 17}
	for _, d := range []string{"abc", "de", "fghijkl"} {
		st.feed(&lim, 1, 0, false, []byte(d))
	}
	side := st.flow(Meta{OrigSide: 1}).Orig
	var msgs []string
	side.Msgs(func(m []byte) bool { msgs = append(msgs, string(m)); return true })
	if diff := cmp.Diff([]string{"abc", "de", "fghij"}, msgs); diff != "" || side.Complete {
		t.Errorf("datagrams (-want +got):\n%s complete=%v", diff, side.Complete)
	}
	if full := st.feed(&lim, 0, 0, false, []byte("x")); full {
		t.Error("full before the other side filled")
	}
}

// fake analyzers: "alpha" recognises a prefix anywhere, "beta" on its port only.
var fakes = []Analyzer{
	{App: "alpha", Proto: 6, Ports: []uint16{1000},
		Match: func(f *Flow) float64 {
			if bytes.HasPrefix(f.Orig.Data, []byte("ALPHA")) {
				return 0.95
			}
			return 0
		},
		Decode: func(f *Flow, l7 *schema.L7) { l7.Names = []string{string(f.Resp.Data)} }},
	{App: "beta", Proto: 0, Ports: []uint16{2000}, Match: func(*Flow) float64 { return 0 }, Decode: func(*Flow, *schema.L7) {}},
}

func TestIdentify(t *testing.T) {
	tests := []struct {
		name            string
		proto           uint8
		orig, resp      string
		origP, respP    uint16
		wantApp, wantBy string
		wantConf        float64
	}{
		{"content on its own port", 6, "ALPHA hello", "srv", 40000, 1000, "alpha", "content", 0.95},
		{"content on another port", 6, "ALPHA hello", "srv", 40000, 8080, "alpha", "content", 0.95},
		{"port fallback, server side", 17, "????", "", 40000, 2000, "beta", "port", portConfidence},
		{"port fallback, client side", 17, "????", "", 2000, 40000, "beta", "port", clientPortConfidence},
		{"unknown", 6, "????", "", 40000, 40001, "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(DefaultLimits(), fakes)
			st := e.Start(tc.proto)
			m := Meta{OrigSide: 1, OrigPort: tc.origP, RespPort: tc.respP} // side 1 is the orig here
			e.Feed(st, m, 1, 0, false, []byte(tc.orig))
			e.Feed(st, m, 0, 0, false, []byte(tc.resp))
			app, l7 := e.Decide(st, m)
			if app != tc.wantApp {
				t.Fatalf("app %q, want %q", app, tc.wantApp)
			}
			if tc.wantBy == "" {
				if l7 != nil {
					t.Fatalf("l7 %+v for an unknown flow", l7)
				}
				return
			}
			if l7.By != tc.wantBy || l7.Confidence != tc.wantConf {
				t.Errorf("by %q conf %v, want %q %v", l7.By, l7.Confidence, tc.wantBy, tc.wantConf)
			}
			if app == "alpha" && (len(l7.Names) != 1 || l7.Names[0] != tc.resp) {
				t.Errorf("decoder saw resp %v, want %q", l7.Names, tc.resp)
			}
			if early := e.Stats().Early; (tc.wantBy == "content") != (early == 1) {
				t.Errorf("decided early %d times; a sure match once both sides spoke should be early", early)
			}
			if len(e.free) != 1 || e.active != 0 {
				t.Errorf("%d states free, %d active; want 1 and 0", len(e.free), e.active)
			}
		})
	}
}

func TestUnknownFlowsStopBuffering(t *testing.T) {
	e := newEngine(DefaultLimits(), fakes)
	st := e.Start(17)
	if decided := e.Feed(st, Meta{OrigPort: 40000, RespPort: 40001}, 0, 0, false, []byte("????")); !decided {
		t.Fatal("a one-way UDP flow whose first datagram nothing recognised is still buffering")
	}
	if app, l7 := e.Decide(st, Meta{}); app != "" || l7 != nil || e.active != 0 || len(e.free) != 1 {
		t.Errorf("unknown flow: app %q l7 %v, %d active, %d states free", app, l7, e.active, len(e.free))
	}
	scan := e.Start(6)
	e.Feed(scan, Meta{}, 0, 1000, true, nil)
	if app, _ := e.Decide(scan, Meta{}); app != "" || e.active != 0 {
		t.Errorf("payload-less flow labelled %q", app)
	}
}
