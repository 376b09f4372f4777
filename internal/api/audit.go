package api

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// AuditEntry is one line of the audit log: who tried to change what,
// and how it went.
type AuditEntry struct {
	Time    time.Time `json:"time"`
	TokenID string    `json:"token_id,omitempty"`
	Tenant  string    `json:"tenant,omitempty"`
	Role    Role      `json:"role,omitempty"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	Route   string    `json:"route"`
	Target  string    `json:"target,omitempty"`
	Status  int       `json:"status"`
	// Outcome is ok, denied (authentication, role, tenant) or failed.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	Remote  string `json:"remote"`
}

// auditLog appends entries to a JSON-lines file (0600), one write per
// entry so that concurrent requests never interleave within a line.
type auditLog struct {
	mu     sync.Mutex
	f      *os.File
	errors uint64
}

func openAudit(path string) (*auditLog, error) {
	a := &auditLog{}
	if path == "" {
		return a, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("api.audit_log: %w", err)
	}
	a.f = f
	return a, nil
}

func (a *auditLog) record(now time.Time, c *call, rt *Route, status int, err error) {
	e := AuditEntry{Time: now.UTC(), TokenID: c.tok.ID, Tenant: c.tok.Tenant, Role: c.tok.Role,
		Method: c.r.Method, Path: c.r.URL.Path, Route: rt.Method + " " + rt.Path, Target: c.target,
		Status: status, Outcome: "ok", Remote: c.r.RemoteAddr}
	switch {
	case status == 401 || status == 403:
		e.Outcome = "denied"
	case status >= 400:
		e.Outcome = "failed"
	}
	if err != nil {
		e.Error = asError(err).Message
	}
	line, _ := json.Marshal(e)
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return
	}
	if _, werr := a.f.Write(line); werr != nil {
		a.errors++
	}
}

// Errors counts entries that could not be written.
func (a *auditLog) Errors() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.errors
}

func (a *auditLog) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}
