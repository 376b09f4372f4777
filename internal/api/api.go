// Package api is Osprey's REST API (docs/api.md): JSON under /api/v1,
// described by an OpenAPI 3 document generated from the same route table
// that serves it. Every call carries a bearer token; the token gives the
// caller's tenant, which scopes every store query, and its role, which
// limits what the call may do. Every change is appended to an audit log.
package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/segment"
	"github.com/osprey-ndr/osprey/internal/store"
)

// Config is the server's part of the api section (internal/config).
type Config struct {
	Listen   string
	AuditLog string
	TLSCert  string
	TLSKey   string
	MaxBody  int64
	Timeout  time.Duration
	// CORSOrigins may call the API from a browser page (cors); "*" is any.
	CORSOrigins []string
}

// Engine is what the API asks of a live detection engine
// (*detect.Engine): changes to the findings it holds open.
type Engine interface {
	Acknowledge(ctx context.Context, id string) error
	Verdict(ctx context.Context, id, verdict, note string) error
	Suppress(ctx context.Context, s detect.Suppression) (detect.Suppression, error)
	Suppressions() []detect.Suppression
	RemoveSuppression(id string) error
}

// MetricSink takes ingested device metrics (the daemon's metric sink:
// enrichment, the store, detection).
type MetricSink interface {
	WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error
}

// Source is one listener or collector of the daemon, as /sources shows
// it: its counters come from the daemon's metrics registry.
type Source struct {
	Name    string             `json:"name"`
	Kind    string             `json:"kind"`
	Tenant  string             `json:"-"`
	Healthy bool               `json:"healthy"`
	Status  string             `json:"status,omitempty"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Deps are what the server answers from; only Store and Tokens are
// required.
type Deps struct {
	Store  store.Store
	Tokens *Tokens
	// Engine is the live detection engine (nil without one: verdicts
	// then go to the store and SuppressionFile only).
	Engine Engine
	// SuppressionFile and SuppressFor are detect.suppression_file and
	// detect.suppress_for, for verdicts without an engine.
	SuppressionFile string
	SuppressFor     time.Duration
	// Policies are detect.policies.
	Policies []string
	// Segmentation is the segmentation section: links, thresholds.
	Segmentation segment.Config
	// Metrics takes POST /ingest/metrics (nil: written to Store).
	Metrics MetricSink
	// Sources lists the daemon's sources (nil: none).
	Sources func(ctx context.Context) []Source
	// Registry is served at /metrics and gets the API's own metrics.
	Registry *prometheus.Registry
	Log      *slog.Logger
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

// Server is the API. New is inert; Start listens.
type Server struct {
	cfg    Config
	d      Deps
	mux    *http.ServeMux
	h      http.Handler // mux behind cors
	audit  *auditLog
	m      *metrics
	srv    *http.Server
	ln     net.Listener
	done   chan error
	routes []*Route
}

// New builds the server and its routes.
func New(cfg Config, d Deps) (*Server, error) {
	if d.Store == nil || d.Tokens == nil {
		return nil, errors.New("api: a store and tokens are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 4 << 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	s := &Server{cfg: cfg, d: d, mux: http.NewServeMux()}
	var err error
	if s.audit, err = openAudit(cfg.AuditLog); err != nil {
		return nil, err
	}
	if s.m, err = newMetrics(d.Registry); err != nil {
		return nil, err
	}
	if err := d.Registry.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "osprey_api_audit_errors_total", Help: "Audit log entries that could not be written.",
	}, func() float64 { return float64(s.audit.Errors()) })); err != nil {
		return nil, err
	}
	s.routes = s.table()
	paths := map[string][]string{}
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
		paths[rt.Path] = append(paths[rt.Path], rt.Method)
	}
	// A known path with another method is 405, anything else 404: both
	// in the error shape, not ServeMux's text.
	for p, methods := range paths {
		allow := strings.Join(methods, ", ")
		s.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed,
				Message: r.Method + " is not allowed here (" + allow + ")"})
		})
	}
	s.mux.Handle("/", s.root())
	s.h = cors(cfg.CORSOrigins, s.mux)
	return s, nil
}

// Routes is the route table (for tests and the OpenAPI document).
func (s *Server) Routes() []*Route { return s.routes }

// Handler serves the API.
func (s *Server) Handler() http.Handler { return s.h }

// Start listens on cfg.Listen, over TLS when a certificate is set.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s.srv = &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.d.Log.Handler(), slog.LevelWarn)}
	if s.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("api.tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
			NextProtos: []string{"h2", "http/1.1"}})
	}
	s.ln = ln
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	return nil
}

// Addr is the listening address, once started.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the base URL, once started.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + s.Addr()
}

// Stop drains requests (10 s at most), writes back token use times and
// closes the audit log.
func (s *Server) Stop() error {
	var errs []error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.srv.Shutdown(ctx))
		cancel()
		if err := <-s.done; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.d.Tokens.Flush(), s.audit.Close())
	return errors.Join(errs...)
}

// metricsHandler serves the registry for /metrics.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.d.Registry, promhttp.HandlerOpts{Registry: s.d.Registry})
}
