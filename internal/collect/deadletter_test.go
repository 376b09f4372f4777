package collect

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestDeadLetter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	d, err := OpenDeadLetter(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := BadInput{Kind: "vpcflow", Source: "a.log", Line: 3, Offset: 120, Field: "dstport", Err: errors.New(`"x" is not a port`), Raw: []byte("2 1 eni-1 x")}
	if got, want := bad.Error(), `a.log:3 (offset 120): dstport: "x" is not a port`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	d.Reject(bad)
	d.Reject(BadInput{Kind: "netflow", Source: "udp://192.0.2.1:2055", Offset: -1, Err: errors.New("short"), Raw: []byte{0xff, 0xfe}})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if c := d.Counts(); c["vpcflow"] != 1 || c["netflow"] != 1 {
		t.Errorf("counts %v", c)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(d)
	if mfs, err := reg.Gather(); err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 2 || mfs[0].GetMetric()[0].GetCounter().GetValue() != 1 {
		t.Errorf("exported %v (%v), want osprey_collect_rejected_total 1 for each of two kinds", mfs, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []deadLetterLine
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var l deadLetterLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	if l := lines[0]; l.Raw != "2 1 eni-1 x" || l.Field != "dstport" || l.Line != 3 || l.Offset == nil || *l.Offset != 120 {
		t.Errorf("first line %+v", l)
	}
	if l := lines[1]; l.Offset != nil || string(l.RawBase64) != "\xff\xfe" || l.Raw != "" {
		t.Errorf("second line %+v", l)
	}
}
