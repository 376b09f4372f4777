package meter

import (
	"strconv"

	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// synShape is the shape of a SYN (or SYN-ACK): what operating systems
// differ in when they open a connection (window, MSS, window scale, and
// which TCP options in which order).
type synShape struct {
	window, mss uint16
	wscale, n   uint8
	kinds       [10]uint8
}

// maxShapes bounds the shapes a table tells apart. A network shows a few
// dozen; a flood with random windows could show millions, and past the
// bound its flows keep their TTLs but no shape.
const maxShapes = 1<<16 - 1

// sigTable numbers the SYN shapes seen, so that a flow keeps two small
// numbers instead of two shapes, and formats each shape once.
type sigTable struct {
	ids    map[synShape]uint16
	shapes []synShape // by id − 1
	strs   []string   // formatted, by id − 1; "" until first asked for
}

func (t *sigTable) id(s *synShape) uint16 {
	if id, ok := t.ids[*s]; ok {
		return id
	}
	if len(t.shapes) >= maxShapes {
		return 0
	}
	if t.ids == nil {
		t.ids = map[synShape]uint16{}
	}
	t.shapes = append(t.shapes, *s)
	t.strs = append(t.strs, "")
	id := uint16(len(t.shapes))
	t.ids[*s] = id
	return id
}

// str formats shape id as "window:mss:wscale:options" ("" for none).
func (t *sigTable) str(id uint16) string {
	if id == 0 {
		return ""
	}
	if s := t.strs[id-1]; s != "" {
		return s
	}
	s := t.shapes[id-1].String()
	t.strs[id-1] = s
	return s
}

// noteSYN keeps the shape of the first SYN (the originator's) and SYN-ACK
// (the responder's) of a flow, in its side entry.
func (t *Table) noteSYN(num uint32, p *decode.Packet) {
	i := 0
	if p.TCPFlags&decode.TCPFlagACK != 0 {
		i = 1
	}
	e := t.sides.getOrAdd(num)
	if e.ttl[i] != 0 {
		return
	}
	s := synShape{window: p.Window}
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
	e.ttl[i], e.sig[i] = max(p.TTL, 1), t.sides.sigs.id(&s)
}

var optionNames = [...]string{0: "eol", 1: "nop", 2: "mss", 3: "ws", 4: "sok", 8: "ts"}

func (s *synShape) String() string {
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
func (s *sideTable) writeFingerprints(e *sideEntry, orig, resp *schema.Endpoint) {
	if e.ttl[0] != 0 || e.ttl[1] != 0 {
		orig.TTL, orig.TCPSig = e.ttl[0], s.sigs.str(e.sig[0])
		resp.TTL, resp.TCPSig = e.ttl[1], s.sigs.str(e.sig[1])
	}
}
