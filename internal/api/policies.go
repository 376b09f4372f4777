package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/detect/policy"
)

// PolicyInfo is one policy file in force, with its rules as written.
// Policies are deployment configuration: the policy detector applies
// them to every tenant, so every tenant sees the same list.
type PolicyInfo struct {
	Name        string     `json:"name"`
	File        string     `json:"file"`
	Description string     `json:"description,omitempty"`
	Rules       []RuleInfo `json:"rules"`
	Error       string     `json:"error,omitempty"` // when the file does not load (the daemon keeps its last good set)
}

// RuleInfo is a rule's headline: its name, kind, severity and technique.
type RuleInfo struct {
	Name        string `json:"name" yaml:"name"`
	Kind        string `json:"kind" yaml:"-"`
	Severity    string `json:"severity" yaml:"severity"`
	Technique   string `json:"technique,omitempty" yaml:"technique"`
	Description string `json:"description,omitempty" yaml:"description"`
}

// ruleKinds are the keys that make a rule of each kind (docs/policies.md).
var ruleKinds = []string{"deny", "allow", "only_from", "only_to", "require_known_tags", "when"}

// rulesOf lists a valid policy file's rules. The policy package keeps
// compiled rules private; the file says the rest.
func rulesOf(data []byte) []RuleInfo {
	var f struct {
		Rules []map[string]yaml.Node `yaml:"rules"`
	}
	out := []RuleInfo{}
	if yaml.Unmarshal(data, &f) != nil {
		return out
	}
	for _, m := range f.Rules {
		var r RuleInfo
		for k, v := range m {
			var s string
			if v.Kind == yaml.ScalarNode {
				s = v.Value
			}
			switch k {
			case "name":
				r.Name = s
			case "severity":
				r.Severity = s
			case "technique":
				r.Technique = s
			case "description":
				r.Description = s
			}
		}
		for _, k := range ruleKinds {
			if _, ok := m[k]; ok && r.Kind == "" {
				r.Kind = k
			}
		}
		if r.Severity == "" {
			r.Severity = "medium"
		}
		out = append(out, r)
	}
	return out
}

func (s *Server) policies(c *call) (any, error) {
	out := []PolicyInfo{}
	for _, path := range s.d.Policies {
		info := PolicyInfo{File: path, Rules: []RuleInfo{}}
		data, err := os.ReadFile(path)
		if err == nil {
			var p *policy.Policy
			if p, err = policy.Load(path, data); err == nil {
				info.Name, info.Description, info.Rules = p.Name, p.Description, rulesOf(data)
			}
		}
		if err != nil {
			info.Error = err.Error()
		}
		out = append(out, info)
	}
	return list(out, ""), nil
}

// PolicyCheck is the answer of validate: valid, or the first error with
// where it is.
type PolicyCheck struct {
	Valid bool       `json:"valid"`
	Name  string     `json:"name,omitempty"`
	Rules []RuleInfo `json:"rules,omitempty"`
	Error *PolicyErr `json:"error,omitempty"`
}

// PolicyErr is a policy.Error.
type PolicyErr struct {
	Line    int    `json:"line,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// readPolicy reads a policy file from the body; empty is nil.
func readPolicy(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Param: "body",
				Message: fmt.Sprintf("over %d bytes (api.max_body)", tooBig.Limit)}
		}
		return nil, err
	}
	return data, nil
}

// policyName is what an uploaded policy file is called in errors and
// findings.
const policyName = "request.yaml"

func (s *Server) validatePolicy(c *call) (any, error) {
	data, err := readPolicy(c.r)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, badParam("body", "empty: a policy file (YAML) is expected")
	}
	p, err := policy.Load(policyName, data)
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return PolicyCheck{Error: &PolicyErr{Line: pe.Line, Rule: pe.Rule, Field: pe.Field, Message: pe.Msg}}, nil
		}
		return PolicyCheck{Error: &PolicyErr{Message: err.Error()}}, nil
	}
	return PolicyCheck{Valid: true, Name: p.Name, Rules: rulesOf(data)}, nil
}

func (s *Server) whatIf(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	examples := 5
	if e := c.q.str("examples"); e != "" {
		if examples, err = strconv.Atoi(e); err != nil || examples < 1 || examples > 50 {
			return nil, badParam("examples", "%q is not a whole number within 1..50", e)
		}
	}
	data, err := readPolicy(c.r)
	if err != nil {
		return nil, err
	}
	var set *policy.Set
	if len(data) == 0 {
		if len(s.d.Policies) == 0 {
			return nil, badParam("body", "empty, and no policies are in force (detect.policies): send a policy file")
		}
		if set, err = policy.LoadFiles(s.d.Policies...); err != nil {
			return nil, conflict("the policies in force do not load: %v", err)
		}
	} else {
		p, err := policy.Load(policyName, data)
		if err != nil {
			return nil, badParam("body", "%s", err.Error())
		}
		if set, err = policy.NewSet(p); err != nil {
			return nil, badParam("body", "%s", err.Error())
		}
	}
	res, err := policy.WhatIf(c.ctx, s.d.Store, set, policy.WhatIfQuery{Scope: sc, Examples: examples})
	if err != nil {
		return nil, err
	}
	return whatIfAnswer(res), nil
}

// WhatIf is policy.WhatIfResult in the API's JSON names.
type WhatIf struct {
	Sessions   int          `json:"sessions"`
	EvalErrors uint64       `json:"eval_errors"`
	Rules      []WhatIfRule `json:"rules"`
}

// WhatIfRule is what one rule would have reported.
type WhatIfRule struct {
	Policy   string          `json:"policy"`
	Rule     string          `json:"rule"`
	Severity string          `json:"severity"`
	Sessions int             `json:"sessions"`
	Findings int             `json:"findings"`
	Examples []WhatIfExample `json:"examples"`
}

// WhatIfExample is the first report of one finding it would have raised.
type WhatIfExample struct {
	Time      time.Time          `json:"time"`
	Summary   string             `json:"summary"`
	Entities  []string           `json:"entities"`
	Sessions  []string           `json:"sessions"`
	Technique string             `json:"technique,omitempty"`
	Values    map[string]float64 `json:"values,omitempty"`
}

func whatIfAnswer(res policy.WhatIfResult) WhatIf {
	out := WhatIf{Sessions: res.Sessions, EvalErrors: res.EvalErrors, Rules: []WhatIfRule{}}
	for _, r := range res.Rules {
		wr := WhatIfRule{Policy: r.Policy, Rule: r.Rule, Severity: string(r.Severity), Sessions: r.Sessions,
			Findings: r.Findings, Examples: []WhatIfExample{}}
		for _, e := range r.Examples {
			wr.Examples = append(wr.Examples, WhatIfExample{Time: e.Time, Summary: e.Summary, Entities: e.Entities,
				Sessions: e.Sessions, Technique: e.Technique, Values: e.Values})
		}
		out.Rules = append(out.Rules, wr)
	}
	return out
}
