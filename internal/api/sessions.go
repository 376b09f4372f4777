package api

import (
	"sort"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// List is every list's envelope: the items and, when there are more,
// the cursor of the next page.
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

func list[T any](items []T, next string) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items, Next: next}
}

func (s *Server) searchSessions(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	f, err := c.q.filter()
	if err != nil {
		return nil, err
	}
	n, err := c.q.limit(100, 1000)
	if err != nil {
		return nil, err
	}
	if sc.Until.IsZero() {
		// The store's search walks back in windows from until: from the
		// API's clock, not the store's.
		sc.Until = c.q.now.Add(time.Minute)
	}
	page, err := s.d.Store.Search(c.ctx, store.SearchQuery{Scope: sc, Filter: f, Limit: n, Cursor: c.q.str("cursor")})
	if err != nil {
		return nil, cursorError(err)
	}
	return list[schema.Session](page.Sessions, page.Next), nil
}

// cursorError makes a store's refusal of a cursor the client's error.
func cursorError(err error) error {
	if strings.Contains(err.Error(), "bad cursor") {
		return badParam("cursor", "not a cursor of this list")
	}
	return err
}

// dimension checks a dimension parameter before the store sees it.
func dimension(param, dim string) error {
	if dim == "device" {
		return nil
	}
	if _, ok := filter.Fields[dim]; !ok {
		names := make([]string, 0, len(filter.Fields))
		for n := range filter.Fields {
			names = append(names, n)
		}
		sort.Strings(names)
		return badParam(param, "%q is not a filter field or device (%s)", dim, strings.Join(names, ", "))
	}
	return nil
}

func (s *Server) top(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	dim := c.q.str("dimension")
	if err := dimension("dimension", dim); err != nil {
		return nil, err
	}
	by, err := c.q.measure()
	if err != nil {
		return nil, err
	}
	f, err := c.q.filter()
	if err != nil {
		return nil, err
	}
	n, err := c.q.limit(10, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := s.d.Store.Top(c.ctx, store.TopQuery{Scope: minutes(sc), Filter: f, Dimension: dim, By: by, Limit: n})
	if err != nil {
		return nil, err
	}
	return list(rows, ""), nil
}

// SeriesAnswer is a time series with the step it was cut in.
type SeriesAnswer struct {
	Step  string        `json:"step"`
	Since time.Time     `json:"since"`
	Until time.Time     `json:"until,omitzero"`
	Items []store.Point `json:"items"`
}

func (s *Server) series(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	sc = minutes(sc)
	dim := c.q.str("dimension")
	if dim == "" {
		dim = "app"
	}
	if err := dimension("dimension", dim); err != nil {
		return nil, err
	}
	by, err := c.q.measure()
	if err != nil {
		return nil, err
	}
	f, err := c.q.filter()
	if err != nil {
		return nil, err
	}
	step, err := c.q.step(sc)
	if err != nil {
		return nil, err
	}
	n, err := c.q.limit(10, 100)
	if err != nil {
		return nil, err
	}
	pts, err := s.d.Store.Series(c.ctx, store.SeriesQuery{Scope: sc, Step: step, Filter: f, Dimension: dim, By: by, Limit: n})
	if err != nil {
		return nil, err
	}
	if pts == nil {
		pts = []store.Point{}
	}
	return SeriesAnswer{Step: step.String(), Since: sc.Since, Until: sc.Until, Items: pts}, nil
}

func (s *Server) matrix(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	group, err := c.q.enum("group", "segment", "segment", "tag")
	if err != nil {
		return nil, err
	}
	by, err := c.q.measure()
	if err != nil {
		return nil, err
	}
	f, err := c.q.filter()
	if err != nil {
		return nil, err
	}
	n, err := c.q.limit(100, 10000)
	if err != nil {
		return nil, err
	}
	cells, err := s.d.Store.Matrix(c.ctx, store.MatrixQuery{Scope: minutes(sc), Filter: f, By: group, Measure: by})
	if err != nil {
		return nil, err
	}
	if len(cells) > n { // largest first
		cells = cells[:n]
	}
	return list(cells, ""), nil
}
