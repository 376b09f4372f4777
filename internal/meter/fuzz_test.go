package meter

import (
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// FuzzMeter feeds whatever the decoder makes of arbitrary frames (tunnels
// included) to a small table, with arbitrary time steps: nothing may
// panic, the cap must hold, and every session must be well formed.
func FuzzMeter(f *testing.F) {
	f.Add([]byte{}, uint16(1), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, step uint16, link uint8) {
		cfg := DefaultConfig()
		cfg.MaxFlows = 16
		cfg.Active = time.Second
		tab, err := New(cfg, func(s *schema.Session) {
			if s.UID == "" || s.End.Before(s.Start) {
				t.Fatalf("bad session %+v", s)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		d := decode.NewDecoder(decode.DefaultConfig())
		links := []decode.LinkType{decode.LinkEthernet, decode.LinkRaw, decode.LinkVXLANPayload}
		var p decode.Packet
		now := time.Unix(1700000000, 0)
		// Slide a window over the input so one input yields many packets.
		for i := 0; i < len(data); i += 7 {
			_ = d.Decode(data[i:], links[int(link)%len(links)], &decode.Tunnel{}, &p)
			now = now.Add(time.Duration(step) * time.Millisecond)
			p.Timestamp = now
			tab.Add(&p)
			if tab.Len() > cfg.MaxFlows {
				t.Fatalf("%d flows over the cap", tab.Len())
			}
		}
		tab.Advance(now.Add(time.Hour))
		tab.Flush("eof")
		if tab.Len() != 0 {
			t.Fatalf("%d flows after Flush", tab.Len())
		}
	})
}
