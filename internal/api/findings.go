package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

func (s *Server) findings(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), 0)
	if err != nil {
		return nil, err
	}
	n, err := c.q.limit(100, 1000)
	if err != nil {
		return nil, err
	}
	state, err := c.q.enum("state", "", pState.Enum...)
	if err != nil {
		return nil, err
	}
	sev, err := c.q.enum("severity", "", store.Severities...)
	if err != nil {
		return nil, err
	}
	page, err := s.d.Store.Findings(c.ctx, store.FindingQuery{Scope: sc, Detector: c.q.str("detector"), Rule: c.q.str("rule"),
		State: state, MinSeverity: sev, Entity: c.q.str("entity"), Limit: n, Cursor: c.q.str("cursor")})
	if err != nil {
		return nil, cursorError(err)
	}
	return list(page.Findings, page.Next), nil
}

// lookupFinding is a finding of the caller's tenant, or not found:
// another tenant's id is as unknown as one that never existed.
func (s *Server) lookupFinding(c *call) (schema.Finding, error) {
	id := c.r.PathValue("id")
	c.target = id
	page, err := s.d.Store.Findings(c.ctx, store.FindingQuery{Scope: store.Scope{Tenant: c.tenant()}, ID: id, Limit: 1})
	if err != nil {
		return schema.Finding{}, err
	}
	if len(page.Findings) == 0 {
		return schema.Finding{}, notFound("no finding %q", id)
	}
	return page.Findings[0], nil
}

func (s *Server) finding(c *call) (any, error) { return s.lookupFinding(c) }

// ack acknowledges a finding: in the live engine when it holds it open
// (repeats keep counting), else in the store.
func (s *Server) ack(c *call) (any, error) {
	f, err := s.lookupFinding(c)
	if err != nil {
		return nil, err
	}
	if s.d.Engine != nil {
		err := s.d.Engine.Acknowledge(c.ctx, f.ID)
		if err == nil {
			return s.lookupFinding(c)
		}
		if !errors.Is(err, detect.ErrUnknownFinding) {
			return nil, err
		}
	}
	if f, err = detect.AcknowledgeStored(f, "", ""); err != nil {
		return nil, conflict("%s", err.Error())
	}
	if err := s.d.Store.UpsertFindings(c.ctx, []schema.Finding{f}); err != nil {
		return nil, err
	}
	return f, nil
}

// VerdictRequest is the body of POST /findings/{id}/verdict.
type VerdictRequest struct {
	Verdict string `json:"verdict"`
	Note    string `json:"note,omitempty"`
}

// VerdictResult is the finding after the verdict and, for a false or
// benign positive, the suppression it made and how many stored findings
// it closed (the finding itself included).
type VerdictResult struct {
	Finding     schema.Finding      `json:"finding"`
	Suppression *detect.Suppression `json:"suppression,omitempty"`
	Closed      int                 `json:"closed"`
}

// decodeJSON reads a JSON body strictly: unknown fields are errors that
// name the field.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Param: "body",
				Message: fmt.Sprintf("over %d bytes (api.max_body)", tooBig.Limit)}
		}
		if errors.Is(err, io.EOF) {
			return badParam("body", "empty: a JSON object is expected")
		}
		msg := err.Error()
		param := "body"
		if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			param = strings.Trim(f, `"`)
			msg = "unknown field"
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			param = te.Field
			msg = "must be a " + te.Type.String()
		}
		return badParam(param, "%s", msg)
	}
	return nil
}

func (s *Server) verdict(c *call) (any, error) {
	var req VerdictRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return nil, err
	}
	switch req.Verdict {
	case detect.TruePositive, detect.FalsePositive, detect.BenignPositive:
	default:
		return nil, badParam("verdict", "%q is not true_positive, false_positive or benign_positive", req.Verdict)
	}
	f, err := s.lookupFinding(c)
	if err != nil {
		return nil, err
	}
	if req.Verdict == detect.TruePositive {
		return s.truePositive(c, f, req.Note)
	}
	var sup detect.Suppression
	live := false
	if s.d.Engine != nil {
		err := s.d.Engine.Verdict(c.ctx, f.ID, req.Verdict, req.Note)
		switch {
		case err == nil:
			live = true
			for _, x := range s.d.Engine.Suppressions() {
				if x.Finding == f.ID && x.Verdict == req.Verdict {
					sup = x
				}
			}
		case !errors.Is(err, detect.ErrUnknownFinding):
			return nil, err
		}
	}
	if !live {
		if sup, err = detect.SuppressionFor(f, req.Verdict, req.Note, s.d.Now().UTC(), s.d.SuppressFor); err != nil {
			return nil, badParam("verdict", "%s", err.Error())
		}
		switch {
		case s.d.Engine != nil:
			if sup, err = s.d.Engine.Suppress(c.ctx, sup); err != nil {
				return nil, err
			}
		case s.d.SuppressionFile != "":
			if err := detect.AddToSuppressionFile(s.d.SuppressionFile, sup); err != nil {
				return nil, err
			}
		}
	}
	// A verdict applies to history: the stored findings it matches close too.
	closed, err := s.applyToStored(c, sup)
	if err != nil {
		return nil, err
	}
	f, err = s.lookupFinding(c)
	if err != nil {
		return nil, err
	}
	return VerdictResult{Finding: f, Suppression: &sup, Closed: closed}, nil
}

