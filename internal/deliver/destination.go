package deliver

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Encoder turns an event into one record's bytes, appended to dst. An
// error drops the event (counted as osprey_output_dropped_total{reason=
// "encode"}): an event the output cannot express will not become
// expressible later.
type Encoder interface {
	Encode(dst []byte, e *Event) ([]byte, error)
}

// Destination delivers batches of records to a receiver; it is what an
// output type implements. Send is called from one goroutine at a time.
//
// Send returns how many records from the front of batch the receiver
// accepted, and nil once it accepted them all. Records it accepted leave
// the queue whatever the error says about the rest. The error tells the
// delivery loop what to do with batch[sent:]:
//
//   - Permanent: the receiver refused the records (a 400); they go to the
//     dead-letter file now, with no retry. PermanentError.Records says how
//     many (a per-record transport such as the webhook refuses one).
//   - Unavailable: the receiver could not be reached or said it is down or
//     overloaded (connection refused, timeout, 503, 429); retried with
//     backoff for as long as it takes, since an outage is not the
//     records' fault and the queue holds them meanwhile.
//   - any other error (a 500): retried with backoff, and after
//     retry.max_attempts failures in a row sent to the dead-letter file.
//
// RetryAfter wraps either retryable kind with the receiver's own wait.
type Destination interface {
	Send(ctx context.Context, batch []Record) (sent int, err error)
	Close() error
}

// Counter is a destination that counts events of its own — syslog
// messages cut to size, OCSF files rotated — exported as
// osprey_output_events_total{output, event} at each scrape.
type Counter interface {
	Counts() map[string]uint64
}

// PermanentError is a refusal that retrying will not change.
type PermanentError struct {
	Err error
	// Records is how many of the unsent records the refusal covers; 0
	// means all of them.
	Records int
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a refusal of the first n unsent records (0: all).
func Permanent(err error, n int) error { return &PermanentError{Err: err, Records: n} }

// ErrUnavailable marks errors that say the receiver is down or busy
// rather than that the records are at fault.
var ErrUnavailable = errors.New("receiver unavailable")

// Unavailable marks err as an outage: retried without limit.
func Unavailable(err error) error { return fmt.Errorf("%w: %w", ErrUnavailable, err) }

// RetryAfterError carries the wait a receiver asked for (Retry-After).
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter attaches the receiver's requested wait to a retryable error.
func RetryAfter(err error, after time.Duration) error {
	if after <= 0 {
		return err
	}
	return &RetryAfterError{Err: err, After: after}
}

// class is what the delivery loop does with a failed send.
type class int

const (
	classRetry class = iota
	classUnavailable
	classPermanent
)

func classify(err error) (c class, rejected int, after time.Duration) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		after = ra.After
	}
	var pe *PermanentError
	switch {
	case errors.As(err, &pe):
		return classPermanent, pe.Records, 0
	case errors.Is(err, ErrUnavailable):
		return classUnavailable, 0, after
	}
	return classRetry, 0, after
}
