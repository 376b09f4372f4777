package policy

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/store"
)

// History is the part of a store WhatIf reads (store.Store has it).
type History interface {
	Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error)
}

// WhatIfQuery says which stored sessions to test and how much to show.
type WhatIfQuery struct {
	store.Scope
	Examples int // findings shown per rule; default 5
}

// WhatIfResult is what a set of policies would have reported.
type WhatIfResult struct {
	Sessions int        // session records evaluated
	Rules    []RuleHits // rules that fired, most sessions first
	// EvalErrors counts CEL evaluations that failed (and did not fire).
	EvalErrors uint64
}

// RuleHits is what one rule would have reported.
type RuleHits struct {
	Policy, Rule string
	Severity     detect.Severity
	Sessions     int // session records that broke it
	Findings     int // distinct dedupe keys: the findings the engine would raise
	// Examples are the first report of each of the first findings, newest
	// first as the store pages.
	Examples []detect.Report
}

// pageSize is the store's largest page: what-if reads everything.
const pageSize = 10000

// WhatIf runs set over the stored sessions of q's scope, as the detector
// would have, and groups the violations by rule. It reads every session
// of the scope (CEL cannot be pushed down to the store) and remembers
// one dedupe key per finding.
func WhatIf(ctx context.Context, h History, set *Set, q WhatIfQuery) (WhatIfResult, error) {
	if q.Examples <= 0 {
		q.Examples = 5
	}
	type hits struct {
		RuleHits
		keys map[string]bool
	}
	byRule := map[*rule]*hits{}
	var res WhatIfResult
	var act activation
	search := store.SearchQuery{Scope: q.Scope, Limit: pageSize}
	for {
		page, err := h.Search(ctx, search)
		if err != nil {
			return res, fmt.Errorf("policy what-if: %w", err)
		}
		for i := range page.Sessions {
			s := &page.Sessions[i]
			res.Sessions++
			set.evaluate(s, &act, func(v violation) {
				rh := byRule[v.rule]
				if rh == nil {
					rh = &hits{RuleHits: RuleHits{Policy: v.policy.Name, Rule: v.rule.name, Severity: v.rule.severity}, keys: map[string]bool{}}
					byRule[v.rule] = rh
				}
				rh.Sessions++
				rep := v.rule.report(v.policy, s)
				if rh.keys[rep.DedupeKey] {
					return
				}
				rh.keys[rep.DedupeKey] = true
				rh.Findings++
				if len(rh.Examples) < q.Examples {
					rh.Examples = append(rh.Examples, rep)
				}
			})
		}
		if page.Next == "" {
			break
		}
		search.Cursor = page.Next
	}
	res.EvalErrors = act.errors
	for _, rh := range byRule {
		res.Rules = append(res.Rules, rh.RuleHits)
	}
	slices.SortFunc(res.Rules, func(a, b RuleHits) int {
		return cmp.Or(cmp.Compare(b.Sessions, a.Sessions), cmp.Compare(a.Policy, b.Policy), cmp.Compare(a.Rule, b.Rule))
	})
	return res, nil
}
