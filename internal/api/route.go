package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Access is who may call a route.
type Access string

// Accesses, from the roles (tokens.go): public needs no token.
const (
	Public  Access = "public"
	Read    Access = "read"   // viewer, analyst, admin
	Triage  Access = "triage" // analyst, admin
	Manage  Access = "manage" // admin
	Feed    Access = "ingest" // ingest, admin
	anyRole Access = "any"    // every role: who am I
)

// Allows says whether a role may call a route of this access.
func (a Access) Allows(r Role) bool {
	switch a {
	case Public, anyRole:
		return true
	case Read:
		return r == Viewer || r == Analyst || r == Admin
	case Triage:
		return r == Analyst || r == Admin
	case Manage:
		return r == Admin
	case Feed:
		return r == Ingest || r == Admin
	}
	return false
}

// Route is one endpoint: what serves it and what documents it.
type Route struct {
	Method, Path string
	Access       Access
	Tag, Summary string
	Params       []Param
	// Body is the request body's media type and schema ("" for none).
	BodyType, BodySchema string
	// Response is the schema of a 2xx answer (components/schemas), and
	// Status its code (200 when zero).
	Response string
	Status   int
	handle   func(c *call) (any, error)
	raw      http.Handler // served as is after the checks (/metrics)
}

// Changes says whether the route changes something: those are audited.
func (rt *Route) Changes() bool {
	return rt.Method == http.MethodPost || rt.Method == http.MethodDelete
}

// call is one request in a handler: the caller, its validated query
// and the server.
type call struct {
	s   *Server
	r   *http.Request
	w   http.ResponseWriter
	ctx context.Context
	tok Token
	q   *query
	// target is what a change changed (a finding id, …), for the audit.
	target string
}

func (c *call) tenant() string { return c.tok.Tenant }

// wrap puts a route behind authentication, its role, the tenant check,
// parameter validation, the timeout, metrics and the audit log.
func (s *Server) wrap(rt *Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		c := &call{s: s, r: r, w: sw}
		err := s.serve(rt, c)
		if err != nil {
			e := asError(err)
			if e.Status >= 500 && e.Code == CodeInternal {
				s.d.Log.Error("api", "route", rt.Method+" "+rt.Path, "error", err)
			}
			writeError(sw, e)
		}
		s.m.observe(rt, sw.code(), time.Since(start))
		if rt.Changes() {
			s.audit.record(s.d.Now(), c, rt, sw.code(), err)
		}
	})
}

func (s *Server) serve(rt *Route, c *call) error {
	r := c.r
	if rt.Access != Public {
		tok, err := s.authenticate(r)
		if err != nil {
			return err
		}
		c.tok = tok
		if !rt.Access.Allows(tok.Role) {
			return &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: "the " + string(tok.Role) + " role may not " + rt.Method + " " + rt.Path}
		}
	}
	q, err := newQuery(r, rt.Params, s.d.Now().UTC())
	if err != nil {
		return err
	}
	// The tenant comes from the token; a tenant parameter may only repeat it.
	if t, ok := q.v["tenant"]; ok && (rt.Access == Public || t[0] != c.tok.Tenant) {
		return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Param: "tenant",
			Message: "a token reads and changes its own tenant only"}
	}
	c.q = q
	if rt.raw != nil {
		rt.raw.ServeHTTP(c.w, r)
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	c.ctx = ctx
	if r.Body != nil {
		r.Body = http.MaxBytesReader(c.w, r.Body, s.cfg.MaxBody)
	}
	v, err := rt.handle(c)
	if err != nil {
		return err
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNoContent {
		c.w.WriteHeader(status)
		return nil
	}
	writeJSON(c.w, status, v)
	return nil
}

// authenticate reads the bearer token.
func (s *Server) authenticate(r *http.Request) (Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		return Token{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "missing Authorization: Bearer <token>"}
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Token{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "Authorization must be Bearer <token>"}
	}
	tok, err := s.d.Tokens.Authenticate(strings.TrimSpace(secret), s.d.Now())
	switch {
	case errors.Is(err, ErrTokenExpired):
		return Token{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "token expired"}
	case errors.Is(err, ErrNoToken):
		return Token{}, &Error{Status: http.StatusUnauthorized, Code: CodeUnauthenticated, Message: "unknown or revoked token"}
	case err != nil:
		return Token{}, err
	}
	return tok, nil
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection (flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// roleNames lists the roles an access allows, for the OpenAPI document.
func (a Access) roleNames() []string {
	var out []string
	for _, r := range Roles {
		if a.Allows(r) {
			out = append(out, string(r))
		}
	}
	slices.Sort(out)
	return out
}
