// Package collect holds what every collector shares: how bad input is
// reported, counted and set aside (dead-letter), and where the records a
// collector accepts go. The collectors themselves are its subpackages:
// flowlog (AWS, Azure and GCP flow logs), netflow (NetFlow, IPFIX, sFlow)
// and defender (AWS IoT Device Defender metrics).
package collect

import (
	"context"
	"fmt"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// BadInput is one line, record or report that was rejected. Its Error
// names where it came from and what was wrong, as every collector must.
type BadInput struct {
	Kind   string // the collector: vpcflow, azureflow, gcpflow, netflow, defender, …
	Source string // file path, s3://bucket/key, udp://exporter:port, MQTT topic, HTTP peer
	Line   int64  // 1-based line or record number; 0 when the input has none
	Offset int64  // byte offset of the record in Source; -1 when unknown
	Field  string // the field at fault; empty when the record as a whole is
	Err    error
	Raw    []byte // the record as read, cut to MaxRaw bytes
}

// MaxRaw bounds the copy of a rejected record kept for the dead-letter
// file.
const MaxRaw = 4096

func (b *BadInput) Error() string {
	var sb strings.Builder
	sb.WriteString(b.Source)
	if b.Line > 0 {
		fmt.Fprintf(&sb, ":%d", b.Line)
	}
	if b.Offset >= 0 {
		fmt.Fprintf(&sb, " (offset %d)", b.Offset)
	}
	sb.WriteString(": ")
	if b.Field != "" {
		sb.WriteString(b.Field)
		sb.WriteString(": ")
	}
	if b.Err != nil {
		sb.WriteString(b.Err.Error())
	}
	return sb.String()
}

func (b *BadInput) Unwrap() error { return b.Err }

// Rejects receives bad input. Implementations must be safe for concurrent
// use and must copy Raw if they keep it.
type Rejects interface {
	Reject(BadInput)
}

// RejectFunc adapts a function to Rejects.
type RejectFunc func(BadInput)

func (f RejectFunc) Reject(b BadInput) { f(b) }

// MetricSink receives batches of device metrics, as pipeline.SessionSink
// receives sessions: the slice belongs to the caller once WriteMetrics
// returns, and an error means the batch was not accepted.
type MetricSink interface {
	WriteMetrics(ctx context.Context, batch []schema.DeviceMetric) error
	Close() error
}
