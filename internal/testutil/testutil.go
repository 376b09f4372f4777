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
