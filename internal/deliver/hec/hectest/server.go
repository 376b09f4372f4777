// Package hectest is a local Splunk HTTP Event Collector for tests: it
// answers /services/collector/event, /services/collector/ack and
// /services/collector/health as Splunk documents them ("HTTP Event
// Collector REST API endpoints", "Format events for HTTP Event
// Collector", "About HTTP Event Collector Indexer Acknowledgment",
// "Troubleshoot HTTP Event Collector"), with their status codes, and
// keeps the events it accepted.
//
// Where Splunk's documentation is silent it chooses the strict reading:
// a request with an invalid event is refused whole (its answer names
// the first invalid event), and an acknowledgement reported true is
// forgotten, as Splunk forgets it.
package hectest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options are the collector's settings, as a Splunk admin sets a token.
type Options struct {
	// Token is the one valid token; DisabledToken, when set, is known
	// but disabled (code 1).
	Token         string
	DisabledToken string
	// Ack enables indexer acknowledgement on the token: a channel is
	// required, each accepted request gets an ackId, and AckDelay after
	// it the ack endpoint reports it true.
	Ack      bool
	AckDelay time.Duration
	// Indexes is the token's allow-list; empty allows any index.
	Indexes []string
	// MaxContentLength refuses larger bodies (decompressed) with a 413;
	// 0 is no limit.
	MaxContentLength int
	// Discard counts accepted events without keeping them (benchmarks).
	Discard bool
}

// Event is one accepted event, with what came with its request.
type Event struct {
	Time       *float64        `json:"time,omitempty"`
	Host       string          `json:"host,omitempty"`
	Source     string          `json:"source,omitempty"`
	Sourcetype string          `json:"sourcetype,omitempty"`
	Index      string          `json:"index,omitempty"`
	Fields     map[string]any  `json:"fields,omitempty"`
	Event      json.RawMessage `json:"event"`
	Channel    string          `json:"-"`
	Gzip       bool            `json:"-"`
	Request    int             `json:"-"` // the request's number, from 1
}

// Reply is an answer the test makes the collector give instead of its
// own (Inject).
type Reply struct {
	Status     int
	Code       int
	Text       string
	RetryAfter string
	// Extra adds integer fields to the answer ("invalid-event-number",
	// "ackId").
	Extra map[string]int64
	// Hangup closes the connection without an answer.
	Hangup bool
}

// Server is the collector. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	events   []Event
	accepted int
	requests int
	ackReqs  int
	busy     bool
	down     bool
	injected []Reply
	channels map[string]*channel
	arrived  chan struct{}
}

type channel struct {
	next int64
	// pending are the ack ids not reported true yet, and when they
	// become true; held the events of each until then: only then are
	// they indexed (Events).
	pending map[int64]time.Time
	held    map[int64][]Event
}

// New starts a collector on a local port; Close stops it.
func New(opts Options) *Server {
	s := &Server{opts: opts, channels: map[string]*channel{}, arrived: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/collector/event", s.event)
	mux.HandleFunc("/services/collector/event/1.0", s.event)
	mux.HandleFunc("/services/collector", s.event)
	mux.HandleFunc("/services/collector/ack", s.ack)
	mux.HandleFunc("/services/collector/health", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, 17, "HEC is healthy", nil)
	})
	s.Server = httptest.NewServer(mux)
	return s
}

// NewTLS is New over HTTPS with httptest's certificate.
func NewTLS(opts Options) *Server {
	s := New(opts)
	s.Server.Close()
	s.Server = httptest.NewUnstartedServer(s.Server.Config.Handler)
	s.Server.StartTLS()
	return s
}

// Events are the events indexed, in order: with ack, those whose
// acknowledgement delay has passed.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(time.Now())
	return slices.Clone(s.events)
}

// sweep indexes the held events whose time has come, by channel and ack
// id; s.mu is held.
func (s *Server) sweep(now time.Time) {
	for _, name := range sortedKeys(s.channels) {
		c := s.channels[name]
		for _, id := range sortedKeys(c.held) {
			if at := c.pending[id]; !now.Before(at) {
				s.index(c.held[id])
				delete(c.held, id)
			}
		}
	}
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Accepted counts the events accepted (acknowledged or not).
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Requests counts requests to the event endpoint; AckRequests to the ack
// endpoint.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func (s *Server) AckRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ackReqs
}

// SetBusy makes the collector answer 503 code 9 (Server is busy), as
// Splunk does when its queues are full.
func (s *Server) SetBusy(busy bool) {
	s.mu.Lock()
	s.busy = busy
	s.mu.Unlock()
}

