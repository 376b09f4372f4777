package api

import (
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Overview is what the console's first page draws: traffic over time,
// totals, top talkers and applications, and findings by severity — one
// call, its queries run side by side, the session ones on the per-minute
// rollups.
type Overview struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until,omitzero"`
	Step  string    `json:"step"`
	// Traffic is bytes and sessions per step.
	Traffic []TrafficPoint `json:"traffic"`
	Totals  store.TopRow   `json:"totals"`
	// TopTalkers are the devices (either end: asset id, else address)
	// with the most bytes; Apps the applications.
	TopTalkers []store.TopRow   `json:"top_talkers"`
	Apps       []store.TopRow   `json:"apps"`
	Findings   FindingsSummary  `json:"findings"`
	Recent     []schema.Finding `json:"recent_findings"`
}

// TrafficPoint is one step of traffic.
type TrafficPoint struct {
	Time     time.Time `json:"time"`
	Bytes    float64   `json:"bytes"`
	Sessions float64   `json:"sessions"`
}

// FindingsSummary counts the findings first seen in the range.
type FindingsSummary struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"`
	ByState    map[string]int `json:"by_state"`
	// Open counts the active and acknowledged ones by severity.
	Open map[string]int `json:"open_by_severity"`
}

func (s *Server) overview(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	sc = minutes(sc)
	step, err := c.q.step(sc)
	if err != nil {
		return nil, err
	}
	top := 10
	if t := c.q.str("top"); t != "" {
		if top, err = strconv.Atoi(t); err != nil || top < 1 || top > 100 {
			return nil, badParam("top", "%q is not a whole number within 1..100", t)
		}
	}
	o := Overview{Since: sc.Since, Until: sc.Until, Step: step.String(),
		Findings: FindingsSummary{BySeverity: map[string]int{}, ByState: map[string]int{}, Open: map[string]int{}}}
	for _, sev := range store.Severities {
		o.Findings.BySeverity[sev], o.Findings.Open[sev] = 0, 0
	}
	var bytesPts, sessPts []store.Point
	var apps []store.TopRow
	g, ctx := errgroup.WithContext(c.ctx)
	// Every session has one app ("" included) and apps are few, so the
	// series and ranking by app add up to the totals.
	g.Go(func() (err error) {
		bytesPts, err = s.d.Store.Series(ctx, store.SeriesQuery{Scope: sc, Step: step, Dimension: "app", By: store.Bytes, Limit: 1000})
		return err
	})
	g.Go(func() (err error) {
		sessPts, err = s.d.Store.Series(ctx, store.SeriesQuery{Scope: sc, Step: step, Dimension: "app", By: store.Sessions, Limit: 1000})
		return err
	})
	g.Go(func() (err error) {
		apps, err = s.d.Store.Top(ctx, store.TopQuery{Scope: sc, Dimension: "app", By: store.Bytes, Limit: 1000})
		return err
	})
	g.Go(func() (err error) {
		o.TopTalkers, err = s.d.Store.Top(ctx, store.TopQuery{Scope: sc, Dimension: "device", By: store.Bytes, Limit: top})
		return err
	})
	g.Go(func() error {
		counts, err := s.d.Store.FindingCounts(ctx, store.Scope{Tenant: sc.Tenant, Range: sc.Range})
		for _, c := range counts {
			o.Findings.Total += c.Count
			o.Findings.BySeverity[c.Severity] += c.Count
			o.Findings.ByState[c.State] += c.Count
			if open(c.State) {
				o.Findings.Open[c.Severity] += c.Count
			}
		}
		return err
	})
	g.Go(func() error {
		q := store.FindingQuery{Scope: store.Scope{Tenant: sc.Tenant, Range: sc.Range}, MinSeverity: "high", Limit: 100}
		for len(o.Recent) < top {
			page, err := s.d.Store.Findings(ctx, q)
			if err != nil {
				return err
			}
			for _, f := range page.Findings {
				if len(o.Recent) < top && open(f.State) {
					o.Recent = append(o.Recent, f)
				}
			}
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byTime := map[time.Time]*TrafficPoint{}
	for _, p := range bytesPts {
		tp := byTime[p.Time]
		if tp == nil {
			tp = &TrafficPoint{Time: p.Time}
			byTime[p.Time] = tp
		}
		tp.Bytes += p.Value
	}
	for _, p := range sessPts {
		tp := byTime[p.Time]
		if tp == nil {
			tp = &TrafficPoint{Time: p.Time}
			byTime[p.Time] = tp
		}
		tp.Sessions += p.Value
	}
	o.Traffic = make([]TrafficPoint, 0, len(byTime))
	for _, tp := range byTime {
		o.Traffic = append(o.Traffic, *tp)
	}
	slices.SortFunc(o.Traffic, func(a, b TrafficPoint) int { return a.Time.Compare(b.Time) })
	o.Totals.Key = "total"
	for _, a := range apps {
		o.Totals.Bytes += a.Bytes
		o.Totals.Packets += a.Packets
		o.Totals.Sessions += a.Sessions
	}
	o.Apps = apps[:min(top, len(apps))]
	if o.TopTalkers == nil {
		o.TopTalkers = []store.TopRow{}
	}
	if o.Recent == nil {
		o.Recent = []schema.Finding{}
	}
	return o, nil
}

// open says a finding in this state still needs an analyst.
func open(state string) bool { return state == "active" || state == "acknowledged" }