func (s *Server) truePositive(c *call, f schema.Finding, note string) (any, error) {
	if s.d.Engine != nil {
		err := s.d.Engine.Verdict(c.ctx, f.ID, detect.TruePositive, note)
		if err == nil {
			f, err := s.lookupFinding(c)
			return VerdictResult{Finding: f}, err
		}
		if !errors.Is(err, detect.ErrUnknownFinding) {
			return nil, err
		}
	}
	f, err := detect.AcknowledgeStored(f, detect.TruePositive, note)
	if err != nil {
		return nil, conflict("%s", err.Error())
	}
	if err := s.d.Store.UpsertFindings(c.ctx, []schema.Finding{f}); err != nil {
		return nil, err
	}
	return VerdictResult{Finding: f}, nil
}

// applyToStored closes the caller's stored findings sup matches.
func (s *Server) applyToStored(c *call, sup detect.Suppression) (int, error) {
	q := store.FindingQuery{Scope: store.Scope{Tenant: c.tenant()}, Detector: sup.Detector, Rule: sup.Rule, Limit: 10000}
	n := 0
	for {
		page, err := s.d.Store.Findings(c.ctx, q)
		if err != nil {
			return n, err
		}
		closed, err := detect.ApplySuppressions(page.Findings, []detect.Suppression{sup})
		if err != nil {
			return n, err
		}
		if err := s.d.Store.UpsertFindings(c.ctx, closed); err != nil {
			return n, err
		}
		n += len(closed)
		if page.Next == "" {
			return n, nil
		}
		q.Cursor = page.Next
	}
}

// tenantSuppressions are the suppressions of the caller's tenant. Those
// without a tenant (written by hand into detect.suppression_file, for
// every tenant) are deployment configuration and not listed.
func (s *Server) tenantSuppressions(c *call) ([]detect.Suppression, error) {
	var all []detect.Suppression
	switch {
	case s.d.Engine != nil:
		all = s.d.Engine.Suppressions()
	case s.d.SuppressionFile != "":
		var err error
		if all, err = detect.ReadSuppressionFile(s.d.SuppressionFile); err != nil {
			return nil, err
		}
	}
	out := []detect.Suppression{}
	for _, x := range all {
		if x.Tenant == c.tenant() {
			out = append(out, x)
		}
	}
	return out, nil
}

func (s *Server) suppressions(c *call) (any, error) {
	sups, err := s.tenantSuppressions(c)
	if err != nil {
		return nil, err
	}
	return list(sups, ""), nil
}

func (s *Server) removeSuppression(c *call) (any, error) {
	id := c.r.PathValue("id")
	c.target = id
	sups, err := s.tenantSuppressions(c)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(sups, func(x detect.Suppression) bool { return x.ID == id }) {
		return nil, notFound("no suppression %q", id)
	}
	if s.d.Engine != nil {
		return nil, s.d.Engine.RemoveSuppression(id)
	}
	return nil, removeFromFile(s.d.SuppressionFile, id)
}

// removeFromFile rewrites detect.suppression_file without one
// suppression, for osprey serve (no engine); a running engine reloads
// it. The file is detect's format: {suppressions: [...]}.
func removeFromFile(path, id string) error {
	all, err := detect.ReadSuppressionFile(path)
	if err != nil {
		return err
	}
	all = slices.DeleteFunc(all, func(x detect.Suppression) bool { return x.ID == id })
	data, err := yaml.Marshal(map[string][]detect.Suppression{"suppressions": all})
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}
