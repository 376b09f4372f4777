package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// API is the REST API (docs/api.md) that osprey run and osprey serve
// answer on: bearer tokens from Tokens, every change appended to
// AuditLog, TLS when a certificate and key are given.
type API struct {
	Enabled bool   `yaml:"enabled"` // in osprey run; osprey serve always serves it
	Listen  string `yaml:"listen"`
	// Tokens is the token file osprey token create writes (0600; hashes
	// only), re-read when it changes.
	Tokens string `yaml:"tokens"`
	// AuditLog is the JSON-lines file every change (POST, DELETE) is
	// appended to.
	AuditLog string `yaml:"audit_log"`
	TLS      APITLS `yaml:"tls"`
	// MaxBody caps a request body (policies, ingested metrics).
	MaxBody Bytes `yaml:"max_body"`
	// Timeout bounds each request's store queries.
	Timeout time.Duration `yaml:"timeout"`
	// CORSOrigins are the origins (https://grafana.example.com) whose
	// browser pages may call the API; "*" is any. None by default: the
	// console is served by the API itself.
	CORSOrigins []string `yaml:"cors_origins"`
}

// APITLS is the server certificate; TLS 1.2 at least when both are set.
type APITLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

func defaultAPI() API {
	return API{Listen: "127.0.0.1:9782", Tokens: "osprey-tokens.json", AuditLog: "osprey-audit.jsonl",
		MaxBody: 4 << 20, Timeout: 30 * time.Second}
}

func (a API) validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("api.%s: "+format, append([]any{key}, args...)...))
	}
	if _, _, err := net.SplitHostPort(a.Listen); err != nil {
		bad("listen", "%q is not host:port: %v", a.Listen, err)
	}
	if a.Tokens == "" {
		bad("tokens", "must name the token file")
	}
	if a.AuditLog == "" {
		bad("audit_log", "must name the audit log: every change is recorded")
	}
	if (a.TLS.Cert == "") != (a.TLS.Key == "") {
		bad("tls", "cert and key go together (got cert %q, key %q)", a.TLS.Cert, a.TLS.Key)
	}
	if a.MaxBody < 1024 {
		bad("max_body", "must be at least 1KiB, got %d", a.MaxBody)
	}
	if a.Timeout <= 0 {
		bad("timeout", "must be a positive duration, got %v", a.Timeout)
	}
	for i, o := range a.CORSOrigins {
		if o != "*" && !isOrigin(o) {
			bad(fmt.Sprintf("cors_origins[%d]", i), "%q is not an origin: want scheme://host[:port] as a browser sends it (lower case, no path), or *", o)
		}
	}
	return errors.Join(errs...)
}

// isOrigin says whether o is an origin as browsers serialise it: an
// http(s) scheme and host, a port when not the default, nothing else.
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.String() == strings.ToLower(u.Scheme+"://"+u.Host) && u.Path == "" && u.User == nil &&
		!(u.Scheme == "http" && u.Port() == "80" || u.Scheme == "https" && u.Port() == "443")
}
