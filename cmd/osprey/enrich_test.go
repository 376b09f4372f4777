package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestReadEnriched: osprey read with an enrich section names both ends of
// the session, tags them from the ranges, finds the server and the HTTP
// host in the feeds, and a --filter can select on the tags.
func TestReadEnriched(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := write("osprey.yaml", `
enrich:
  assets: [`+write("assets.csv", "id,name,account,ips,tags\nlaptop-7,jdoe laptop,corp,141.142.228.5,workstation\n")+`]
  cidrs: [`+write("ranges.yaml", "- {cidr: 141.142.0.0/16, tags: [campus], segment: campus-wifi}\n")+`]
  intel:
    - {name: watchlist, path: `+write("watch.txt", "192.150.187.43\nbro.org\n")+`}
`)
	pcap := filepath.Join(testutil.SharedTestdata(t), "zeek", "http-get", "get.pcap")
	stdout, stderr, err := osprey(t, "read", "--config", cfg, "--output", "json", "--filter", `src.tag = "campus"`, pcap)
	if err != nil {
		t.Fatalf("osprey read: %v\n%s", err, stderr)
	}
	var s schema.Session
	if err := json.Unmarshal([]byte(strings.SplitN(stdout, "\n", 2)[0]), &s); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	if o := s.Orig; o.Asset != "laptop-7" || o.AssetName != "jdoe laptop" || o.Segment != "campus-wifi" || !slices.Equal(o.Tags, []string{"campus", "workstation"}) {
		t.Errorf("orig %+v", o)
	}
	if r := s.Resp; r.Segment != "internet" || len(r.Intel) != 1 || r.Intel[0].Feed != "watchlist" {
		t.Errorf("resp %+v", r)
	}
	if len(s.Intel) != 1 || s.Intel[0] != (schema.IntelHit{Feed: "watchlist", Indicator: "bro.org", Field: "http.host"}) {
		t.Errorf("domain hits %+v", s.Intel)
	}
}

// TestMatrixLimit: the segment matrix of an enriched store has a cell per
// pair of segments, largest first, and --limit keeps the largest.
func TestMatrixLimit(t *testing.T) {
	dir := t.TempDir()
	ranges := filepath.Join(dir, "ranges.yaml")
	if err := os.WriteFile(ranges, []byte("- {cidr: 0.0.0.0/1, segment: low}\n- {cidr: 128.0.0.0/1, segment: high}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "osprey.yaml")
	if err := os.WriteFile(cfg, []byte("enrich: {cidrs: ["+ranges+"]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pcap, data := filepath.Join(dir, "fleet.pcap"), filepath.Join(dir, "data")
	if _, e, err := osprey(t, "synth", "--packets", "5000", "--flows", "100", "-o", pcap); err != nil {
		t.Fatal(err, e)
	}
	if _, e, err := osprey(t, "read", "--config", cfg, "--store", data, pcap); err != nil {
		t.Fatal(err, e)
	}
	rows := func(args ...string) []string {
		out, e, err := osprey(t, append([]string{"query", "--store", data, "--matrix", "segment", "-o", "json"}, args...)...)
		if err != nil {
			t.Fatal(err, e)
		}
		return strings.Split(strings.TrimSpace(out), "\n")
	}
	all, top := rows(), rows("--limit", "1")
	if len(all) < 2 || len(top) != 1 || top[0] != all[0] {
		t.Fatalf("matrix %d cells, --limit 1 gave %q (first of all: %q)", len(all), top, all[0])
	}
}
