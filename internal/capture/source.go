// Package capture owns packet sources: pcap and pcapng files (plain or
// gzip), directories, stdin, UDP listeners for VXLAN and GENEVE, and live
// capture through AF_PACKET. Sources deliver raw frames; decoding is done
// by the caller with package decode.
package capture

import (
	"context"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// Frame is one captured frame. Data is only valid during the handler call.
type Frame struct {
	Data       []byte
	Timestamp  time.Time
	CaptureLen int
	WireLen    int
	LinkType   decode.LinkType

	// For UDP listeners: the datagram's sender and the local address and
	// port it arrived on (the outer header the kernel removed).
	OuterSrc, OuterDst netip.AddrPort
}

// Handler consumes frames of one stream. A source with several streams
// (one per UDP socket) calls it concurrently with distinct stream numbers;
// calls for one stream are never concurrent.
type Handler func(stream int, f *Frame) error

// Source is anything that produces frames.
type Source interface {
	// Name identifies the source in errors and metrics (a path, "udp:4789", "eth0").
	Name() string
	// Streams is the number of concurrent streams Run will use (≥ 1).
	Streams() int
	// Run delivers frames to h until the input ends (nil) or ctx is done
	// (ctx.Err()). An error from h stops the source and is returned.
	Run(ctx context.Context, h Handler) error
}
