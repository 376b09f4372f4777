package defender

import (
	"testing"
	"time"
)

func TestThings(t *testing.T) {
	tt := newThings(2, 5*time.Minute)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	step := func(name, thing string, id int64, at time.Time, code string) admission {
		t.Helper()
		a, err := tt.admit(thing, id, at)
		switch {
		case code == "" && err != nil:
			t.Fatalf("%s: rejected: %v", name, err)
		case code != "" && (err == nil || err.Code != code):
			t.Fatalf("%s: got %v, want %s", name, err, code)
		}
		return a
	}
	step("first", "a", 10, t0, "")
	step("same id", "a", 10, t0.Add(time.Hour), CodeDuplicateReportID)
	step("lower id", "a", 9, t0.Add(time.Hour), CodeDuplicateReportID)
	step("too soon", "a", 11, t0.Add(time.Minute), CodeThrottled)
	adm := step("later", "a", 11, t0.Add(5*time.Minute), "")
	// The store refused report 11: the device may send it again.
	tt.revert(adm)
	step("resent", "a", 11, t0.Add(5*time.Minute), "")

	// Two things fit; a third pushes out the least recent, whose next
	// report is then taken whatever its id.
	step("b", "b", 1, t0, "")
	step("c", "c", 1, t0, "")
	if n, ev := tt.stats(); n != 2 || ev != 1 {
		t.Fatalf("tracked %d evicted %d, want 2 and 1", n, ev)
	}
	step("a forgotten", "a", 3, t0.Add(time.Hour), "")

	// Reverting a new thing's first report forgets it.
	tt2 := newThings(10, 0)
	a, _ := tt2.admit("x", 5, t0)
	tt2.revert(a)
	if n, _ := tt2.stats(); n != 0 {
		t.Errorf("tracked %d after revert, want 0", n)
	}
}
