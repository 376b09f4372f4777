package deliver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestOutputDelivers: findings written to the router arrive in order,
// leave the queue and are counted.
func TestOutputDelivers(t *testing.T) {
	d := newFakeDest(nil)
	o, m := newTestOutput(t, testConfig(t), d)
	r := NewRouter(o)
	r.Start(t.Context())
	in := findings("f", 50)
	if err := r.WriteFindings(t.Context(), in[:20]); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteFindings(t.Context(), in[20:]); err != nil {
		t.Fatal(err)
	}
	d.wait(t, 50)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(in), d.received()); diff != "" {
		t.Error(diff)
	}
	if n := count(m.sent.WithLabelValues("test")); n != 50 {
		t.Errorf("sent_total = %d", n)
	}
	if n := count(m.queued.WithLabelValues("test")); n != 50 {
		t.Errorf("queued_total = %d", n)
	}
	if n, _ := o.q.Len(); n != 0 {
		t.Errorf("queue holds %d after delivery", n)
	}
}

// TestOutputOutage: a receiver that is down, then answers 500s, then
// recovers gets everything, in order, with nothing dead-lettered: an
// outage is retried without limit.
func TestOutputOutage(t *testing.T) {
	c := testConfig(t)
	c.Retry.MaxAttempts = 3
	d := newFakeDest(func(call int, _ Record) error {
		switch {
		case call <= 20:
			return Unavailable(errors.New("connection refused"))
		case call <= 22: // fewer than max_attempts in a row
			return errors.New("500 Internal Server Error")
		}
		return nil
	})
	o, m := newTestOutput(t, c, d)
	r := NewRouter(o)
	r.Start(t.Context())
	in := findings("f", 30)
	for i := 0; i < len(in); i += 7 {
		r.WriteFindings(t.Context(), in[i:min(i+7, len(in))])
	}
	d.wait(t, 30)
	r.Close()
	if diff := cmp.Diff(ids(in), d.received()); diff != "" {
		t.Error(diff)
	}
	if n := count(m.retried.WithLabelValues("test")); n == 0 {
		t.Error("retried_total = 0")
	}
	if n := count(m.failed.WithLabelValues("test", FailExhausted)); n != 0 {
		t.Errorf("failed_total{exhausted} = %d during an outage", n)
	}
}

