package meter

import "github.com/osprey-ndr/osprey/internal/schema"

// sideEntry is what only some flows need: the SYN shapes of both ends
// and, with DPI, the application state or decision. It is 12 bytes and
// free of pointers, so that a table of a million TCP flows stays within
// its memory budget and the garbage collector never scans the entries;
// what holds pointers (DPI states, decoded L7 records) lives in slabs
// addressed by handles.
type sideEntry struct {
	// handle is the DPI state's handle while the flow is undecided, then
	// decidedBit | the handle of its L7 record in sideTable.results (0
	// for none).
	handle uint32
	app    uint16    // the decided label, an index in sideTable.apps
	ttl    [2]uint8  // of the originator's SYN and the responder's SYN-ACK
	sig    [2]uint16 // their shapes, indexes in sideTable.sigs
}

const decidedBit = 1 << 31

func (e *sideEntry) undecided() uint32 {
	if e.handle&decidedBit != 0 {
		return 0
	}
	return e.handle
}

// sideTable holds the side entries of a Table in pages beside its flow
// pages, a page allocated once one of its flows needs an entry: TCP flows
// all do, so an index per flow to separate entries would cost more.
type sideTable struct {
	pages   [][]sideEntry
	results slab[*schema.L7]
	apps    strIndex
	sigs    sigTable
}

// addPage makes room for the side entries of a new flow page.
func (s *sideTable) addPage() { s.pages = append(s.pages, nil) }

// get returns flow num's side entry, nil when its page has none.
func (s *sideTable) get(num uint32) *sideEntry {
	if p := s.pages[num>>pageBits]; p != nil {
		return &p[num&(pageSize-1)]
	}
	return nil
}

// getOrAdd returns flow num's side entry, allocating its page.
func (s *sideTable) getOrAdd(num uint32) *sideEntry {
	p := &s.pages[num>>pageBits]
	if *p == nil {
		*p = make([]sideEntry, pageSize)
	}
	return &(*p)[num&(pageSize-1)]
}

// remove clears flow num's side entry and frees what it holds; it
// returns the DPI handle of a flow that ended undecided, for the engine
// to release.
func (s *sideTable) remove(num uint32) (state uint32) {
	e := s.get(num)
	if e == nil {
		return 0
	}
	state = e.undecided()
	if r := e.handle &^ decidedBit; state == 0 && r != 0 {
		s.results.take(r)
	}
	*e = sideEntry{}
	return state
}

// slab holds values addressed by handles (1 + index) and reuses the
// slots of values taken out.
type slab[T any] struct {
	v    []T
	free []uint32
}

func (s *slab[T]) put(x T) uint32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		s.v[i] = x
		return i + 1
	}
	s.v = append(s.v, x)
	return uint32(len(s.v))
}

func (s *slab[T]) at(h uint32) T { return s.v[h-1] }

// take returns the value of handle h and frees its slot.
func (s *slab[T]) take(h uint32) T {
	x := s.v[h-1]
	var zero T
	s.v[h-1] = zero
	s.free = append(s.free, h-1)
	return x
}

// strIndex numbers a small, fixed set of strings (application labels
// come from the analyzers and the port table); index 0 is "".
type strIndex struct {
	ids   map[string]uint16
	names []string
}

func (x *strIndex) id(s string) uint16 {
	if s == "" {
		return 0
	}
	if id, ok := x.ids[s]; ok {
		return id
	}
	if x.ids == nil {
		x.ids, x.names = map[string]uint16{}, []string{""}
	}
	if len(x.names) > 1<<16-1 {
		panic("meter: more than 65535 application labels")
	}
	x.names = append(x.names, s)
	x.ids[s] = uint16(len(x.names) - 1)
	return uint16(len(x.names) - 1)
}

func (x *strIndex) name(id uint16) string {
	if id == 0 {
		return ""
	}
	return x.names[id]
}
