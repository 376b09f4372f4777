package defender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"time"
)

// Handler serves POST /v1/defender/things/{thing}/metrics: the body is a
// report (Content-Type application/json or application/cbor), the answer
// the JSON reply document, with 200 when accepted, 400 when the report is
// at fault, 401/403 for credentials, 429 when throttled and 503 when it
// could not be stored. With users configured, requests need HTTP basic
// auth with one of them.
func (c *Collector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/defender/things/{thing}/metrics", c.serveReport)
	return mux
}

func (c *Collector) serveReport(w http.ResponseWriter, req *http.Request) {
	thing := req.PathValue("thing")
	now := c.now().UTC()
	var p principal
	if c.auth.users != nil {
		user, pass, _ := req.BasicAuth()
		var ok bool
		if p, ok = c.auth.password(user, pass); !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="osprey defender"`)
			c.count.rejected.WithLabelValues("http", CodeNotAuthorized).Inc()
			writeReply(w, http.StatusUnauthorized, rejected(thing, 0, now, &ReportError{Code: CodeNotAuthorized, Message: "unknown user or wrong password"}))
			return
		}
	} else if c.auth.certs {
		// Validate keeps this from being served on its own listener; a
		// handler mounted elsewhere cannot see device certificates.
		writeReply(w, http.StatusForbidden, rejected(thing, 0, now, &ReportError{Code: CodeNotAuthorized, Message: "reports over HTTP need defender.mqtt.users"}))
		return
	}
	var f Format
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		f = FormatJSON
	case "application/cbor":
		f = FormatCBOR
	default:
		c.count.rejected.WithLabelValues("http", CodeInvalidPayload).Inc()
		writeReply(w, http.StatusUnsupportedMediaType, rejected(thing, 0, now,
			invalid("", "Content-Type must be application/json or application/cbor")))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, int64(c.cfg.MaxReportBytes)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			c.count.rejected.WithLabelValues("http", CodeInvalidPayload).Inc()
			writeReply(w, http.StatusRequestEntityTooLarge, rejected(thing, 0, now, invalid("", "report over the limit of max_report_bytes")))
		}
		return
	}
	peer, _, _ := net.SplitHostPort(req.RemoteAddr)
	answer := make(chan Reply, 1)
	c.submit(req.Context(), report{thing: thing, format: f, payload: body, transport: "http",
		source: "http://" + peer + req.URL.Path, principal: p, respond: func(r Reply) { answer <- r }})
	select {
	case r := <-answer:
		writeReply(w, statusOf(&r), r)
	case <-req.Context().Done():
	}
}

func statusOf(r *Reply) int {
	if r.Status == StatusAccepted {
		return http.StatusOK
	}
	switch r.StatusDetails.ErrorCode {
	case CodeThrottled:
		return http.StatusTooManyRequests
	case CodeNotAuthorized:
		return http.StatusForbidden
	case CodeInternalFailure:
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

func writeReply(w http.ResponseWriter, status int, r Reply) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(r)
}

// startHTTP serves Handler on http.listen; stop shuts it down, letting
// requests in flight get their answers.
func (c *Collector) startHTTP(errs chan<- error) (stop func(), err error) {
	l, err := net.Listen("tcp", c.cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("defender.http.listen: %w", err)
	}
	c.httpAddr = l.Addr().String()
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	go func() {
		if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("defender.http: %w", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