// TestOutputRestart: an output stopped in the middle of delivering (a
// crash: nothing drained) loses nothing it had queued; the next start
// delivers the rest, and at most the batch in flight twice.
func TestOutputRestart(t *testing.T) {
	c := testConfig(t)
	c.DrainTimeout = 0
	c.Batch.MaxRecords = 10
	accepted := 0
	down := newFakeDest(func(_ int, r Record) error {
		if accepted++; accepted > 25 {
			return Unavailable(errors.New("connection reset"))
		}
		return nil
	})
	o, _ := newTestOutput(t, c, down)
	o.Start(t.Context())
	in := findings("f", 100)
	if err := NewRouter(o).WriteFindings(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	down.wait(t, 25)
	if err := o.Stop(); err != nil {
		t.Fatal(err)
	}

	up := newFakeDest(nil)
	o2, _ := newTestOutput(t, c, up)
	n, _ := o2.q.Len()
	if n < 75 {
		t.Fatalf("%d records left in the queue after 25 of 100 were delivered", n)
	}
	o2.Start(t.Context())
	up.wait(t, n)
	o2.Stop()
	got := append(down.received(), up.received()...)
	if diff := cmp.Diff(ids(in), slices.Compact(got)); diff != "" {
		t.Errorf("records lost or reordered across the restart (-want +got):\n%s", diff)
	}
}

// TestOutputDeadLetter: a refused record goes to the dead-letter file
// at once and the rest is delivered; a batch failing max_attempts times
// goes there too, with its reason.
func TestOutputDeadLetter(t *testing.T) {
	c := testConfig(t)
	c.Retry.MaxAttempts = 3
	d := newFakeDest(func(_ int, r Record) error {
		switch string(r.Data) {
		case "f003":
			return Permanent(errors.New("400 Bad Request"), 1)
		case "f007":
			return errors.New("500 Internal Server Error")
		}
		return nil
	})
	o, m := newTestOutput(t, c, d)
	r := NewRouter(o)
	r.Start(t.Context())
	r.WriteFindings(t.Context(), findings("f", 8))
	d.wait(t, 6)
	r.Close()
	if diff := cmp.Diff([]string{"f000", "f001", "f002", "f004", "f005", "f006"}, d.received()); diff != "" {
		t.Error(diff)
	}
	if n := count(m.failed.WithLabelValues("test", FailRejected)); n != 1 {
		t.Errorf("failed_total{rejected} = %d", n)
	}
	if n := count(m.failed.WithLabelValues("test", FailExhausted)); n != 1 {
		t.Errorf("failed_total{exhausted} = %d", n)
	}
	f, err := os.Open(filepath.Join(c.Queue.Dir, "dead-letter.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Output, Reason, Error, Record string
			Kind                          string
			Attempts                      int
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		got = append(got, strings.Join([]string{e.Output, e.Kind, e.Record, e.Reason, e.Error}, " "))
	}
	want := []string{
		"test finding f003 rejected output test: 400 Bad Request",
		"test finding f007 exhausted output test: 500 Internal Server Error",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestOutputDropsWhenFull: with the receiver down, a full queue drops
// its oldest records and counts them; what is left is delivered once
// the receiver is back.
func TestOutputDropsWhenFull(t *testing.T) {
	c := testConfig(t)
	c.Queue.MaxRecords = 10
	c.Batch.MaxRecords = 2
	up := make(chan struct{})
	d := newFakeDest(func(int, Record) error {
		select {
		case <-up:
			return nil
		default:
			return Unavailable(errors.New("down"))
		}
	})
	o, m := newTestOutput(t, c, d)
	r := NewRouter(o)
	r.Start(t.Context())
	in := findings("f", 25)
	for i := range in {
		r.WriteFindings(t.Context(), in[i:i+1])
	}
	if n := count(m.dropped.WithLabelValues("test", DropQueueFull)); n != 15 {
		t.Errorf("dropped_total{queue_full} = %d, want 15", n)
	}
	close(up)
	d.wait(t, 10)
	r.Close()
	got := d.received()
	// The batch in flight when the queue filled (one or two of the
	// first records) is spared; the rest are the newest.
	if len(got) != 10 || !slices.Equal(got[2:], ids(in[17:])) || !slices.Contains(ids(in[:2]), got[0]) {
		t.Errorf("delivered %v", got)
	}
}

// TestOutputStopDrains: Stop delivers what is queued before closing.
func TestOutputStopDrains(t *testing.T) {
	c := testConfig(t)
	c.DrainTimeout = time.Minute // a hang, not a timing: the receiver is up
	d := newFakeDest(nil)
	o, _ := newTestOutput(t, c, d)
	r := NewRouter(o)
	r.Start(context.Background())
	if err := r.WriteFindings(t.Context(), findings("f", 40)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(d.received()); n != 40 {
		t.Errorf("Close left %d of 40 undelivered", 40-n)
	}
}

func TestBackoff(t *testing.T) {
	for step := range 40 {
		for range 100 {
			d := backoff(time.Second, time.Minute, step)
			ceil := min(time.Second<<min(step, 30), time.Minute)
			if d <= 0 || d > ceil {
				t.Fatalf("step %d: backoff %v outside (0, %v]", step, d, ceil)
			}
		}
	}
}

// countingDest counts events of its own, as syslog and OCSF do.
type countingDest struct {
	*fakeDest
	truncated atomic.Uint64
}

func (d *countingDest) Counts() map[string]uint64 {
	return map[string]uint64{"truncated": d.truncated.Load()}
}

// TestDestinationCounts: a destination's own counts are exported, by
// output, as they are at each scrape.
func TestDestinationCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	c := testConfig(t)
	c.Name = "siem"
	d := &countingDest{fakeDest: newFakeDest(nil)}
	o, err := NewOutput(c, rawEncoder{}, d, Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Stop()
	for _, n := range []uint64{0, 3} {
		d.truncated.Store(n)
		want := fmt.Sprintf(`# HELP osprey_output_events_total Events of the output's own kind: syslog messages truncated, OCSF files rotated and pruned.
# TYPE osprey_output_events_total counter
osprey_output_events_total{event="truncated",output="siem"} %d
`, n)
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "osprey_output_events_total"); err != nil {
			t.Error(err)
		}
	}
}
