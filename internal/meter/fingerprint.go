package meter

import (
	"strconv"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// synSig is the shape of a SYN (or SYN-ACK): what operating systems
// differ in when they open a connection (window, MSS, window scale, and
// which TCP options in which order).
type synSig struct {
	window, mss uint16
	ttl, wscale uint8
	n           uint8
	kinds       [10]uint8
}

// noteSYN keeps the first SYN (the originator's) and SYN-ACK (the
// responder's) of a flow, in its side entry.
func (t *Table) noteSYN(num uint32, p *decode.Packet) {
	i := 0
	if p.TCPFlags&decode.TCPFlagACK != 0 {
		i = 1
	}
	sigs := &t.sideFor(num).syn
	if sigs[i].ttl != 0 {
		return
	}
	s := &sigs[i]
	s.window, s.ttl = p.Window, max(p.TTL, 1)
	opts := p.TCPOptions
	for len(opts) > 0 && int(s.n) < len(s.kinds) {
		kind := opts[0]
		s.kinds[s.n] = kind
		s.n++
		if kind == 0 { // end of options
			break
		}
		if kind == 1 { // no-op, one byte
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || int(opts[1]) < 2 || int(opts[1]) > len(opts) {
			break
		}
		switch {
		case kind == 2 && opts[1] == 4:
			s.mss = uint16(opts[2])<<8 | uint16(opts[3])
		case kind == 3 && opts[1] == 3:
			s.wscale = opts[2]
		}
		opts = opts[opts[1]:]
	}
}

var optionNames = [...]string{0: "eol", 1: "nop", 2: "mss", 3: "ws", 4: "sok", 8: "ts"}

// String formats the signature as "window:mss:wscale:options".
func (s *synSig) String() string {
	if s.ttl == 0 {
		return ""
	}
	b := make([]byte, 0, 48)
	b = strconv.AppendUint(b, uint64(s.window), 10)
	b = strconv.AppendUint(append(b, ':'), uint64(s.mss), 10)
	b = strconv.AppendUint(append(b, ':'), uint64(s.wscale), 10)
	b = append(b, ':')
	for i := 0; i < int(s.n); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if k := s.kinds[i]; int(k) < len(optionNames) && optionNames[k] != "" {
			b = append(b, optionNames[k]...)
		} else {
			b = strconv.AppendUint(b, uint64(k), 10)
		}
	}
	return string(b)
}

// writeFingerprints fills the session's TTLs and SYN signatures.
func (side *sideEntry) writeFingerprints(orig, resp *schema.Endpoint) {
	if sigs := &side.syn; sigs[0].ttl != 0 || sigs[1].ttl != 0 {
		orig.TTL, orig.TCPSig = sigs[0].ttl, sigs[0].String()
		resp.TTL, resp.TCPSig = sigs[1].ttl, sigs[1].String()
	}
}