// SetDown makes the collector close every connection without an answer.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetAckDelay changes how long new acknowledgements take.
func (s *Server) SetAckDelay(d time.Duration) {
	s.mu.Lock()
	s.opts.AckDelay = d
	s.mu.Unlock()
}

// Inject queues answers for the next requests to the event endpoint,
// one each, before the collector answers on its own again.
func (s *Server) Inject(r ...Reply) {
	s.mu.Lock()
	s.injected = append(s.injected, r...)
	s.mu.Unlock()
}

// Arrived receives a value after events are indexed (accepted without
// ack, acknowledged with it).
func (s *Server) Arrived() <-chan struct{} { return s.arrived }

func (s *Server) signal() {
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

// reply writes HEC's JSON answer; extra adds fields (ackId,
// invalid-event-number).
func reply(w http.ResponseWriter, status, code int, text string, extra map[string]int64) {
	b, _ := json.Marshal(text)
	var out bytes.Buffer
	fmt.Fprintf(&out, `{"text":%s,"code":%d`, b, code)
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&out, `,%q:%d`, k, extra[k])
	}
	out.WriteByte('}')
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(out.Bytes())
}

func hangup(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// guid is the form Splunk wants a channel in.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// authorize checks the token (codes 1-4, 16) and, with ack, the channel
// (10, 11); false when it answered.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (ch string, ok bool) {
	if r.URL.Query().Has("token") {
		reply(w, http.StatusBadRequest, 16, "Query string authorization is not enabled", nil)
		return "", false
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		reply(w, http.StatusUnauthorized, 2, "Token is required", nil)
		return "", false
	}
	tok, found := strings.CutPrefix(h, "Splunk ")
	if !found {
		reply(w, http.StatusUnauthorized, 3, "Invalid authorization", nil)
		return "", false
	}
	switch {
	case s.opts.DisabledToken != "" && tok == s.opts.DisabledToken:
		reply(w, http.StatusForbidden, 1, "Token disabled", nil)
		return "", false
	case tok != s.opts.Token:
		reply(w, http.StatusForbidden, 4, "Invalid token", nil)
		return "", false
	}
	ch = r.Header.Get("X-Splunk-Request-Channel")
	if ch == "" {
		ch = r.URL.Query().Get("channel")
	}
	if s.opts.Ack {
		if ch == "" {
			reply(w, http.StatusBadRequest, 10, "Data channel is missing", nil)
			return "", false
		}
		if !guid.MatchString(ch) {
			reply(w, http.StatusBadRequest, 11, "Invalid data channel", nil)
			return "", false
		}
	}
	return ch, true
}

func (s *Server) event(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	busy, down := s.busy, s.down
	var inj *Reply
	if len(s.injected) > 0 {
		inj = &s.injected[0]
		s.injected = s.injected[1:]
	}
	s.mu.Unlock()
	body, rerr := io.ReadAll(r.Body)
	switch {
	case down:
		hangup(w)
		return
	case inj != nil && inj.Hangup:
		hangup(w)
		return
	case inj != nil:
		if inj.RetryAfter != "" {
			w.Header().Set("Retry-After", inj.RetryAfter)
		}
		reply(w, inj.Status, inj.Code, inj.Text, inj.Extra)
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	case busy:
		reply(w, http.StatusServiceUnavailable, 9, "Server is busy", nil)
		return
	case rerr != nil:
		reply(w, http.StatusBadRequest, 6, "Invalid data format", nil)
		return
	}
	ch, ok := s.authorize(w, r)
	if !ok {
		return
	}
	gz := false
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		gz = true
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			reply(w, http.StatusBadRequest, 6, "Invalid data format", nil)
			return
		}
	}
	if s.opts.MaxContentLength > 0 && len(body) > s.opts.MaxContentLength {
		http.Error(w, fmt.Sprintf("Content-Length of %d too large (maximum is %d)", len(body), s.opts.MaxContentLength), http.StatusRequestEntityTooLarge)
		return
	}
	events, refusal := ParseEvents(body, s.opts.Indexes)
	if refusal != nil {
		extra := map[string]int64{}
		if refusal.InvalidEvent >= 0 {
			extra["invalid-event-number"] = int64(refusal.InvalidEvent)
		}
		reply(w, http.StatusBadRequest, refusal.Code, refusal.Text, extra)
		return
	}
	for i := range events {
		events[i].Channel, events[i].Gzip, events[i].Request = ch, gz, n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted += len(events)
	if !s.opts.Ack {
		s.index(events)
		reply(w, http.StatusOK, 0, "Success", nil)
		return
	}
	c := s.channels[ch]
	if c == nil {
		c = &channel{pending: map[int64]time.Time{}, held: map[int64][]Event{}}
		s.channels[ch] = c
	}
	id := c.next
	c.next++
	c.pending[id] = time.Now().Add(s.opts.AckDelay)
	c.held[id] = events
	reply(w, http.StatusOK, 0, "Success", map[string]int64{"ackId": id})
}

