package main

import (
	"bufio"
	"fmt"
	"os"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/decode"
)

// rejectWriter is the dead-letter file for frames that did not decode:
// a pcapng (gopacket's writer) with one interface per link type, so they
// can be inspected with Wireshark and replayed once the decoder learns
// more. The decode error is the packet's comment.
type rejectWriter struct {
	mu     sync.Mutex
	f      *os.File
	bw     *bufio.Writer
	w      *pcapgo.NgWriter
	ifaces map[decode.LinkType]int
	n      uint64
}

func newRejectWriter(path string) (*rejectWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(f)
	w, err := pcapgo.NewNgWriterInterface(bw, pcapgo.NgInterface{Name: "rejects", LinkType: layers.LinkTypeEthernet,
		TimestampResolution: 9, SnapLength: 0}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &rejectWriter{f: f, bw: bw, w: w, ifaces: map[decode.LinkType]int{decode.LinkEthernet: 0}}, nil
}

// write records one frame; UDP listener payloads (Osprey's own link
// types) are stored as LINKTYPE_USER0 on an interface named after them.
func (r *rejectWriter) write(f *capture.Frame, cause error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.ifaces[f.LinkType]
	if !ok {
		intf := pcapgo.NgInterface{Name: fmt.Sprintf("linktype-%d", f.LinkType), LinkType: layers.LinkType(f.LinkType), TimestampResolution: 9}
		switch f.LinkType {
		case decode.LinkVXLANPayload:
			intf.Name, intf.LinkType = "vxlan-payload", 147
		case decode.LinkGENEVEPayload:
			intf.Name, intf.LinkType = "geneve-payload", 147
		}
		var err error
		if id, err = r.w.AddInterface(intf); err != nil {
			return err
		}
		r.ifaces[f.LinkType] = id
	}
	r.n++
	ci := gopacket.CaptureInfo{Timestamp: f.Timestamp, CaptureLength: len(f.Data), Length: f.WireLen, InterfaceIndex: id}
	return r.w.WritePacketWithOptions(ci, f.Data, pcapgo.NgPacketOptions{Comments: []string{cause.Error()}})
}

func (r *rejectWriter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.w.Flush()
	if ferr := r.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
