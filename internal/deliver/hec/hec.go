// Package hec is the Splunk HTTP Event Collector output (type:
// splunk_hec): records are HEC event objects (time, host, source,
// sourcetype, index, indexed fields, and the Finding, Session or
// DeviceMetric as the event), posted in batches to
// /services/collector/event with the token, optionally gzipped, on a
// channel; with indexer acknowledgement, records leave the queue only
// once HEC says they are indexed (docs/outputs-hec.md).
package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
)

// HEC is a deliver.Destination that posts batches of HEC events.
type HEC struct {
	cfg      Config
	eventURL string
	ackURL   string
	auth     string
	channel  string
	client   *http.Client
	enc      *Encoder
	now      func() time.Time

	// zw is reused: Send is called from one goroutine at a time.
	zw *gzip.Writer
}

// New reads the token file and certificates and builds the HTTP client;
// cfg must be valid.
func New(cfg Config) (*HEC, error) {
	h := &HEC{cfg: cfg, channel: cfg.Channel, enc: newEncoder(cfg), now: time.Now}
	h.eventURL, h.ackURL = cfg.endpoints()
	token := cfg.Token
	if cfg.TokenFile != "" {
		b, err := os.ReadFile(cfg.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("token_file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if token = strings.TrimSpace(line); token == "" || strings.ContainsAny(token, " \t") {
			return nil, fmt.Errorf("token_file: %s does not hold a token on its first line", cfg.TokenFile)
		}
	}
	h.auth = "Splunk " + token
	if h.channel == "" {
		h.channel = uuid.NewString()
	}
	tlsCfg, err := cfg.TLS.Client("")
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	tr.MaxIdleConnsPerHost = 2
	// The body is gzipped here or not at all: the transport must not
	// ask for (and silently undo) compression of the answers.
	tr.DisableCompression = true
	h.client = &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect means the URL is not HEC's; following it would turn
		// the POST into a GET. It is answered as the 3xx it is.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if cfg.Gzip {
		// BestSpeed: JSON compresses well at any level, and the CPU is
		// better spent on the records.
		h.zw, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	}
	return h, nil
}

// Encoder writes records as this output's HEC events.
func (h *HEC) Encoder() deliver.Encoder { return h.enc }

// Channel is the X-Splunk-Request-Channel the output sends on.
func (h *HEC) Channel() string { return h.channel }

// Close releases idle connections.
func (h *HEC) Close() error {
	h.client.CloseIdleConnections()
	return nil
}

// sentRequest is a request HEC accepted: the batch index after its last
// event, and its ack id.
type sentRequest struct {
	end   int
	ackID int64
}

// Send posts the batch in requests of at most max_batch_events events
// and max_batch_bytes bytes, in order, and stops at the first refusal.
// With ack, the events of accepted requests count as sent only once HEC
// acknowledges them, in order: a request not acknowledged within
// ack_timeout is sent again, with every request after it (at least
// once).
func (h *HEC) Send(ctx context.Context, batch []deliver.Record) (int, error) {
	var accepted []sentRequest
	off, limit := 0, h.cfg.MaxBatchEvents
	refuse := -1 // the event HEC named invalid, once those before it are sent
	var refuseErr, failErr error
	for off < len(batch) {
		if off == refuse {
			failErr = refuseErr
			break
		}
		n := h.fit(batch[off:], limit)
		if refuse > off {
			n = min(n, refuse-off)
		}
		ackID, err := h.post(ctx, batch[off:off+n])
		if errors.Is(err, errNoAckID) {
			off += n
			failErr = err // reported once the batch is through
			continue
		}
		if err != nil {
			var he *Error
			if errors.As(err, &he) {
				switch f := he.fault(); {
				case f == faultTooLarge && n > 1:
					// HEC's max_content_length is below max_batch_bytes:
					// smaller requests for the rest of the batch.
					limit = max(1, n/2)
					continue
				case f == faultEvents && he.InvalidEvent > 0 && he.InvalidEvent < n && refuse < 0:
					// The events before the invalid one are valid: they
					// are sent on their own (again, if HEC kept them),
					// then the invalid one is refused.
					refuse, refuseErr = off+he.InvalidEvent, deliver.Permanent(he, 1)
					continue
				}
			}
			failErr = err
			break
		}
		off += n
		if h.cfg.Ack {
			accepted = append(accepted, sentRequest{end: off, ackID: ackID})
		}
	}
	if h.cfg.Ack && len(accepted) > 0 {
		if acked, err := h.waitAcks(ctx, accepted); acked < off {
			return acked, err
		}
	}
	return off, failErr
}

// fit is how many records from the front of recs make one request: at
// least one, at most limit, and at most max_batch_bytes.
func (h *HEC) fit(recs []deliver.Record, limit int) int {
	size := 0
	for i, r := range recs {
		if i == limit || (i > 0 && size+len(r.Data) > int(h.cfg.MaxBatchBytes)) {
			return i
		}
		size += len(r.Data)
	}
	return len(recs)
}

