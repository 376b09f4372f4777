// Package daemon holds what every long-running osprey process shares: the
// HTTP endpoint that load balancers probe (/healthz) and Prometheus
// scrapes (/metrics), and signal handling.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports nil when a component is healthy.
type Check func() error

// Health serves /healthz and /metrics. AWS Network and Gateway Load
// Balancers mark a sensor unhealthy on any non-2xx answer, which takes it
// out of the UDP rotation while it is starting or stopping.
type Health struct {
	mu     sync.Mutex
	checks map[string]Check
	ready  bool
	srv    *http.Server
	ln     net.Listener
}

// NewHealth builds the endpoint; reg may be nil (no /metrics).
func NewHealth(reg *prometheus.Registry) *Health {
	h := &Health{checks: map[string]Check{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h.serveHealth)
	if reg != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	}
	h.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return h
}

// Register adds a named check.
func (h *Health) Register(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
}

// SetReady marks the process as ready (sources open) or not (stopping).
func (h *Health) SetReady(ready bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready = ready
}

func (h *Health) serveHealth(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	status := map[string]string{}
	ok := h.ready
	if !h.ready {
		status["process"] = "not ready"
	}
	for name, c := range h.checks {
		if err := c(); err != nil {
			ok = false
			status[name] = err.Error()
		} else {
			status[name] = "ok"
		}
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"healthy": ok, "checks": status})
}

// Start listens on addr ("127.0.0.1:9780"; port 0 picks one).
func (h *Health) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	h.ln = ln
	go func() {
		if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // Serve only fails when the listener breaks; Stop reports nothing more useful
		}
	}()
	return nil
}

// Addr is the address the endpoint listens on.
func (h *Health) Addr() string { return h.ln.Addr().String() }

// Stop shuts the endpoint down.
func (h *Health) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return h.srv.Shutdown(ctx)
}
