package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// maxCaplen bounds one record: larger than any real snap length
// (tcpdump's maximum is 262144), so a bigger value means corruption.
const maxCaplen = 262144

type frameReader interface {
	next(f *Frame) error // io.EOF at the end
	skipped() uint64
}

// newReader detects pcap or pcapng from the first bytes.
func newReader(name string, in io.Reader, report func(error)) (frameReader, error) {
	s := newStream(name, in, report)
	magic, err := s.peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) && len(magic) == 0 {
			return nil, fmt.Errorf("%s: empty file", name)
		}
		return nil, fmt.Errorf("%s: offset 0: file header: %w", name, err)
	}
	switch binary.LittleEndian.Uint32(magic) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1:
		return newPcapReader(s)
	case 0x0a0d0d0a:
		return newPcapngReader(s), nil
	}
	return nil, fmt.Errorf("%s: offset 0: magic %#08x: not a pcap or pcapng file", name, binary.BigEndian.Uint32(magic))
}

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	stream
	order   binary.ByteOrder
	nano    bool
	link    decode.LinkType
	snaplen uint32
	lastSec uint32
}

func newPcapReader(s stream) (*pcapReader, error) {
	h, err := s.peek(24)
	if err != nil {
		return nil, s.errorf(0, "file header: truncated (%d of 24 bytes)", len(h))
	}
	r := &pcapReader{stream: s}
	switch binary.LittleEndian.Uint32(h) {
	case 0xa1b2c3d4:
		r.order = binary.LittleEndian
	case 0xd4c3b2a1:
		r.order = binary.BigEndian
	case 0xa1b23c4d:
		r.order, r.nano = binary.LittleEndian, true
	case 0x4d3cb2a1:
		r.order, r.nano = binary.BigEndian, true
	}
	// The link type's upper bits may carry an FCS length (pcap-linktype(7)).
	r.link = decode.LinkType(r.order.Uint32(h[20:]) & 0x0fffffff)
	r.snaplen = r.order.Uint32(h[16:])
	r.discard(24)
	return r, nil
}

// check validates a record header; "" means plausible. Only the length
// is checked: a timestamp fraction out of range happens in real files
// (time.Unix normalises it) and says nothing of where records start.
func (r *pcapReader) check(h []byte) string {
	switch incl := r.order.Uint32(h[8:]); {
	case r.caplenOK(incl):
		return ""
	case incl > maxCaplen:
		return fmt.Sprintf("caplen %d exceeds %d", incl, maxCaplen)
	default:
		return fmt.Sprintf("caplen %d exceeds snaplen %d", incl, r.snaplen)
	}
}

// caplenOK is check without the message, for resync's every byte (the
// message cost 150 ns a byte: 6.5 MB/s through damage).
func (r *pcapReader) caplenOK(incl uint32) bool {
	// Some writers put a snaplen smaller than what they wrote, so only a
	// caplen far beyond it is taken for corruption.
	return incl <= maxCaplen && (r.snaplen == 0 || uint64(incl) <= 2*uint64(r.snaplen)+1024)
}

// candidate is stricter than check: used while resynchronising, where a
// random 16 bytes must not pass for a record header.
func (r *pcapReader) candidate(h []byte) bool {
	incl, orig, frac := r.order.Uint32(h[8:]), r.order.Uint32(h[12:]), r.order.Uint32(h[4:])
	if !r.caplenOK(incl) || incl > orig || orig > 1<<20 || (r.nano && frac >= 1e9) || (!r.nano && frac >= 1e6) {
		return false
	}
	if sec := r.order.Uint32(h); r.lastSec != 0 && (sec+86400 < r.lastSec || sec > r.lastSec+86400) {
		return false
	}
	return true
}

func (r *pcapReader) next(f *Frame) error {
	for {
		h, err := r.peek(16)
		if len(h) == 0 && err != nil {
			return r.end(err)
		}
		if len(h) < 16 {
			if !errors.Is(err, io.EOF) {
				return r.errorf(r.off, "record header: %w", err)
			}
			r.report(r.errorf(r.off, "record header: truncated (%d of 16 bytes at end of file)", len(h)))
			r.skip += uint64(len(h))
			return io.EOF
		}
		if why := r.check(h); why != "" {
			r.report(r.errorf(r.off, "record header: %s", why))
			r.resync()
			continue
		}
		incl := int(r.order.Uint32(h[8:]))
		rec, err := r.peek(16 + incl)
		if len(rec) < 16+incl {
			r.report(r.errorf(r.off, "record: caplen %d but only %d bytes left in file", incl, len(rec)-16))
			r.skip += uint64(len(rec))
			if err == nil || errors.Is(err, io.EOF) {
				return io.EOF
			}
			return r.errorf(r.off, "record: %w", err)
		}
		sec, frac := int64(r.order.Uint32(rec)), int64(r.order.Uint32(rec[4:]))
		if !r.nano {
			frac *= 1000
		}
		r.lastSec = uint32(sec)
		f.Timestamp = time.Unix(sec, frac)
		f.CaptureLen = incl
		f.WireLen = int(r.order.Uint32(rec[12:]))
		f.LinkType = r.link
		f.Data = rec[16 : 16+incl]
		r.discard(16 + incl) // rec stays valid until the next read
		return nil
	}
}

// resync moves forward byte by byte until a record header passes
// candidate() and the record after it also does (or ends exactly at EOF).
func (r *pcapReader) resync() {
	start := r.off
	for {
		r.discard(1)
		h, _ := r.peek(16)
		if len(h) < 16 { // nothing plausible up to the end: skip the tail too
			r.discard(len(h))
			r.skip += uint64(r.off - start)
			return
		}
		if !r.candidate(h) {
			continue
		}
		incl := int(r.order.Uint32(h[8:]))
		both, _ := r.peek(16 + incl + 16)
		if len(both) == 16+incl || (len(both) == 32+incl && r.candidate(both[16+incl:])) {
			r.skip += uint64(r.off - start)
			return
		}
	}
}
