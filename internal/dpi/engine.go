package dpi

import "github.com/osprey-ndr/osprey/internal/schema"

// Confidence of a label chosen by port alone: the server port is a hint,
// the client port a weaker one.
const (
	portConfidence       = 0.3
	clientPortConfidence = 0.1
)

// Early decisions: a content match at least this sure, once both
// directions have spoken, ends buffering; a flow gets a few tries.
const (
	sureEnough  = 0.8
	maxAttempts = 3
)

// Stats counts what the engine did.
type Stats struct {
	Inspected    uint64 // flows identified
	ByContent    uint64 // … by a decoder
	ByPort       uint64 // … by port alone
	Unknown      uint64 // flows with payload and no label
	Early        uint64 // flows decided before their buffers filled
	OverCapacity uint64 // flows not inspected because Limits.Flows were buffering
}

// Add sums o into s.
func (s *Stats) Add(o Stats) {
	s.Inspected += o.Inspected
	s.ByContent += o.ByContent
	s.ByPort += o.ByPort
	s.Unknown += o.Unknown
	s.Early += o.Early
	s.OverCapacity += o.OverCapacity
}

// Engine identifies the application of flows. One engine serves one meter
// table and is not safe for concurrent use.
type Engine struct {
	lim    Limits
	list   []Analyzer
	byPort map[uint32][]int  // proto<<16 | port → analyzers, for trying them first
	ports  map[uint32]string // proto<<16 | port → fallback label
	// states is the slab of flow states, by handle − 1; a freed slot
	// keeps its buffers' storage for the next flow, as most flows need
	// buffers for a moment only.
	states []State
	free   []uint32
	active int
	stats  Stats
	// flow is the Flow being matched: the analyzers take a *Flow through
	// function values, so a local one would move to the heap on every
	// attempt. Nothing keeps it past the call (Decode copies), which
	// matters as it may view the packet being fed (see State.view).
	flow Flow
	end  [1]int // Ends of a datagram matched where it lies (see State.view)
	strs strTable
}

// NewEngine returns an engine with every analyzer.
func NewEngine(lim Limits) *Engine { return newEngine(lim, analyzers()) }

func newEngine(lim Limits, list []Analyzer) *Engine {
	e := &Engine{lim: lim, list: list, byPort: map[uint32][]int{}, ports: portLabels(list)}
	for i, a := range e.list {
		for _, p := range a.Ports {
			for _, proto := range protosOf(a.Proto) {
				k := uint32(proto)<<16 | uint32(p)
				e.byPort[k] = append(e.byPort[k], i)
			}
		}
	}
	return e
}

func protosOf(p uint8) []uint8 {
	if p == 0 {
		return []uint8{6, 17}
	}
	return []uint8{p}
}

// Stats returns the counters.
func (e *Engine) Stats() Stats { return e.stats }

// Start begins buffering a flow at its first payload and returns its
// handle; 0 when Limits.Flows are buffering already.
func (e *Engine) Start(proto uint8) uint32 {
	if e.active >= e.lim.Flows {
		e.stats.OverCapacity++
		return 0
	}
	e.active++
	if n := len(e.free); n > 0 {
		h := e.free[n-1]
		e.free = e.free[:n-1]
		e.states[h-1].proto = proto
		return h
	}
	e.states = append(e.states, State{proto: proto})
	return uint32(len(e.states))
}

// release frees handle h's slot, keeping its buffers' storage.
func (e *Engine) release(h uint32) {
	st := &e.states[h-1]
	if !st.done {
		e.active--
	}
	st.b.reset()
	st.proto, st.attempts, st.done, st.app, st.l7 = 0, 0, false, "", nil
	e.free = append(e.free, h)
}

// Feed adds a packet from buffer side 0 or 1 (see State.feed) and decides
// as soon as it can: when both directions have spoken and a decoder is
// sure, or when the buffers are full. It reports whether the flow is
// decided; Decide then hands over the result. A SYN without payload
// tells where a TCP stream begins.
func (e *Engine) Feed(h uint32, m Meta, side int, seq uint32, syn bool, payload []byte) bool {
	st := &e.states[h-1]
	if st.done {
		return true
	}
	tried := false
	if v, ok := st.view(&e.lim, side, seq, syn, payload, &e.end); ok && st.attempts < maxAttempts {
		// The first payload of a side that neither fills the flow nor
		// waits for a gap is matched where it lies, and copied only if
		// the flow stays undecided: most flows are decided by the first
		// answer (or, one-way, by their first datagram), whose copy
		// would be thrown away at once.
		spoke := len(st.b[1-side].Data) > 0
		if spoke || st.proto == 17 {
			tried = true
			f := e.flowOf(st, m)
			if side == m.OrigSide {
				f.Orig = v
			} else {
				f.Resp = v
			}
			if e.attempt(st, f, spoke) {
				return true
			}
		}
	}
	full := st.feed(&e.lim, side, seq, syn, payload)
	spoke := st.spoke()
	if !tried && !full && st.attempts < maxAttempts && len(payload) > 0 && (spoke || st.proto == 17) {
		if e.attempt(st, e.flowOf(st, m), spoke) {
			return true
		}
	}
	if full {
		e.decide(st, m)
		return true
	}
	return false
}

