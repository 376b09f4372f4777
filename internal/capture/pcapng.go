package capture

import (
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// pcapng block types read; others are skipped by their length.
const (
	blockSHB = 0x0a0d0d0a
	blockIDB = 0x00000001
	blockOPB = 0x00000002 // obsolete packet block
	blockSPB = 0x00000003
	blockEPB = 0x00000006
	// maxBlock bounds a block: a packet block of maxCaplen plus room for options.
	maxBlock = maxCaplen + 4096
	// maxMetaBlock bounds the blocks that are skipped unread and may be
	// larger than any packet: name resolution, decryption secrets (a TLS
	// key log grows with the capture), custom blocks.
	maxMetaBlock = 64 << 20
)

func metaBlock(typ uint32) bool {
	switch typ {
	case 4 /* NRB */, 0x0a /* DSB */, 0x0bad, 0x40000bad /* custom */ :
		return true
	}
	return false
}

// skipLarge passes over a metadata block too large to hold in the buffer,
// checking its trailing length at the end; nil means go on reading.
func (r *pcapngReader) skipLarge(typ uint32, blen int) error {
	start := r.off
	r.discard(blen - 4)
	t, err := r.peek(4)
	if len(t) < 4 {
		r.skip += uint64(r.off - start + int64(len(t)))
		if err != nil && !errors.Is(err, io.EOF) {
			return r.errorf(start, "block type %#x: %w", typ, err)
		}
		r.report(r.errorf(start, "block type %#x: length %d but only %d bytes left in file", typ, blen, r.off-start+int64(len(t))))
		return io.EOF
	}
	if trail := int(r.order.Uint32(t)); trail != blen {
		r.report(r.errorf(r.off, "block type %#x: trailing length %d differs from %d", typ, trail, blen))
		r.skip += uint64(r.off - start)
		r.resync()
		return nil
	}
	r.discard(4)
	return nil
}

type ngIface struct {
	link    decode.LinkType
	snaplen int // 0: unlimited
	// timestamp units per second and offset (if_tsresol, if_tsoffset)
	unitsPerSec uint64
	offsetSec   int64
}

// pcapngReader reads pcapng (draft-ietf-opsawg-pcapng): sections in
// either byte order, interfaces with their own link types and timestamp
// resolutions, enhanced, simple and obsolete packet blocks.
type pcapngReader struct {
	stream
	order  binary.ByteOrder
	ifaces []ngIface
}

func newPcapngReader(s stream) *pcapngReader {
	return &pcapngReader{stream: s, order: binary.LittleEndian}
}

func (r *pcapngReader) next(f *Frame) error {
	for {
		h, err := r.peek(12)
		if len(h) == 0 && err != nil {
			return r.end(err)
		}
		if len(h) < 12 {
			if !errors.Is(err, io.EOF) {
				return r.errorf(r.off, "block header: %w", err)
			}
			r.report(r.errorf(r.off, "block header: truncated (%d of 12 bytes at end of file)", len(h)))
			r.skip += uint64(len(h))
			return io.EOF
		}
		typ := r.order.Uint32(h)
		if typ == blockSHB { // the byte-order magic decides how to read the length
			switch binary.LittleEndian.Uint32(h[8:]) {
			case 0x1a2b3c4d:
				r.order = binary.LittleEndian
			case 0x4d3c2b1a:
				r.order = binary.BigEndian
			default:
				r.report(r.errorf(r.off+8, "section header: byte-order magic %#x", h[8:12]))
				r.resync()
				continue
			}
			r.ifaces = r.ifaces[:0]
		}
		blen := int(r.order.Uint32(h[4:]))
		if blen > maxBlock && blen <= maxMetaBlock && blen%4 == 0 && metaBlock(typ) {
			if err := r.skipLarge(typ, blen); err != nil {
				return err
			}
			continue
		}
		if blen < 12 || blen%4 != 0 || blen > maxBlock {
			r.report(r.errorf(r.off+4, "block type %#x: block length %d invalid", typ, blen))
			r.resync()
			continue
		}
		b, err := r.peek(blen)
		if len(b) < blen {
			r.report(r.errorf(r.off, "block type %#x: length %d but only %d bytes left in file", typ, blen, len(b)))
			r.skip += uint64(len(b))
			if err == nil || errors.Is(err, io.EOF) {
				return io.EOF
			}
			return r.errorf(r.off, "block: %w", err)
		}
		if trail := int(r.order.Uint32(b[blen-4:])); trail != blen {
			r.report(r.errorf(r.off+int64(blen)-4, "block type %#x: trailing length %d differs from %d", typ, trail, blen))
			r.resync()
			continue
		}
		ok, why := r.block(typ, b, f)
		if why != "" {
			r.report(r.errorf(r.off, "block type %#x: %s", typ, why))
		}
		r.discard(blen) // b stays valid until the next read
		if ok {
			return nil
		}
	}
}

// block interprets one whole block; ok means f holds a packet.
func (r *pcapngReader) block(typ uint32, b []byte, f *Frame) (ok bool, why string) {
	body := b[8 : len(b)-4]
	switch typ {
	case blockIDB:
		if len(body) < 8 {
			return false, "interface description: too short"
		}
		iface := ngIface{link: decode.LinkType(r.order.Uint16(body)), snaplen: int(r.order.Uint32(body[4:])), unitsPerSec: 1e6}
		r.options(body[8:], func(code uint16, v []byte) {
			switch {
			case code == 9 && len(v) >= 1: // if_tsresol
				iface.unitsPerSec = tsresol(v[0])
			case code == 14 && len(v) >= 8: // if_tsoffset
				iface.offsetSec = int64(r.order.Uint64(v))
			}
		})
		r.ifaces = append(r.ifaces, iface)
		return false, ""
	case blockEPB, blockOPB:
		if len(body) < 20 {
			return false, "packet block: too short"
		}
		var id uint64
		if typ == blockEPB {
			id = uint64(r.order.Uint32(body))
		} else {
			id = uint64(r.order.Uint16(body))
		}
		if id >= uint64(len(r.ifaces)) {
			return false, "packet block: unknown interface " + strconv.FormatUint(id, 10)
		}
		c := r.order.Uint32(body[12:])
		if uint64(c) > uint64(len(body)-20) {
			return false, "packet block: captured length " + strconv.FormatUint(uint64(c), 10) + " exceeds the block"
		}
		caplen := int(c)
		ts := uint64(r.order.Uint32(body[4:]))<<32 | uint64(r.order.Uint32(body[8:]))
		iface := r.ifaces[id]
		f.Timestamp = tsTime(ts, iface)
		f.CaptureLen = caplen
		f.WireLen = int(r.order.Uint32(body[16:]))
		f.LinkType = iface.link
		f.Data = body[20 : 20+caplen]
		return true, ""
	case blockSPB:
		if len(r.ifaces) == 0 || len(body) < 4 {
			return false, "simple packet block: no interface or too short"
		}
		// No captured length: the spec makes it the smallest of the
		// original length, the snaplen and what the block holds.
		orig := r.order.Uint32(body)
		caplen := int(min(uint64(orig), uint64(len(body)-4)))
		if sl := r.ifaces[0].snaplen; sl > 0 {
			caplen = min(caplen, sl)
		}
		f.Timestamp = time.Time{}
		f.CaptureLen = caplen
		f.WireLen = int(orig)
		f.LinkType = r.ifaces[0].link
		f.Data = body[4 : 4+caplen]
		return true, ""
	}
	return false, ""
}

// options walks pcapng options (code, length, value padded to 4).
func (r *pcapngReader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, l := r.order.Uint16(b), int(r.order.Uint16(b[2:]))
		if code == 0 || 4+l > len(b) {
			return
		}
		fn(code, b[4:4+l])
		b = b[4+(l+3)&^3:]
	}
}

