package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func (s *Server) whoami(c *call) (any, error) { return c.tok, nil }

func (s *Server) sources(c *call) (any, error) {
	out := []Source{}
	if s.d.Sources != nil {
		for _, src := range s.d.Sources(c.ctx) {
			// A source belongs to the tenant it writes into; the others'
			// counters are theirs.
			if src.Tenant == c.tenant() {
				out = append(out, src)
			}
		}
	}
	return list(out, ""), nil
}

// Accepted is the answer of an ingest.
type Accepted struct {
	Accepted int `json:"accepted"`
}

// maxIngest is the most metrics one request may carry.
const maxIngest = 10000

// ingestMetrics takes device metrics as a JSON array or JSON lines. The
// tenant is the token's: a metric naming another is refused.
func (s *Server) ingestMetrics(c *call) (any, error) {
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Param: "body",
				Message: fmt.Sprintf("over %d bytes (api.max_body)", tooBig.Limit)}
		}
		return nil, err
	}
	var batch []schema.DeviceMetric
	trimmed := bytes.TrimSpace(body)
	strict := func(b []byte, v any, where string) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return badParam("body", "%s: %v", where, err)
		}
		return nil
	}
	switch {
	case len(trimmed) == 0:
		return nil, badParam("body", "empty: device metrics (a JSON array or JSON lines) are expected")
	case trimmed[0] == '[':
		if err := strict(trimmed, &batch, "array"); err != nil {
			return nil, err
		}
	default:
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		sc.Buffer(make([]byte, 0, 64<<10), int(s.cfg.MaxBody))
		for line := 1; sc.Scan(); line++ {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var m schema.DeviceMetric
			if err := strict(sc.Bytes(), &m, fmt.Sprintf("line %d", line)); err != nil {
				return nil, err
			}
			batch = append(batch, m)
		}
		if err := sc.Err(); err != nil {
			return nil, badParam("body", "%v", err)
		}
	}
	if len(batch) > maxIngest {
		return nil, badParam("body", "%d metrics: at most %d a request", len(batch), maxIngest)
	}
	now := s.d.Now().UTC()
	for i := range batch {
		m := &batch[i]
		where := fmt.Sprintf("body[%d]", i)
		switch {
		case m.Tenant != "" && m.Tenant != c.tenant():
			return nil, &Error{Status: http.StatusForbidden, Code: CodeForbidden, Param: where + ".tenant",
				Message: "a token writes into its own tenant only"}
		case m.Device == "":
			return nil, badParam(where+".device", "empty")
		case m.Name == "":
			return nil, badParam(where+".name", "empty")
		}
		m.Tenant = c.tenant()
		if m.Time.IsZero() {
			m.Time = now
		}
	}
	c.target = fmt.Sprintf("%d metrics", len(batch))
	var werr error
	if s.d.Metrics != nil {
		werr = s.d.Metrics.WriteMetrics(c.ctx, batch)
	} else {
		_, werr = s.d.Store.WriteMetrics(c.ctx, batch)
	}
	if werr != nil {
		return nil, werr
	}
	return Accepted{Accepted: len(batch)}, nil
}

func (s *Server) listTokens(c *call) (any, error) {
	toks, err := s.d.Tokens.List(c.tenant())
	if err != nil {
		return nil, err
	}
	return list(toks, ""), nil
}

// TokenRequest is the body of POST /tokens; the tenant is the caller's.
type TokenRequest struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// ExpiresIn is a duration (2160h, 90d); empty never expires.
	ExpiresIn string `json:"expires_in,omitempty"`
}

// NewToken is a created token with its secret, shown this once.
type NewToken struct {
	Token
	Secret string `json:"secret"`
}

func (s *Server) createToken(c *call) (any, error) {
	var req TokenRequest
	if err := decodeJSON(c.r, &req); err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, badParam("name", "empty")
	}
	if _, err := ParseRole(string(req.Role)); err != nil {
		return nil, badParam("role", "%s", err.Error())
	}
	now := s.d.Now()
	var expires time.Time
	if req.ExpiresIn != "" {
		d, err := ParseLifetime(req.ExpiresIn)
		if err != nil {
			return nil, badParam("expires_in", "%s", err.Error())
		}
		expires = now.Add(d)
	}
	secret, tok, err := s.d.Tokens.Create(req.Name, c.tenant(), req.Role, expires, now)
	if err != nil {
		return nil, err
	}
	c.target = tok.ID
	return NewToken{Token: tok, Secret: secret}, nil
}

func (s *Server) revokeToken(c *call) (any, error) {
	id := c.r.PathValue("id")
	c.target = id
	err := s.d.Tokens.Revoke(id, c.tenant())
	if errors.Is(err, ErrNoToken) {
		return nil, notFound("no token %q", id)
	}
	return nil, err
}
