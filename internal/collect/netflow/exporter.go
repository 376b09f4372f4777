package netflow

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// exporters remembers, per exporter address, the templates it sent and
// what its options records said. Template ids are only unique within an
// exporter's observation domain (RFC 7011 3.4.1), so two exporters with
// the same ids never share an entry.
type exporters struct {
	mu           sync.RWMutex
	m            map[netip.Addr]*exporter
	max          int
	maxTemplates int
}

func newExporters(max, maxTemplates int) *exporters {
	return &exporters{m: map[netip.Addr]*exporter{}, max: max, maxTemplates: maxTemplates}
}

// exporter is one exporter's state. Its lock is held while one of its
// datagrams is decoded, so that templates and data of one datagram are
// seen together.
type exporter struct {
	mu        sync.Mutex
	templates map[templateKey]*template
	domains   map[domainKey]*domain
}

type templateKey struct {
	version uint16
	domain  uint32
	id      uint16
}

type domainKey struct {
	version uint16
	domain  uint32
}

// domain is what an observation domain's options records said.
type domain struct {
	rate      uint64            // sampling rate of records that name no sampler
	samplers  map[uint64]uint64 // sampler or selector id → rate
	sysInitMs int64             // systemInitTimeMilliseconds, 0 when unknown
}

// get returns addr's state, creating it unless max exporters are known.
func (x *exporters) get(addr netip.Addr) *exporter {
	x.mu.RLock()
	e := x.m[addr]
	x.mu.RUnlock()
	if e != nil {
		return e
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if e = x.m[addr]; e == nil && len(x.m) < x.max {
		e = &exporter{templates: map[templateKey]*template{}, domains: map[domainKey]*domain{}}
		x.m[addr] = e
	}
	return e
}

// counts reports how many exporters and templates are held, for metrics.
func (x *exporters) counts() (exporters, templates int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, e := range x.m {
		e.mu.Lock()
		templates += len(e.templates)
		e.mu.Unlock()
	}
	return len(x.m), templates
}

// domain returns the state of one observation domain, creating it.
func (e *exporter) domain(version uint16, id uint32) *domain {
	k := domainKey{version, id}
	d := e.domains[k]
	if d == nil {
		d = &domain{}
		e.domains[k] = d
	}
	return d
}

// templateSystem is the exporter's template store as goflow2's decoder
// sees it. GetTemplate answers with our compiled *template, a type
// goflow2 does not decode: it then hands data sets back undecoded
// (RawFlowSet) and we read them in place. goflow2's own DecodeDataSet
// boxes every field value in an interface, an allocation per field.
type templateSystem struct {
	e            *exporter
	maxTemplates int
	rejected     []templateError // refused templates of the current datagram
}

type templateError struct {
	key templateKey
	err error
}

var _ netflow.NetFlowTemplateSystem = (*templateSystem)(nil)

func (ts *templateSystem) AddTemplate(version uint16, domain uint32, id uint16, t any) error {
	k := templateKey{version, domain, id}
	if isWithdrawal(t) {
		// IPFIX withdraws a template with a field count of 0; NetFlow v9
		// template sets may end in zero padding that reads the same.
		delete(ts.e.templates, k)
		return nil
	}
	c, err := compile(version, t)
	if err == nil && ts.e.templates[k] == nil && len(ts.e.templates) >= ts.maxTemplates {
		err = fmt.Errorf("%w: more than %d templates", errTemplate, ts.maxTemplates)
	}
	if err != nil {
		// Returning the error would make goflow2 stop at this set; the
		// rest of the datagram is still good.
		delete(ts.e.templates, k)
		ts.rejected = append(ts.rejected, templateError{k, err})
		return nil
	}
	ts.e.templates[k] = c
	return nil
}

func isWithdrawal(t any) bool {
	switch t := t.(type) {
	case netflow.TemplateRecord:
		return len(t.Fields) == 0
	case netflow.IPFIXOptionsTemplateRecord:
		return len(t.Scopes)+len(t.Options) == 0
	case netflow.NFv9OptionsTemplateRecord:
		return len(t.Scopes)+len(t.Options) == 0
	}
	return false
}

func (ts *templateSystem) GetTemplate(version uint16, domain uint32, id uint16) (any, error) {
	if t := ts.e.templates[templateKey{version, domain, id}]; t != nil {
		return t, nil
	}
	return nil, netflow.ErrorTemplateNotFound
}

func (ts *templateSystem) RemoveTemplate(version uint16, domain uint32, id uint16) (any, error) {
	k := templateKey{version, domain, id}
	t := ts.e.templates[k]
	if t == nil {
		return nil, netflow.ErrorTemplateNotFound
	}
	delete(ts.e.templates, k)
	return t, nil
}

// GetTemplates is part of goflow2's interface; its decoder does not call
// it and nothing here needs the copy it would make.
func (ts *templateSystem) GetTemplates() netflow.FlowBaseTemplateSet { return nil }
