package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ospreyBin is the binary built once for the end-to-end tests.
var ospreyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "osprey-e2e")
	if err != nil {
		panic(err)
	}
	ospreyBin = filepath.Join(dir, "osprey")
	build := exec.Command("go", "build", "-o", ospreyBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("build osprey: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// parseSessions reads JSON-lines output of osprey into sessions.
func parseSessions(t *testing.T, jsonl string) []schema.Session {
	t.Helper()
	var out []schema.Session
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var s schema.Session
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, s)
	}
	return out
}

// osprey runs the binary and returns stdout and stderr.
func osprey(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(ospreyBin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}
