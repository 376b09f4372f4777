package duckdb

import (
	"syscall"
	"testing"
)

func TestBackgroundIsNicer(t *testing.T) {
	nice := func() int {
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - p
	}
	var base, got int
	background(func() {}) // the calling thread keeps its priority
	base = nice()
	background(func() { got = nice() })
	if want := min(base+writeNice, 19); got != want {
		t.Errorf("nice %d in background, want %d", got, want)
	}
	if now := nice(); now != base {
		t.Errorf("nice %d after background, want %d", now, base)
	}
}
