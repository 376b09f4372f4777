package policy

import (
	"sync/atomic"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Detector reports the sessions that break the policies of its set. The
// set can be replaced while sessions flow: each session is evaluated
// against one set, the old or the new, whole.
type Detector struct {
	set        atomic.Pointer[Set]
	act        activation // Session runs on one goroutine (detect.Detector)
	evalErrors atomic.Uint64
}

// NewDetector starts with set; nil is no policies.
func NewDetector(set *Set) *Detector {
	d := &Detector{}
	d.Swap(set)
	return d
}

func (d *Detector) Name() string { return "policy" }

func (d *Detector) Session(s *schema.Session, report func(detect.Report)) {
	before := d.act.errors
	d.set.Load().evaluate(s, &d.act, func(v violation) {
		report(v.rule.report(v.policy, s))
	})
	if n := d.act.errors - before; n > 0 {
		d.evalErrors.Add(n)
	}
}

// Set is the set in force.
func (d *Detector) Set() *Set { return d.set.Load() }

// Swap puts set in force for the sessions that follow; nil is no policies.
func (d *Detector) Swap(set *Set) {
	if set == nil {
		set = &Set{}
	}
	d.set.Store(set)
}

// Reload loads the files and puts them in force. On error the set in
// force stays, and the error says which file and rule failed.
func (d *Detector) Reload(paths ...string) error {
	set, err := LoadFiles(paths...)
	if err != nil {
		return err
	}
	d.Swap(set)
	return nil
}

// EvalErrors counts CEL evaluations that failed at run time (and so did
// not fire), for a metric.
func (d *Detector) EvalErrors() uint64 { return d.evalErrors.Load() }
