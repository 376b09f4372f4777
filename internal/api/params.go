package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Param is one query or path parameter of a route, for validation and
// for the OpenAPI document.
type Param struct {
	Name, In, Type, Doc string // In: query or path; Type: string, integer, time, duration
	Enum                []string
	Required            bool
}

// The parameters lists share, described once.
var (
	pSince  = Param{Name: "since", In: "query", Type: "time", Doc: "start of the range, inclusive: RFC 3339, a date, or a duration ago (24h, 7d)"}
	pUntil  = Param{Name: "until", In: "query", Type: "time", Doc: "end of the range, exclusive (default: now, open)"}
	pLimit  = Param{Name: "limit", In: "query", Type: "integer", Doc: "items per page"}
	pCursor = Param{Name: "cursor", In: "query", Type: "string", Doc: "the previous page's next"}
	pFilter = Param{Name: "filter", In: "query", Type: "string", Doc: "sessions to count, in the filter language (docs/filter.md)"}
	pBy     = Param{Name: "by", In: "query", Type: "string", Doc: "measure (default bytes)", Enum: []string{"bytes", "packets", "sessions"}}
	pStep   = Param{Name: "step", In: "query", Type: "duration", Doc: "bucket width, at least 1m (default: the range / 60, rounded up to a whole minute, at least 1m)"}
	pTenant = Param{Name: "tenant", In: "query", Type: "string", Doc: "optional; must be the token's tenant"}
	pID     = Param{Name: "id", In: "path", Type: "string", Doc: "identifier", Required: true}
)

// rangeParams are since and until.
var rangeParams = []Param{pSince, pUntil}

// query reads a request's query parameters, refusing those its route
// does not declare and repeated ones.
type query struct {
	v   url.Values
	now time.Time
}

func newQuery(r *http.Request, declared []Param, now time.Time) (*query, error) {
	v := r.URL.Query()
	for name, vals := range v {
		ok := name == "tenant"
		for _, p := range declared {
			if p.In == "query" && p.Name == name {
				ok = true
			}
		}
		if !ok {
			return nil, badParam(name, "unknown parameter")
		}
		if len(vals) > 1 {
			return nil, badParam(name, "given %d times", len(vals))
		}
	}
	for _, p := range declared {
		if p.In == "query" && p.Required && v.Get(p.Name) == "" {
			return nil, badParam(p.Name, "required")
		}
	}
	return &query{v: v, now: now}, nil
}

func (q *query) str(name string) string { return q.v.Get(name) }

// enum reads a parameter that takes one of a few values.
func (q *query) enum(name, def string, allowed ...string) (string, error) {
	s := q.v.Get(name)
	if s == "" {
		return def, nil
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", badParam(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
}

// limit reads limit: def when absent, within 1..max.
func (q *query) limit(def, max int) (int, error) {
	s := q.v.Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, badParam("limit", "%q is not a whole number within 1..%d", s, max)
	}
	return n, nil
}

// when reads a time parameter: RFC 3339, a date, or a duration ago
// (Go durations and days: 90m, 24h, 7d).
func (q *query) when(name string) (time.Time, error) {
	s := q.v.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return q.now.Add(-d), nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.ParseFloat(n, 64); err == nil && days >= 0 {
			return q.now.Add(-time.Duration(days * 24 * float64(time.Hour))), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, badParam(name, "%q is not RFC 3339, a date (2006-01-02) or a duration ago (24h, 7d)", s)
}

// defaultSince is the range of endpoints that read sessions or metrics
// when since is not given: they grow without bound.
const defaultSince = 24 * time.Hour

// scopeOf reads since and until into the caller's scope; def, when not
// zero, is how far back since goes when absent.
func (q *query) scopeOf(tenant string, def time.Duration) (store.Scope, error) {
	sc := store.Scope{Tenant: tenant}
	var err error
	if sc.Since, err = q.when("since"); err != nil {
		return sc, err
	}
	if sc.Until, err = q.when("until"); err != nil {
		return sc, err
	}
	if sc.Since.IsZero() && def > 0 {
		sc.Since = q.now.Add(-def)
	}
	if !sc.Since.IsZero() && !sc.Until.IsZero() && !sc.Since.Before(sc.Until) {
		return sc, badParam("until", "%s is not after since (%s)", sc.Until.Format(time.RFC3339), sc.Since.Format(time.RFC3339))
	}
	return sc, nil
}

// minutes rounds a range outward to whole minutes, so that aggregations
// read the per-minute rollups instead of the sessions.
func minutes(sc store.Scope) store.Scope {
	sc.Since = sc.Since.Truncate(time.Minute)
	if !sc.Until.IsZero() && !sc.Until.Equal(sc.Until.Truncate(time.Minute)) {
		sc.Until = sc.Until.Truncate(time.Minute).Add(time.Minute)
	}
	return sc
}

// step reads step; without it the range is cut into about 60 buckets.
func (q *query) step(sc store.Scope) (time.Duration, error) {
	if s := q.v.Get("step"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute || d%time.Minute != 0 {
			return 0, badParam("step", "%q is not a whole number of minutes, at least 1m", s)
		}
		return d, nil
	}
	until := sc.Until
	if until.IsZero() {
		until = q.now
	}
	d := until.Sub(sc.Since) / 60
	if d < time.Minute {
		return time.Minute, nil
	}
	return (d + time.Minute - 1).Truncate(time.Minute), nil
}

// filter parses the filter parameter.
func (q *query) filter() (filter.Expr, error) {
	e, err := filter.Parse(q.v.Get("filter"))
	if err != nil {
		return nil, filterError("filter", err)
	}
	return e, nil
}

// measure reads by.
func (q *query) measure() (store.Measure, error) {
	s, err := q.enum("by", "bytes", "bytes", "packets", "sessions")
	return store.Measure(s), err
}

// offsetCursor is the cursor of lists the store does not page itself:
// an offset, opaque to clients.
func offsetCursor(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("o" + strconv.Itoa(n)))
}

func (q *query) offset() (int, error) {
	s := q.v.Get("cursor")
	if s == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && len(b) > 1 && b[0] == 'o' {
		if n, err := strconv.Atoi(string(b[1:])); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, badParam("cursor", "not a cursor of this list")
}
