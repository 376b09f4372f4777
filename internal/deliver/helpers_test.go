package deliver

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// fakeDest is a scriptable destination: fail decides each record's fate
// (nil accepts it); got keeps what was accepted, in order.
type fakeDest struct {
	mu    sync.Mutex
	got   [][]byte
	calls int
	fail  func(call int, r Record) error
	sent  chan struct{} // one value per record accepted
}

func newFakeDest(fail func(int, Record) error) *fakeDest {
	return &fakeDest{fail: fail, sent: make(chan struct{}, 1<<16)}
}

func (d *fakeDest) Send(ctx context.Context, batch []Record) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	for i, r := range batch {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if d.fail != nil {
			if err := d.fail(d.calls, r); err != nil {
				return i, err
			}
		}
		d.got = append(d.got, append([]byte(nil), r.Data...))
		d.sent <- struct{}{}
	}
	return len(batch), nil
}

func (d *fakeDest) Close() error { return nil }

func (d *fakeDest) received() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.got))
	for i, b := range d.got {
		out[i] = string(b)
	}
	return out
}

// wait blocks until n records were accepted, or fails the test after
// a generous while (a hang is a failure, not a timing assertion).
func (d *fakeDest) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for range n {
		select {
		case <-d.sent:
		case <-deadline:
			t.Fatalf("destination got %d records, want %d", len(d.received()), n)
		}
	}
}

// rawEncoder encodes a finding as its id, so tests can read the queue.
type rawEncoder struct{}

func (rawEncoder) Encode(dst []byte, e *Event) ([]byte, error) {
	if e.Kind != KindFinding {
		return nil, fmt.Errorf("not a finding")
	}
	return append(dst, e.Finding.ID...), nil
}

func testConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Name, c.Type = "test", "fake"
	c.Queue.Dir = t.TempDir()
	c.Retry.InitialBackoff, c.Retry.MaxBackoff = time.Millisecond, 5*time.Millisecond
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func findings(prefix string, n int) []schema.Finding {
	out := make([]schema.Finding, n)
	for i := range out {
		out[i] = schema.Finding{ID: fmt.Sprintf("%s%03d", prefix, i), Detector: "horizontal-scan", Severity: "high", State: "active",
			Time: time.Date(2026, 3, 1, 12, 0, i, 0, time.UTC)}
	}
	return out
}

func ids(fs []schema.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	return out
}

// newTestOutput builds an output with its own metrics registry.
func newTestOutput(t *testing.T, c Config, d Destination) (*Output, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOutput(c, rawEncoder{}, d, Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return o, m
}

func count(c prometheus.Collector) int { return int(testutil.ToFloat64(c)) }
