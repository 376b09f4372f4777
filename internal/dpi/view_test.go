package dpi

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestViewIsFeed checks State.view against State.feed: where view
// accepts a payload, its side is what feeding the payload makes of the
// buffers, and where it declines, feeding has to sort something out.
func TestViewIsFeed(t *testing.T) {
	lim := Limits{Bytes: 8, Packets: 4, Flows: 10}
	type pkt struct {
		side int
		seq  uint32
		syn  bool
		data string
	}
	tests := []struct {
		name   string
		proto  uint8
		before []pkt // fed first
		next   pkt
		view   bool
	}{
		{"tcp first payload", 6, nil, pkt{0, 100, false, "abc"}, true},
		{"tcp after SYN, in order", 6, []pkt{{0, 99, true, ""}}, pkt{0, 100, false, "abc"}, true},
		{"tcp after SYN, a gap", 6, []pkt{{0, 99, true, ""}}, pkt{0, 105, false, "abc"}, false},
		{"tcp after SYN, an overlap", 6, []pkt{{0, 99, true, ""}}, pkt{0, 98, false, "abc"}, false},
		{"tcp SYN with data", 6, nil, pkt{0, 99, true, "abc"}, false},
		{"tcp answer", 6, []pkt{{0, 100, false, "req"}}, pkt{1, 500, false, "resp"}, true},
		{"tcp answer cut at the limit", 6, []pkt{{0, 100, false, "req"}}, pkt{1, 500, false, "0123456789"}, true},
		{"tcp side already holds data", 6, []pkt{{0, 100, false, "ab"}}, pkt{0, 102, false, "cd"}, false},
		{"tcp answer fills a full flow", 6, []pkt{{0, 100, false, "01234567"}}, pkt{1, 500, false, "01234567"}, false},
		{"udp first datagram", 17, nil, pkt{0, 0, false, "query"}, true},
		{"udp datagram cut", 17, nil, pkt{0, 0, false, "0123456789"}, true},
		{"udp answer", 17, []pkt{{0, 0, false, "q"}}, pkt{1, 0, false, "answer"}, true},
		{"udp second datagram", 17, []pkt{{0, 0, false, "q1"}}, pkt{0, 0, false, "q2"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(lim, nil)
			st := &e.states[e.Start(tc.proto)-1]
			for _, p := range tc.before {
				st.feed(&lim, p.side, p.seq, p.syn, []byte(p.data))
			}
			var end [1]int
			v, ok := st.view(&lim, tc.next.side, tc.next.seq, tc.next.syn, []byte(tc.next.data), &end)
			if ok != tc.view {
				t.Fatalf("view ok = %v, want %v", ok, tc.view)
			}
			full := st.feed(&lim, tc.next.side, tc.next.seq, tc.next.syn, []byte(tc.next.data))
			if !ok {
				return
			}
			if full {
				t.Error("view accepted a payload that fills the flow")
			}
			fed := st.flow(Meta{}).Orig
			if tc.next.side == 1 {
				fed = st.flow(Meta{}).Resp
			}
			if diff := cmp.Diff(fed, v); diff != "" {
				t.Errorf("(-fed +view)\n%s", diff)
			}
		})
	}
}
