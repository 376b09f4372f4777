package hec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Status codes of HEC's answers ("Troubleshoot HTTP Event Collector",
// Splunk Enterprise Getting Data In), with the HTTP status each comes with.
const (
	CodeSuccess            = 0  // 200
	CodeTokenDisabled      = 1  // 403
	CodeTokenRequired      = 2  // 401
	CodeInvalidAuth        = 3  // 401
	CodeInvalidToken       = 4  // 403
	CodeNoData             = 5  // 400
	CodeInvalidDataFormat  = 6  // 400
	CodeIncorrectIndex     = 7  // 400
	CodeInternalError      = 8  // 500
	CodeServerBusy         = 9  // 503
	CodeChannelMissing     = 10 // 400
	CodeInvalidChannel     = 11 // 400
	CodeEventRequired      = 12 // 400
	CodeEventBlank         = 13 // 400
	CodeAckDisabled        = 14 // 400
	CodeIndexedFields      = 15 // 400
	CodeQueryStringAuthOff = 16 // 400
	CodeHealthy            = 17 // 200
	CodeUnhealthyQueues    = 18 // 503
	CodeUnhealthyAck       = 19 // 503
	CodeUnhealthyBoth      = 20 // 503
)

// Response is HEC's answer to a request to /services/collector/event.
// Code is -1 and AckID and InvalidEvent are -1 when the answer does not
// say (a proxy's error page has none of them).
type Response struct {
	Text string
	Code int
	// AckID is the request's acknowledgement id, with indexer
	// acknowledgement.
	AckID int64
	// InvalidEvent is the 0-based number of the first invalid event of
	// a refused request.
	InvalidEvent int
}

// ParseResponse reads HEC's JSON answer. An answer that is not a JSON
// object, or whose fields have the wrong types, is an error.
func ParseResponse(body []byte) (Response, error) {
	var raw struct {
		Text         *string `json:"text"`
		Code         *int    `json:"code"`
		AckID        *int64  `json:"ackId"`
		InvalidEvent *int    `json:"invalid-event-number"`
	}
	r := Response{Code: -1, AckID: -1, InvalidEvent: -1}
	if err := json.Unmarshal(bytes.TrimSpace(body), &raw); err != nil {
		return r, fmt.Errorf("HEC answer: %w", err)
	}
	if raw.Text != nil {
		r.Text = *raw.Text
	}
	if raw.Code != nil && *raw.Code >= 0 {
		r.Code = *raw.Code
	}
	if raw.AckID != nil && *raw.AckID >= 0 {
		r.AckID = *raw.AckID
	}
	if raw.InvalidEvent != nil && *raw.InvalidEvent >= 0 {
		r.InvalidEvent = *raw.InvalidEvent
	}
	return r, nil
}

// ParseAcks reads the answer of /services/collector/ack:
// {"acks":{"0":true,"1":false}}. Keys that are not ack ids are errors.
func ParseAcks(body []byte) (map[int64]bool, error) {
	var raw struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(body), &raw); err != nil {
		return nil, fmt.Errorf("HEC ack answer: %w", err)
	}
	if raw.Acks == nil {
		return nil, errors.New(`HEC ack answer: no "acks" object`)
	}
	out := make(map[int64]bool, len(raw.Acks))
	for k, v := range raw.Acks {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("HEC ack answer: %q is not an ack id", k)
		}
		out[id] = v
	}
	return out, nil
}

// ErrConfig marks refusals that are the configuration's fault rather
// than the records': a bad, missing or disabled token, an index the
// token may not write, a channel or acknowledgement setting HEC does not
// accept, a URL that is not HEC. They are retried without limit (the
// records stay queued, up to queue.max_records) until the configuration
// is fixed, and logged each time.
var ErrConfig = errors.New("splunk_hec: configuration error (records stay queued until it is fixed)")

// Error is a refused request: the HTTP status and HEC's answer.
type Error struct {
	Status int
	Response
	// Body is the start of an answer that was not HEC's JSON.
	Body string
}

func (e *Error) Error() string {
	if e.Code >= 0 {
		return fmt.Sprintf("splunk_hec: %d %s: code %d: %s", e.Status, http.StatusText(e.Status), e.Code, e.Text)
	}
	return fmt.Sprintf("splunk_hec: %d %s: %s", e.Status, http.StatusText(e.Status), e.Body)
}

// configCodes are HEC codes that say the configuration is wrong.
var configCodes = map[int]bool{
	CodeTokenDisabled: true, CodeTokenRequired: true, CodeInvalidAuth: true, CodeInvalidToken: true,
	CodeIncorrectIndex: true, CodeChannelMissing: true, CodeInvalidChannel: true,
	CodeAckDisabled: true, CodeQueryStringAuthOff: true,
}

// fault is whose fault a refusal is, which decides what happens to
// the events.
type fault int

const (
	faultRetry    fault = iota // the receiver's, maybe passing (500 code 8, other 5xx)
	faultConfig                // the configuration's
	faultBusy                  // the receiver is busy or unhealthy
	faultEvents                // the events'
	faultTooLarge              // the request's size (413)
)

func (e *Error) fault() fault {
	switch s := e.Status; {
	case configCodes[e.Code] || s == http.StatusUnauthorized || s == http.StatusForbidden ||
		s == http.StatusNotFound || s == http.StatusMethodNotAllowed || (s >= 300 && s < 400):
		return faultConfig
	case s == http.StatusServiceUnavailable || s == http.StatusTooManyRequests ||
		s == http.StatusRequestTimeout || e.Code == CodeServerBusy:
		return faultBusy
	case s == http.StatusRequestEntityTooLarge:
		return faultTooLarge
	case s >= 400 && s < 500:
		return faultEvents
	}
	// 5xx, and a 1xx or 2xx without success: not HEC speaking.
	return faultRetry
}

// classify turns a refusal of a request of n events into the delivery
// loop's error classes (deliver.Destination):
//
//   - the configuration's fault (tokens 1-4, index 7, channel 10-11,
//     ack 14, 16; 401, 403, 404, 405, 3xx): ErrConfig, unavailable;
//   - busy or unhealthy (503, codes 9, 18-20; 429, 408): unavailable,
//     with the receiver's Retry-After;
//   - the events' fault (400 with codes 5, 6, 12, 13, 15, or none;
//     other 4xx; 413 for a single event): permanent — the first invalid
//     event alone when HEC names it, else the request's n;
//   - anything else (500 code 8, other 5xx): retried, then dead-lettered
//     after retry.max_attempts.
func (e *Error) classify(n int, retryAfter time.Duration) error {
	switch e.fault() {
	case faultConfig:
		return deliver.RetryAfter(deliver.Unavailable(fmt.Errorf("%w: %w", ErrConfig, e)), retryAfter)
	case faultBusy:
		return deliver.RetryAfter(deliver.Unavailable(e), retryAfter)
	case faultEvents, faultTooLarge:
		if e.InvalidEvent >= 0 && e.InvalidEvent < n {
			return deliver.Permanent(e, 1)
		}
		return deliver.Permanent(e, n)
	}
	return deliver.RetryAfter(e, retryAfter)
}
