package deliver

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func recs(kind Kind, data ...string) []Record {
	out := make([]Record, len(data))
	for i, d := range data {
		out[i] = Record{Kind: kind, Data: []byte(d)}
	}
	return out
}

func peekData(t *testing.T, q *Queue, n int) []string {
	t.Helper()
	got, err := q.Peek(n, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(got))
	for i, r := range got {
		out[i] = string(r.Data)
	}
	return out
}

// TestQueueSurvivesReopen: records peeked but not acknowledged are still
// there, in order, after the file is closed and opened again; those
// acknowledged are not.
func TestQueueSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	q, err := OpenQueue(path, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.Put(recs(KindFinding, "a", "b", "c", "d")); err != nil {
		t.Fatal(err)
	}
	batch, _ := q.Peek(2, 1<<20)
	if err := q.Ack(batch[:1]); err != nil { // "a" delivered, "b" in flight at the crash
		t.Fatal(err)
	}
	q.Close()

	q, err = OpenQueue(path, 100, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if n, _ := q.Len(); n != 3 {
		t.Errorf("Len after reopen = %d, want 3", n)
	}
	if q.Oldest().IsZero() {
		t.Error("Oldest is zero with records queued")
	}
	select {
	case <-q.Ready():
	default:
		t.Error("a reopened queue with records is not Ready")
	}
	if diff := cmp.Diff([]string{"b", "c", "d"}, peekData(t, q, 10)); diff != "" {
		t.Error(diff)
	}
	// New records come after the old ones: sequence numbers persist.
	q.Release()
	q.Put(recs(KindSession, "e"))
	all, _ := q.Peek(10, 1<<20)
	if all[len(all)-1].Kind != KindSession || all[len(all)-1].Seq <= all[0].Seq {
		t.Errorf("records after reopen: %+v", all)
	}
}

// TestQueueBound: past max_records the oldest records go, except those
// being sent; a record larger than the queue is refused.
func TestQueueBound(t *testing.T) {
	q, err := OpenQueue(filepath.Join(t.TempDir(), "q.db"), 5, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var in []string
	for i := range 8 {
		in = append(in, fmt.Sprint(i))
	}
	res, err := q.Put(recs(KindFinding, in...))
	if err != nil {
		t.Fatal(err)
	}
	if res.Dropped != 3 {
		t.Errorf("dropped %d, want 3", res.Dropped)
	}
	if diff := cmp.Diff([]string{"3", "4"}, peekData(t, q, 2)); diff != "" { // 3 and 4 now in flight
		t.Error(diff)
	}
	res, _ = q.Put(recs(KindFinding, "8", "9"))
	if res.Dropped != 2 {
		t.Errorf("dropped %d, want 2", res.Dropped)
	}
	q.Release()
	if diff := cmp.Diff([]string{"3", "4", "7", "8", "9"}, peekData(t, q, 10)); diff != "" {
		t.Errorf("the batch in flight was dropped (-want +got):\n%s", diff)
	}

	// By bytes: each record costs its data plus 17 bytes of key and header.
	small, _ := OpenQueue(filepath.Join(t.TempDir(), "q.db"), 100, 3*(17+10))
	defer small.Close()
	res, _ = small.Put(recs(KindFinding, "0123456789", "0123456789", "0123456789", "0123456789"))
	if res.Dropped != 1 {
		t.Errorf("byte bound: dropped %d, want 1", res.Dropped)
	}
	if _, size := small.Len(); size > 3*(17+10) {
		t.Errorf("queue holds %d bytes, bound %d", size, 3*(17+10))
	}
	res, _ = small.Put([]Record{{Kind: KindFinding, Data: make([]byte, 200)}})
	if res.TooLarge != 1 {
		t.Errorf("too large: %+v", res)
	}
}
