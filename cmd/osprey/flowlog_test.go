package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// vpcLog is AWS's default-format example (docs "Flow log record
// examples") with a header line, a NODATA record and one bad line.
const vpcLog = `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK
2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA
2 123456789010 eni-1235b8ca123456789 172.31.9.69 not-an-address 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
`

// TestReadFlowLogs: osprey read detects a gzip VPC flow log beside a
// capture, writes both as sessions, sets the bad line aside in the
// dead-letter file with its line and field, and --filter sees flow
// fields.
func TestReadFlowLogs(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(logs, "eni.log.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write([]byte(vpcLog))
	zw.Close()
	f.Close()
	pcap := filepath.Join(dir, "some.pcap")
	if _, e, err := osprey(t, "synth", "--packets", "200", "--flows", "5", "-o", pcap); err != nil {
		t.Fatal(err, e)
	}
	dead := filepath.Join(dir, "dead.jsonl")
	out, stderr, err := osprey(t, "read", "--output", "json", "--stats", "--dead-letter", dead, pcap, logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	bySource := map[string]int{}
	for _, s := range parseSessions(t, out) {
		bySource[s.Source]++
		if s.Source == "vpcflow" && s.Resp.Port == 3389 && (s.Flow == nil || s.Flow.Action != "reject" || s.OrigIPBytes != 4249) {
			t.Errorf("rejected RDP record: %+v flow %+v", s, s.Flow)
		}
	}
	if bySource["vpcflow"] != 3 || bySource["pcap"] == 0 {
		t.Errorf("sessions by source %v, want 3 vpcflow (two records and NODATA) and the capture's", bySource)
	}
	if !strings.Contains(stderr, "flow records:   3 of 5 lines") {
		t.Errorf("--stats:\n%s", stderr)
	}
	df, err := os.Open(dead)
	if err != nil {
		t.Fatal(err)
	}
	defer df.Close()
	var lines []map[string]any
	for sc := bufio.NewScanner(df); sc.Scan(); {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 1 || lines[0]["line"] != float64(5) || lines[0]["field"] != "dstaddr" || lines[0]["kind"] != "vpcflow" {
		t.Errorf("dead letter %v, want line 5's dstaddr", lines)
	}

	out, stderr, err = osprey(t, "read", "--output", "json", "--format", "vpc", "--filter", `action = "reject"`, logs)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if ss := parseSessions(t, out); len(ss) != 1 || ss[0].Resp.Port != 3389 {
		t.Errorf("--filter 'action = \"reject\"' gave %d sessions", len(ss))
	}
}
