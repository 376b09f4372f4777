// Package testutil holds helpers shared by tests: locating the peer test
// data in ../shared/testdata and skipping (or, under CI=true, failing) when
// something a test needs is missing.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// RepoRoot is the module root, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// SharedTestdata returns the path of ../shared/testdata (beside the
// repository), or OSPREY_SHARED_TESTDATA when set.
func SharedTestdata(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OSPREY_SHARED_TESTDATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "..", "shared", "testdata")
	}
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "shared test data at "+dir)
	}
	return dir
}

// InCI reports whether the tests run under CI=true, where a missing
// dependency is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test locally and fails it in CI.
func Missing(t testing.TB, what string) {
	t.Helper()
	if InCI() {
		t.Fatalf("required for this test under CI=true: %s", what)
	}
	t.Skipf("skipping: %s is not available", what)
}

// LookPath returns the path of a program, or skips/fails via Missing.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "program "+name)
	}
	return p
}

// ToFloat64 collects c and returns the value of the metric named name.
func ToFloat64(t testing.TB, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			m := f.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not collected", name)
	return 0
}
