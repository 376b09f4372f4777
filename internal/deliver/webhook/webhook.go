// Package webhook is the webhook output (type: webhook): one HTTP POST
// per record, its body the record's JSON or a template's rendering,
// signed with HMAC-SHA256 over a timestamp and the body so that a
// receiver can tell it came from Osprey and is not a replay
// (docs/outputs.md).
package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Webhook is a deliver.Destination that POSTs each record.
type Webhook struct {
	cfg    Config
	client *http.Client
	secret []byte
	auth   string // the Authorization header; "" for none
	enc    deliver.Encoder
	now    func() time.Time
}

// New reads the section's files (secret, token, template, certificates)
// and builds the HTTP client; cfg must be valid.
func New(cfg Config) (*Webhook, error) {
	w := &Webhook{cfg: cfg, secret: []byte(cfg.Secret), now: time.Now}
	if cfg.SecretFile != "" {
		s, err := firstLine(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("secret_file: %w", err)
		}
		w.secret = []byte(s)
	}
	token := cfg.BearerToken
	if cfg.BearerTokenFile != "" {
		var err error
		if token, err = firstLine(cfg.BearerTokenFile); err != nil {
			return nil, fmt.Errorf("bearer_token_file: %w", err)
		}
	}
	switch {
	case token != "":
		w.auth = "Bearer " + token
	case cfg.BasicAuth != nil:
		r, _ := http.NewRequest(http.MethodPost, "http://x", nil)
		r.SetBasicAuth(cfg.BasicAuth.Username, cfg.BasicAuth.Password)
		w.auth = r.Header.Get("Authorization")
	}
	text, name := cfg.Template, "template"
	if cfg.TemplateFile != "" {
		b, err := os.ReadFile(cfg.TemplateFile)
		if err != nil {
			return nil, fmt.Errorf("template_file: %w", err)
		}
		text, name = string(b), cfg.TemplateFile
	}
	var err error
	if w.enc, err = newEncoder(name, text, cfg.ContentType); err != nil {
		if cfg.TemplateFile != "" {
			return nil, fmt.Errorf("template_file: %w", err)
		}
		return nil, fmt.Errorf("template: %w", err)
	}
	tlsCfg, err := cfg.TLS.Client("")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.MaxIdleConnsPerHost = 4
	w.client = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect is the receiver's configuration problem, and
		// following one would turn a POST into a GET: it is answered as
		// the 3xx it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return w, nil
}

// newEncoder is the record's JSON without a template, else the template,
// checked to render JSON when the content type is JSON.
func newEncoder(name, text, contentType string) (deliver.Encoder, error) {
	if text == "" {
		return deliver.JSONEncoder{}, nil
	}
	return deliver.NewTemplate(name, text, isJSON(contentType))
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func firstLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line), nil
}

// Encoder renders records as this webhook's bodies.
func (w *Webhook) Encoder() deliver.Encoder { return w.enc }

// Send POSTs the records one at a time, in order, and stops at the
// first failure.
func (w *Webhook) Send(ctx context.Context, batch []deliver.Record) (int, error) {
	for i := range batch {
		if err := w.post(ctx, &batch[i]); err != nil {
			return i, err
		}
	}
	return len(batch), nil
}

// Close releases idle connections.
func (w *Webhook) Close() error {
	w.client.CloseIdleConnections()
	return nil
}

// post sends one record; its error is classified for the delivery
// loop: 2xx is delivered; 429 and 503 (and no answer at all) mean the
// receiver is unavailable; 408 and other 5xx are retried; any other
// status is a refusal of this record.
func (w *Webhook) post(ctx context.Context, r *deliver.Record) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(r.Data))
	if err != nil {
		return deliver.Permanent(fmt.Errorf("webhook: %w", err), 0)
	}
	h := req.Header
	for k, v := range w.cfg.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", w.cfg.ContentType)
	h.Set("User-Agent", "osprey-webhook")
	h.Set("X-Osprey-Kind", r.Kind.String())
	// The same record always has the same delivery id, retries and
	// restarts included: receivers deduplicate on it (delivery is at
	// least once).
	sum := sha256.Sum256(r.Data)
	h.Set("X-Osprey-Delivery", hex.EncodeToString(sum[:16]))
	if w.auth != "" {
		h.Set("Authorization", w.auth)
	}
	if len(w.secret) > 0 {
		// Signed at each attempt: a retry an hour later is fresh, not stale.
		ts := w.now().Unix()
		h.Set(w.cfg.TimestampHeader, strconv.FormatInt(ts, 10))
		h.Set(w.cfg.SignatureHeader, Sign(w.secret, ts, r.Data))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return deliver.Unavailable(fmt.Errorf("webhook: %w", err))
	}
	defer resp.Body.Close()
	// Read a little of the answer for the error, and drain a little
	// more so that the connection can be reused.
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	err = fmt.Errorf("webhook: %s: %s", resp.Status, bytes.TrimSpace(msg))
	after := ParseRetryAfter(resp.Header.Get("Retry-After"), w.now())
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return deliver.RetryAfter(deliver.Unavailable(err), after)
	case code == http.StatusRequestTimeout || code >= 500:
		return deliver.RetryAfter(err, after)
	}
	return deliver.Permanent(err, 1)
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an
// HTTP-date (RFC 9110 §10.2.3). Anything else, or a time past, is 0.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

var _ deliver.Destination = (*Webhook)(nil)