// attempt tries to decide st early from f, what its buffers hold; it
// reports whether it did.
func (e *Engine) attempt(st *State, f *Flow, spoke bool) bool {
	st.attempts++
	i, score := e.best(f)
	if score >= sureEnough && e.enough(i, f, spoke) {
		e.stats.Early++
		e.finish(st, f, i, score)
		return true
	}
	if i < 0 && (st.attempts == maxAttempts || (st.proto == 17 && !spoke)) {
		// Nothing recognised the first messages (for UDP, the first
		// datagram): more of the same will not help, and an unknown
		// flow should not hold buffers until it goes idle.
		e.finish(st, f, -1, 0)
		return true
	}
	return false
}

// enough reports whether analyzer i has what it needs: by default once
// both sides spoke, else as its Enough says.
func (e *Engine) enough(i int, f *Flow, bothSpoke bool) bool {
	if en := e.list[i].Enough; en != nil {
		return en(f)
	}
	return bothSpoke
}

// Release forgets a flow that ends without its result being taken.
func (e *Engine) Release(h uint32) { e.release(h) }

// Decide identifies the flow of handle h if it is not yet decided, and
// returns the result and frees the handle.
func (e *Engine) Decide(h uint32, m Meta) (string, *schema.L7) {
	st := &e.states[h-1]
	e.decide(st, m)
	app, l7 := st.app, st.l7
	e.release(h)
	return app, l7
}

func (e *Engine) decide(st *State, m Meta) {
	if st.done {
		return
	}
	if len(st.b[0].Data)+len(st.b[1].Data) == 0 { // no payload came
		st.done = true
		e.active--
		return
	}
	f := e.flowOf(st, m)
	i, score := e.best(f)
	e.finish(st, f, i, score)
}

// flowOf fills the engine's Flow from st's buffers.
func (e *Engine) flowOf(st *State, m Meta) *Flow {
	e.flow = st.flow(m)
	e.flow.strs = &e.strs
	return &e.flow
}

// finish labels st with analyzer i (or by port when i < 0) and counts it.
func (e *Engine) finish(st *State, f *Flow, i int, score float64) {
	st.app, st.l7 = e.label(f, i, score)
	st.done = true
	e.stats.Inspected++
	switch {
	case st.l7 == nil:
		e.stats.Unknown++
	case st.l7.By == "content":
		e.stats.ByContent++
	default:
		e.stats.ByPort++
	}
	e.active--
}

// Identify labels a flow outside the meter (tests, tools).
func (e *Engine) Identify(f *Flow) (string, *schema.L7) {
	i, score := e.best(f)
	return e.label(f, i, score)
}

// best tries the analyzers of the flow's ports first, then the others
// unless a hinted one is already near-certain, and returns the most
// confident content match (-1 for none).
func (e *Engine) best(f *Flow) (int, float64) {
	best, bestScore := -1, 0.0
	try := func(i int) {
		a := &e.list[i]
		if a.Proto != 0 && a.Proto != f.Proto {
			return
		}
		if s := a.Match(f); s > bestScore {
			best, bestScore = i, s
		}
	}
	resp, orig := e.byPort[uint32(f.Proto)<<16|uint32(f.RespPort)], e.byPort[uint32(f.Proto)<<16|uint32(f.OrigPort)]
	for _, i := range resp {
		try(i)
	}
	for _, i := range orig {
		try(i)
	}
	if bestScore < 0.9 {
		for i := range e.list {
			if !contains(resp, i) && !contains(orig, i) {
				try(i)
			}
		}
	}
	return best, bestScore
}

// label decodes with analyzer i, or falls back on the server port, then
// the client port.
func (e *Engine) label(f *Flow, i int, score float64) (string, *schema.L7) {
	if i >= 0 {
		a := &e.list[i]
		var l7 *schema.L7
		if a.NewL7 != nil {
			l7 = a.NewL7()
		} else {
			l7 = new(schema.L7)
		}
		l7.By, l7.Confidence = "content", score
		a.Decode(f, l7)
		return a.App, l7
	}
	if app := e.portApp(f.Proto, f.RespPort); app != "" {
		return app, &schema.L7{By: "port", Confidence: portConfidence}
	}
	if app := e.portApp(f.Proto, f.OrigPort); app != "" {
		return app, &schema.L7{By: "port", Confidence: clientPortConfidence}
	}
	return "", nil
}

// portApp is the label a port suggests, or "".
func (e *Engine) portApp(proto uint8, port uint16) string {
	if port == 0 {
		return ""
	}
	return e.ports[uint32(proto)<<16|uint32(port)]
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
