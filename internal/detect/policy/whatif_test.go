package policy

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// fakeHistory pages a slice of sessions by cursor (the index of the
// next session), checking that WhatIf passes the scope and cursor on.
type fakeHistory struct {
	t        *testing.T
	sessions []schema.Session
	scope    store.Scope
	pageSize int
	pages    int
}

func (f *fakeHistory) Search(_ context.Context, q store.SearchQuery) (store.SearchPage, error) {
	f.pages++
	if q.Scope != f.scope {
		f.t.Errorf("scope %+v, want %+v", q.Scope, f.scope)
	}
	from := 0
	if q.Cursor != "" {
		var err error
		if from, err = strconv.Atoi(q.Cursor); err != nil {
			return store.SearchPage{}, err
		}
	}
	to := min(from+f.pageSize, len(f.sessions))
	page := store.SearchPage{Sessions: f.sessions[from:to]}
	if to < len(f.sessions) {
		page.Next = strconv.Itoa(to)
	}
	return page, nil
}

func TestWhatIf(t *testing.T) {
	set := mustLoad(t, `
version: 1
name: baseline
rules:
  - {name: ssh-from-internet, severity: high, deny: {from: {segment: internet}, to: {port: 22}}}
  - {name: db-ingress, to: {tag: datastore}, only_from: {tag: vm}}
  - {name: never, deny: {app: telnet}}
`)
	var sessions []schema.Session
	for i := range 7 {
		// Three attackers, the first twice as often; each also breaks db-ingress.
		s := session(fromInternet, func(s *schema.Session) {
			s.UID = "A" + strconv.Itoa(i)
			s.Orig.IP = netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 3)})
		})
		sessions = append(sessions, *s)
	}
	for i := range 5 {
		sessions = append(sessions, *session(func(s *schema.Session) { s.UID = "V" + strconv.Itoa(i) }))
	}
	scope := store.Scope{Tenant: "t1", Range: store.Range{Since: time.Unix(0, 0)}}
	h := &fakeHistory{t: t, sessions: sessions, scope: scope, pageSize: 3}
	got, err := WhatIf(context.Background(), h, set, WhatIfQuery{Scope: scope, Examples: 2})
	if err != nil {
		t.Fatal(err)
	}
	if h.pages != 4 {
		t.Errorf("read %d pages, want 4", h.pages)
	}
	want := WhatIfResult{Sessions: 12, Rules: []RuleHits{
		{Policy: "baseline", Rule: "db-ingress", Severity: detect.Medium, Sessions: 7, Findings: 3},
		{Policy: "baseline", Rule: "ssh-from-internet", Severity: detect.High, Sessions: 7, Findings: 3},
	}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(RuleHits{}, "Examples")); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	for _, r := range got.Rules {
		var ex []string
		for _, e := range r.Examples {
			ex = append(ex, e.Sessions[0])
		}
		// The first session of each of the first two findings.
		if diff := cmp.Diff([]string{"A0/2", "A1/2"}, ex); diff != "" {
			t.Errorf("%s examples (-want +got):\n%s", r.Rule, diff)
		}
	}
}

func TestWhatIfStoreError(t *testing.T) {
	_, err := WhatIf(context.Background(), failingHistory{}, mustLoad(t, `{version: 1, rules: []}`), WhatIfQuery{})
	if !errors.Is(err, errStore) {
		t.Errorf("error %v, want the store's", err)
	}
}

var errStore = errors.New("store down")

type failingHistory struct{}

func (failingHistory) Search(context.Context, store.SearchQuery) (store.SearchPage, error) {
	return store.SearchPage{}, errStore
}
