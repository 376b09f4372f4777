package netflow

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// datagram is one exporter packet read back from a capture.
type datagram struct {
	from    netip.AddrPort
	payload []byte
	ts      time.Time
}

// readDatagrams returns the UDP payloads of a capture of exporter
// traffic, in order.
func readDatagrams(t testing.TB, paths ...string) []datagram {
	t.Helper()
	var out []datagram
	dec := decode.NewDecoder(decode.Config{})
	var p decode.Packet
	src := capture.NewFileSource(paths, capture.FileOptions{OnError: func(err error) { t.Errorf("read: %v", err) }})
	err := src.Run(context.Background(), func(_ int, f *capture.Frame) error {
		if err := dec.Decode(f.Data, f.LinkType, nil, &p); err != nil || p.IPProto != 17 {
			t.Fatalf("frame is not UDP: %v", err)
		}
		out = append(out, datagram{netip.AddrPortFrom(p.Src, p.SrcPort), slices.Clone(p.Payload), f.Timestamp})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rejects collects bad input.
type rejects struct {
	mu  sync.Mutex
	got []collect.BadInput
}

func (r *rejects) Reject(b collect.BadInput) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b.Raw = slices.Clone(b.Raw)
	r.got = append(r.got, b)
}

func (r *rejects) all() []collect.BadInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// decodeAll runs datagrams through a fresh Decoder.
func decodeAll(t testing.TB, cfg Config, ds []datagram) ([]schema.Session, *rejects) {
	t.Helper()
	rj := &rejects{}
	d := NewDecoder(cfg, rj)
	var out []schema.Session
	for _, g := range ds {
		out = d.DecodePacket(g.from, g.payload, g.ts, out)
	}
	return out, rj
}
