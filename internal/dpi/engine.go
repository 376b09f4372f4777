package dpi

import (
	"sort"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Confidence of a label chosen by port alone: the server port is a hint,
// the client port a weaker one.
const (
	portConfidence       = 0.3
	clientPortConfidence = 0.1
)

// Stats counts what the engine did.
type Stats struct {
	Inspected    uint64 // flows identified
	ByContent    uint64 // … by a decoder
	ByPort       uint64 // … by port alone
	Unknown      uint64 // flows with payload and no label
	OverCapacity uint64 // flows not inspected because Limits.Flows were buffering
}

// Engine identifies the application of flows. One engine serves one meter
// table and is not safe for concurrent use.
type Engine struct {
	lim    Limits
	list   []Analyzer
	byPort map[uint32][]int // proto<<16 | port → analyzers, for trying them first
	ports  map[uint32]string // proto<<16 | port → fallback label
	active int
	stats  Stats
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

// Start begins buffering a flow; nil when Limits.Flows are buffering already.
func (e *Engine) Start(proto uint8) *State {
	if e.active >= e.lim.Flows {
		e.stats.OverCapacity++
		return nil
	}
	e.active++
	return &State{proto: proto, s: new([2]stream)}
}

// Feed adds a packet to st (see State.feed); it reports true when both
// directions are full, time to Decide.
func (e *Engine) Feed(st *State, side int, seq uint32, syn bool, payload []byte) bool {
	if st.done {
		return false
	}
	return st.feed(&e.lim, side, seq, syn, payload)
}

// Release forgets a flow that ends without being decided.
func (e *Engine) Release(st *State) {
	if st != nil && !st.done {
		st.done = true
		st.s = nil
		e.active--
	}
}

// Decide identifies the flow (once: later calls return the same answer)
// and frees its buffers. origSide is the stream index of the originator.
func (e *Engine) Decide(st *State, origSide int, origPort, respPort uint16) (string, *schema.L7) {
	if st.done {
		return st.app, st.l7
	}
	f := Flow{Proto: st.proto, OrigPort: origPort, RespPort: respPort, Orig: st.side(origSide), Resp: st.side(1 - origSide)}
	if len(f.Orig.Data)+len(f.Resp.Data) > 0 {
		st.app, st.l7 = e.identify(&f)
		e.stats.Inspected++
		switch {
		case st.l7 == nil:
			e.stats.Unknown++
		case st.l7.By == "content":
			e.stats.ByContent++
		default:
			e.stats.ByPort++
		}
	}
	st.done = true
	st.s = nil
	e.active--
	return st.app, st.l7
}

// Identify labels a flow outside the meter (tests, tools).
func (e *Engine) Identify(f *Flow) (string, *schema.L7) { return e.identify(f) }

// identify tries the analyzers of the flow's ports first, then all the
// others, and keeps the most confident content match; with none it falls
// back on the server port, then the client port.
func (e *Engine) identify(f *Flow) (string, *schema.L7) {
	hinted := append(e.byPort[uint32(f.Proto)<<16|uint32(f.RespPort)], e.byPort[uint32(f.Proto)<<16|uint32(f.OrigPort)]...)
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
	for _, i := range hinted {
		try(i)
	}
	if bestScore < 0.9 { // a port-hinted near-certain match needs no second opinion
		for i := range e.list {
			if !contains(hinted, i) {
				try(i)
			}
		}
	}
	if best >= 0 {
		l7 := &schema.L7{By: "content", Confidence: bestScore}
		e.list[best].Decode(f, l7)
		return e.list[best].App, l7
	}
	if app := e.portApp(f.Proto, f.RespPort); app != "" {
		return app, &schema.L7{By: "port", Confidence: portConfidence}
	}
	if app := e.portApp(f.Proto, f.OrigPort); app != "" {
		return app, &schema.L7{By: "port", Confidence: clientPortConfidence}
	}
	return "", nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Apps lists the labels the analyzers can give, sorted.
func Apps() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range analyzers() {
		if !seen[a.App] {
			seen[a.App] = true
			out = append(out, a.App)
		}
	}
	sort.Strings(out)
	return out
}

// portApp is the label a port suggests, or "".
func (e *Engine) portApp(proto uint8, port uint16) string {
	if port == 0 {
		return ""
	}
	return e.ports[uint32(proto)<<16|uint32(port)]
}
