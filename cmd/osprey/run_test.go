package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/store"
)

// TestRun starts osprey run with a followed flow-log directory, a NetFlow
// port and the Device Defender HTTP endpoint, feeds each, stops it as an
// operator would, and finds everything in the store.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	logs, data := filepath.Join(dir, "logs"), filepath.Join(dir, "data")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	health, nfPort, httpPort := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")
	cfg := filepath.Join(dir, "osprey.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
capture: {udp: {vxlan: [], geneve: []}}
health: {listen: "%s"}
collect:
  dead_letter: %s
  flow_logs: {paths: [%s], follow: true, settle: 100ms, poll: 200ms, checkpoint: %s}
  netflow: {netflow: [], ipfix: [], sflow: [], auto: ["%s"]}
  defender: {enabled: true, mqtt: {mode: "off"}, http: {listen: "%s"}, min_report_interval: 0s}
`, health, filepath.Join(dir, "dead.jsonl"), logs, filepath.Join(dir, "checkpoint.json"), nfPort, httpPort)), 0o644)

	var stderr bytes.Buffer
	run := exec.Command(ospreyBin, "run", "--config", cfg, "--store", data)
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run.Process.Kill() })
	until(t, &stderr, "healthy", func() bool {
		r, err := http.Get("http://" + health + "/healthz")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return strings.Contains(string(b), `"healthy":true`)
	})

	// A flow log renamed into the followed directory.
	tmp := filepath.Join(dir, "incoming.log")
	os.WriteFile(tmp, []byte(vpcLog), 0o644)
	if err := os.Rename(tmp, filepath.Join(logs, "eni.log")); err != nil {
		t.Fatal(err)
	}
	// A NetFlow v5 datagram with one record: 10.0.0.1:1234 → 10.0.0.2:80/tcp, 3 packets, 180 bytes.
	conn, err := net.Dial("udp", nfPort)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(netflowV5(time.Now()))
	conn.Close()
	// A Device Defender report over HTTP.
	report := `{"header":{"report_id":1,"version":"1.0"},"metrics":{"network_stats":{"bytes_in":10,"bytes_out":2048,"packets_in":1,"packets_out":3}}}`
	resp, err := http.Post("http://"+httpPort+"/v1/defender/things/thermostat-1/metrics", "application/json", strings.NewReader(report))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "ACCEPTED") {
		t.Fatalf("report: %d %s", resp.StatusCode, body)
	}
	until(t, &stderr, "the flow log read and the NetFlow record written", func() bool {
		m := httpGet(t, "http://"+health+"/metrics")
		return strings.Contains(m, `osprey_collect_objects_read_total{source="files"} 1`) &&
			strings.Contains(m, `osprey_collect_rejected_total{kind="vpcflow"} 1`) && strings.Contains(m, "osprey_netflow_records_total") &&
			strings.Contains(m, "osprey_detect_sessions_total 4")
	})
	run.Process.Signal(syscall.SIGTERM)
	if err := run.Wait(); err != nil {
		t.Fatalf("osprey run: %v\n%s", err, stderr.String())
	}

	out, e, err := osprey(t, "query", "--store", data, "--top", "source", "--by", "sessions", "-o", "json")
	if err != nil {
		t.Fatal(err, e)
	}
	sources := map[string]uint64{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r store.TopRow
		json.Unmarshal([]byte(l), &r)
		sources[r.Key] = r.Sessions
	}
	if sources["vpcflow"] != 3 || sources["netflow5"] != 1 {
		t.Errorf("sessions by source %v, want 3 vpcflow and 1 netflow5\n%s", sources, stderr.String())
	}
	out, e, err = osprey(t, "query", "--store", data, "--series", "device", "--metric", "aws:all-bytes-out", "-o", "json", "--since", "2000-01-01T00:00:00Z")
	if err != nil || !strings.Contains(out, "thermostat-1") || !strings.Contains(out, "2048") {
		t.Errorf("device metric series: %v %s\n%s", err, e, out)
	}
}

// netflowV5 is a NetFlow v5 datagram holding one flow record.
func netflowV5(now time.Time) []byte {
	b := make([]byte, 24+48)
	binary.BigEndian.PutUint16(b[0:], 5)
	binary.BigEndian.PutUint16(b[2:], 1)       // count
	binary.BigEndian.PutUint32(b[4:], 600_000) // sysUptime ms
	binary.BigEndian.PutUint32(b[8:], uint32(now.Unix()))
	r := b[24:]
	copy(r[0:], net.IPv4(10, 0, 0, 1).To4())
	copy(r[4:], net.IPv4(10, 0, 0, 2).To4())
	binary.BigEndian.PutUint32(r[16:], 3)   // packets
	binary.BigEndian.PutUint32(r[20:], 180) // octets
	binary.BigEndian.PutUint32(r[24:], 590_000)
	binary.BigEndian.PutUint32(r[28:], 599_000)
	binary.BigEndian.PutUint16(r[32:], 1234)
	binary.BigEndian.PutUint16(r[34:], 80)
	r[37], r[38] = 0x1b, 6 // TCP flags, protocol
	return b
}

// freePort is a loopback address with a port the system just had free.
func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func httpGet(t *testing.T, url string) string {
	r, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return string(b)
}

// until waits up to 20 s for ok, failing with what the process said.
func until(t *testing.T, stderr *bytes.Buffer, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s\n%s", what, stderr.String())
}