// index makes events searchable; s.mu is held.
func (s *Server) index(events []Event) {
	if !s.opts.Discard {
		s.events = append(s.events, events...)
	}
	s.signal()
}

func (s *Server) ack(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ackReqs++
	down := s.down
	s.mu.Unlock()
	if down {
		hangup(w)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	ch, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if !s.opts.Ack {
		reply(w, http.StatusBadRequest, 14, "ACK is disabled", nil)
		return
	}
	var q struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&q); err != nil || q.Acks == nil {
		reply(w, http.StatusBadRequest, 6, "Invalid data format", nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.sweep(now)
	c := s.channels[ch]
	out := make(map[string]bool, len(q.Acks))
	for _, id := range q.Acks {
		at, ok := c.lookup(id)
		done := ok && !now.Before(at)
		out[strconv.FormatInt(id, 10)] = done
		if done {
			delete(c.pending, id) // Splunk reports an ack true once
		}
	}
	b, _ := json.Marshal(map[string]any{"acks": out})
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Write(b)
}

func (c *channel) lookup(id int64) (time.Time, bool) {
	if c == nil {
		return time.Time{}, false
	}
	at, ok := c.pending[id]
	return at, ok
}

// Refusal is why ParseEvents refused a body: HEC's code and text, and
// the 0-based number of the first invalid event (-1 when none is at
// fault).
type Refusal struct {
	Code         int
	Text         string
	InvalidEvent int
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("code %d: %s (event %d)", r.Code, r.Text, r.InvalidEvent)
}

// ParseEvents reads a body of concatenated HEC event objects as the
// event endpoint does: an empty body is code 5; what is not a JSON
// object is 6; an object without "event" is 12, with a null or empty
// one 13; an index outside allow (when not empty) is 7; indexed fields
// that are not strings or arrays of strings are 15. The whole body is
// refused at the first invalid event.
func ParseEvents(body []byte, allow []string) ([]Event, *Refusal) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &Refusal{Code: 5, Text: "No data", InvalidEvent: -1}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out []Event
	for i := 0; ; i++ {
		var raw map[string]json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, nil
		}
		if err != nil || raw == nil {
			return nil, &Refusal{Code: 6, Text: "Invalid data format", InvalidEvent: i}
		}
		e, ref := parseEvent(raw, allow)
		if ref != nil {
			ref.InvalidEvent = i
			return nil, ref
		}
		out = append(out, e)
	}
}

func parseEvent(raw map[string]json.RawMessage, allow []string) (Event, *Refusal) {
	var e Event
	invalid := &Refusal{Code: 6, Text: "Invalid data format"}
	ev, ok := raw["event"]
	if !ok {
		return e, &Refusal{Code: 12, Text: "Event field is required"}
	}
	if t := bytes.TrimSpace(ev); string(t) == "null" || string(t) == `""` {
		return e, &Refusal{Code: 13, Text: "Event field cannot be blank"}
	}
	e.Event = ev
	for _, k := range []struct {
		name string
		dst  *string
	}{{"host", &e.Host}, {"source", &e.Source}, {"sourcetype", &e.Sourcetype}, {"index", &e.Index}} {
		if v, ok := raw[k.name]; ok {
			if err := json.Unmarshal(v, k.dst); err != nil {
				return e, invalid
			}
		}
	}
	if v, ok := raw["time"]; ok {
		// Splunk takes epoch seconds as a number or a numeric string.
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return e, invalid
			}
			n = json.Number(s)
		}
		f, err := n.Float64()
		if err != nil {
			return e, invalid
		}
		e.Time = &f
	}
	if e.Index != "" && len(allow) > 0 && !slices.Contains(allow, e.Index) {
		return e, &Refusal{Code: 7, Text: "Incorrect index"}
	}
	if v, ok := raw["fields"]; ok {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(v, &fields); err != nil || fields == nil {
			return e, &Refusal{Code: 15, Text: "Error in handling indexed fields"}
		}
		e.Fields = map[string]any{}
		for k, fv := range fields {
			var s string
			var l []string
			switch {
			case json.Unmarshal(fv, &s) == nil:
				e.Fields[k] = s
			case json.Unmarshal(fv, &l) == nil && l != nil:
				e.Fields[k] = l
			default:
				return e, &Refusal{Code: 15, Text: "Error in handling indexed fields"}
			}
		}
	}
	return e, nil
}