// knownBlock lists the standard block types, so that resynchronisation
// does not stop at a random pair of equal 32-bit words.
func knownBlock(typ uint32) bool {
	switch typ {
	case blockSHB, blockIDB, blockOPB, blockSPB, 4 /* NRB */, 5 /* ISB */, blockEPB,
		0x0a /* DSB */, 0x0bad, 0x40000bad /* custom */ :
		return true
	}
	return false
}

func tsresol(v byte) uint64 {
	if v&0x80 != 0 {
		if e := v & 0x7f; e < 64 {
			return 1 << e
		}
		return 1e6
	}
	u := uint64(1)
	for range min(v, 19) {
		u *= 10
	}
	return u
}

func tsTime(ts uint64, iface ngIface) time.Time {
	sec := ts / iface.unitsPerSec
	rem := ts % iface.unitsPerSec
	// rem × 1e9 overflows 64 bits for resolutions finer than 2^-34 s;
	// rem < unitsPerSec keeps the 128-bit quotient within 64 bits.
	hi, lo := bits.Mul64(rem, 1e9)
	nsec, _ := bits.Div64(hi, lo, iface.unitsPerSec)
	return time.Unix(int64(sec)+iface.offsetSec, int64(nsec))
}

// resync moves forward 4 bytes at a time (blocks are 32-bit aligned) until
// a block whose leading and trailing lengths agree.
func (r *pcapngReader) resync() {
	start := r.off
	for {
		r.discard(4)
		h, _ := r.peek(12)
		if len(h) < 12 { // nothing plausible up to the end: skip the tail too
			r.discard(len(h))
			r.skip += uint64(r.off - start)
			return
		}
		if !r.plausible(h) {
			continue
		}
		blen := int(r.order.Uint32(h[4:]))
		// The candidate's trailing length must agree, and what follows
		// must be the end of the file or another plausible block header.
		b, _ := r.peek(blen + 8)
		if len(b) < blen || int(r.order.Uint32(b[blen-4:])) != blen {
			continue
		}
		if len(b) == blen || (len(b) == blen+8 && r.plausible(b[blen:])) {
			r.skip += uint64(r.off - start)
			return
		}
	}
}

// plausible says whether the 8 bytes of h could start a block.
func (r *pcapngReader) plausible(h []byte) bool {
	typ, blen := r.order.Uint32(h), r.order.Uint32(h[4:])
	if typ == blockSHB { // a new section may switch the byte order
		blen = binary.LittleEndian.Uint32(h[4:])
		if o := binary.BigEndian.Uint32(h[4:]); o < blen {
			blen = o
		}
	}
	return knownBlock(typ) && blen >= 12 && blen%4 == 0 && blen <= maxBlock
}