// post sends one request of recs, concatenated; it returns the ack id
// (-1 without ack) or the classified refusal.
func (h *HEC) post(ctx context.Context, recs []deliver.Record) (int64, error) {
	// The body handed to the transport is new for each request: the
	// transport may still read it after Do returns (an early answer),
	// so it must not be a reused buffer.
	size := 0
	for _, r := range recs {
		size += len(r.Data)
	}
	var body []byte
	if h.zw != nil {
		z := bytes.NewBuffer(make([]byte, 0, size/4+64))
		h.zw.Reset(z)
		for _, r := range recs {
			h.zw.Write(r.Data)
		}
		if err := h.zw.Close(); err != nil {
			return -1, fmt.Errorf("splunk_hec: gzip: %w", err)
		}
		body = z.Bytes()
	} else {
		body = make([]byte, 0, size)
		for _, r := range recs {
			body = append(body, r.Data...)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.eventURL, bytes.NewReader(body))
	if err != nil {
		return -1, deliver.Unavailable(fmt.Errorf("splunk_hec: %w", err))
	}
	h.headers(req)
	if h.zw != nil {
		req.Header.Set("Content-Encoding", "gzip")
	}
	status, answer, header, err := h.do(req)
	if err != nil {
		return -1, err
	}
	resp, perr := ParseResponse(answer)
	if status == http.StatusOK && perr == nil && resp.Code == CodeSuccess {
		if !h.cfg.Ack {
			return -1, nil
		}
		if resp.AckID < 0 {
			// HEC took the events but will not acknowledge them: the
			// token has no indexer acknowledgement. Sending them again
			// would only duplicate them, so they count as sent, and the
			// error is reported for every request until ack is turned
			// off or enabled on the token.
			return -1, errNoAckID
		}
		return resp.AckID, nil
	}
	he := &Error{Status: status, Response: resp}
	if perr != nil {
		he.Response = Response{Code: -1, AckID: -1, InvalidEvent: -1}
		he.Body = snippet(answer)
	}
	return -1, he.classify(len(recs), webhook.ParseRetryAfter(header.Get("Retry-After"), h.now()))
}

var errNoAckID = fmt.Errorf("%w: ack is true but HEC answered without an ackId: enable indexer acknowledgement on the token, or set ack: false (events were accepted, unacknowledged)", ErrConfig)

func (h *HEC) headers(req *http.Request) {
	req.Header.Set("Authorization", h.auth)
	req.Header.Set("X-Splunk-Request-Channel", h.channel)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "osprey-splunk-hec")
}

// do sends req and reads the answer (a bounded amount: HEC's answers
// are small JSON objects). No answer at all means HEC is unavailable.
func (h *HEC) do(req *http.Request) (status int, body []byte, header http.Header, err error) {
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, nil, nil, deliver.Unavailable(fmt.Errorf("splunk_hec: %w", err))
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	// Drain a little more so that the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, nil, nil, deliver.Unavailable(fmt.Errorf("splunk_hec: reading the answer: %w", err))
	}
	return resp.StatusCode, body, resp.Header, nil
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		b = b[:200]
	}
	return strings.ToValidUTF8(string(b), "\ufffd")
}

// waitAcks queries the acknowledgement of accepted requests, sooner at
// first and then every ack_interval, until all are acknowledged or
// ack_timeout passes. It returns how many events from the batch's front
// are acknowledged (the end of the longest run of acknowledged
// requests) and, when not all are, why.
func (h *HEC) waitAcks(ctx context.Context, reqs []sentRequest) (int, error) {
	acked := make(map[int64]bool, len(reqs))
	prefix := func() int {
		end := 0
		for _, r := range reqs {
			if !acked[r.ackID] {
				break
			}
			end = r.end
		}
		return end
	}
	deadline := h.now().Add(h.cfg.AckTimeout)
	wait := min(100*time.Millisecond, h.cfg.AckInterval)
	var lastErr error
	for {
		if !sleep(ctx, wait) {
			return prefix(), ctx.Err()
		}
		wait = min(2*wait, h.cfg.AckInterval)
		var ids []int64
		for _, r := range reqs {
			if !acked[r.ackID] {
				ids = append(ids, r.ackID)
			}
		}
		got, err := h.queryAcks(ctx, ids)
		for id, ok := range got {
			if ok {
				acked[id] = true
			}
		}
		if end := prefix(); end == reqs[len(reqs)-1].end {
			return end, nil
		}
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrConfig) {
				return prefix(), err
			}
			lastErr = err
		}
		if !h.now().Before(deadline) {
			err := fmt.Errorf("splunk_hec: %d of %d requests not acknowledged within ack_timeout (%v) on channel %s; their events are sent again (at least once)",
				len(ids)-countTrue(got), len(reqs), h.cfg.AckTimeout, h.channel)
			if lastErr != nil {
				err = fmt.Errorf("%w: last query: %w", err, lastErr)
			}
			return prefix(), deliver.Unavailable(err)
		}
		wait = min(wait, max(time.Millisecond, deadline.Sub(h.now())))
	}
}

func countTrue(m map[int64]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// queryAcks asks /services/collector/ack about ids on the output's
// channel.
func (h *HEC) queryAcks(ctx context.Context, ids []int64) (map[int64]bool, error) {
	var body []byte
	body = append(body, `{"acks":[`...)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	body = append(body, "]}"...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.ackURL+"?channel="+h.channel, bytes.NewReader(body))
	if err != nil {
		return nil, deliver.Unavailable(fmt.Errorf("splunk_hec: ack: %w", err))
	}
	h.headers(req)
	status, answer, header, err := h.do(req)
	if err != nil {
		return nil, err
	}
	if status == http.StatusOK {
		acks, err := ParseAcks(answer)
		if err != nil {
			return nil, fmt.Errorf("splunk_hec: ack: %w", err)
		}
		return acks, nil
	}
	he := &Error{Status: status}
	if he.Response, err = ParseResponse(answer); err != nil {
		he.Body = snippet(answer)
	}
	return nil, he.classify(len(ids), webhook.ParseRetryAfter(header.Get("Retry-After"), h.now()))
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var _ deliver.Destination = (*HEC)(nil)
