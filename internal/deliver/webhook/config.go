package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Config is the webhook section of an output (type: webhook). Error
// messages name keys relative to the section.
type Config struct {
	// URL receives one POST per record.
	URL string `yaml:"url"`
	// Headers are added to every request (X-Team: soc).
	Headers map[string]string `yaml:"headers"`
	// Secret (or the first line of SecretFile) is the HMAC-SHA256 key
	// that signs each request; empty sends no signature.
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// SignatureHeader carries "sha256=<hex>" of HMAC(secret, timestamp +
	// "." + body), TimestampHeader the Unix time (seconds) it was signed.
	SignatureHeader string `yaml:"signature_header"`
	TimestampHeader string `yaml:"timestamp_header"`
	// BearerToken (or BearerTokenFile) is sent as Authorization: Bearer;
	// BasicAuth as Authorization: Basic. At most one of the two.
	BearerToken     string     `yaml:"bearer_token"`
	BearerTokenFile string     `yaml:"bearer_token_file"`
	BasicAuth       *BasicAuth `yaml:"basic_auth"`
	// Template (or TemplateFile) renders the body, a Go text/template
	// over the record (docs/outputs.md); empty sends the record's JSON.
	Template     string `yaml:"template"`
	TemplateFile string `yaml:"template_file"`
	// ContentType of the body; a JSON type makes each rendering checked
	// to be JSON.
	ContentType string `yaml:"content_type"`
	// Timeout bounds one request, connection and response included.
	Timeout time.Duration `yaml:"timeout"`
	TLS     TLS           `yaml:"tls"`
}

// BasicAuth is HTTP basic authentication.
type BasicAuth struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// TLS configures https:// receivers. The system's roots are trusted
// unless CAFile is set; CertFile and KeyFile present a client
// certificate.
type TLS = deliver.TLS

// DefaultConfig signs with X-Osprey-Signature and X-Osprey-Timestamp,
// sends JSON and gives a request ten seconds.
func DefaultConfig() Config {
	return Config{
		SignatureHeader: "X-Osprey-Signature",
		TimestampHeader: "X-Osprey-Timestamp",
		ContentType:     "application/json",
		Timeout:         10 * time.Second,
	}
}

// Validate checks the section; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "must be an http:// or https:// URL, got %q", c.URL)
	}
	for k := range c.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			bad("headers", "bad header name %q", k)
		}
	}
	if c.Secret != "" && c.SecretFile != "" {
		bad("secret_file", "give secret or secret_file, not both")
	}
	if (c.Secret != "" || c.SecretFile != "") && (http.CanonicalHeaderKey(c.SignatureHeader) == "" || http.CanonicalHeaderKey(c.TimestampHeader) == "") {
		bad("signature_header", "signature_header and timestamp_header are needed to sign")
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		bad("bearer_token_file", "give bearer_token or bearer_token_file, not both")
	}
	if (c.BearerToken != "" || c.BearerTokenFile != "") && c.BasicAuth != nil {
		bad("basic_auth", "give a bearer token or basic_auth, not both")
	}
	if c.BasicAuth != nil && c.BasicAuth.Username == "" {
		bad("basic_auth.username", "required")
	}
	if c.Template != "" && c.TemplateFile != "" {
		bad("template_file", "give template or template_file, not both")
	}
	if c.Template != "" {
		if _, err := newEncoder("template", c.Template, c.ContentType); err != nil {
			bad("template", "%v", err)
		}
	}
	if c.ContentType == "" {
		bad("content_type", "required")
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be a positive duration, got %v", c.Timeout)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.cert_file", "cert_file and key_file go together")
	}
	return errors.Join(errs...)
}
