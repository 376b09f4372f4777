package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// TestKernelVXLAN: traffic in one network namespace is encapsulated in
// VXLAN (VNI 42) by the Linux kernel and sent to osprey listening in
// another; osprey must report the inner conversation with VNI 42 and the
// sending namespace's address as mirror source.
func TestKernelVXLAN(t *testing.T) {
	src, dst := twoNamespaces(t, 1,
		[]string{"link", "add", "vx42", "type", "vxlan", "id", "42", "dstport", "4789", "remote", "10.250.0.2", "local", "10.250.0.1", "dev", "ospa"},
		[]string{"addr", "add", "192.168.42.1/24", "dev", "vx42"},
		[]string{"link", "set", "vx42", "up"},
		// No VTEP answers ARP on the other side: a static neighbour lets
		// the kernel send IP straight away.
		[]string{"neigh", "add", "192.168.42.2", "lladdr", "02:00:00:00:42:02", "dev", "vx42"})

	sensor := startSensor(t, dst, "127.0.0.1:9781", "--vxlan", "10.250.0.2:4789", "--geneve", "")

	// Three UDP datagrams and a TCP SYN from inside the source namespace.
	send := `exec 3>/dev/udp/192.168.42.2/9999; for i in 1 2 3; do echo hello$i >&3; done; timeout 1 bash -c 'echo > /dev/tcp/192.168.42.2/22' || true`
	if out, err := exec.Command("ip", "netns", "exec", src, "bash", "-c", send).CombinedOutput(); err != nil {
		t.Fatalf("send: %v: %s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	metrics := httpGetInNetns(t, dst, "127.0.0.1:9781", "/metrics")
	for _, m := range []string{"osprey_sensor_frames_total", "osprey_capture_udp_datagrams_total", "osprey_capture_udp_kernel_drops_total", "osprey_sensor_flows_open"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
	sessions := sensor.stop(t)
	var udp, tcp *schema.Session
	for i := range sessions {
		s := &sessions[i]
		if s.Orig.IP.String() != "192.168.42.1" || s.Resp.IP.String() != "192.168.42.2" {
			continue
		}
		switch {
		case s.Transport == "udp" && s.Resp.Port == 9999:
			udp = s
		case s.Transport == "tcp" && s.Resp.Port == 22:
			tcp = s
		}
	}
	if udp == nil || tcp == nil {
		t.Fatalf("inner sessions missing (udp %v, tcp %v) in %d sessions:\n%v\nstderr:\n%s", udp != nil, tcp != nil, len(sessions), sessions, sensor.stderr.String())
	}
	for _, s := range []*schema.Session{udp, tcp} {
		if s.Mirror == nil || s.Mirror.VNI != 42 || s.Mirror.Source.String() != "10.250.0.1" || s.Mirror.Kind != "vxlan" {
			t.Errorf("%s session mirror = %+v, want vxlan VNI 42 from 10.250.0.1", s.Transport, s.Mirror)
		}
	}
	if udp.OrigPkts != 3 {
		t.Errorf("udp orig_pkts = %d, want 3", udp.OrigPkts)
	}
	if !strings.HasPrefix(tcp.History, "S") {
		t.Errorf("tcp history = %q, want it to start with S", tcp.History)
	}
}

// twoNamespaces makes two network namespaces joined by a veth pair,
// "ospa" 10.250.0.1/24 in the first and "ospb" 10.250.0.2/24 in the
// second, runs the extra `ip -n first …` steps, and removes them at the
// end. It fails under CI=true where namespaces cannot be made.
func twoNamespaces(t *testing.T, n int, steps ...[]string) (src, dst string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testutil.Missing(t, "root, to create network namespaces")
	}
	testutil.LookPath(t, "ip")
	id := os.Getpid()%10000*10 + n
	src, dst = fmt.Sprintf("osp-src-%d", id), fmt.Sprintf("osp-dst-%d", id)
	ip := func(args ...string) error {
		out, err := exec.Command("ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ip("netns", "add", src); err != nil {
		testutil.Missing(t, "network namespaces ("+err.Error()+")")
	}
	t.Cleanup(func() { _ = ip("netns", "del", src) })
	if err := ip("netns", "add", dst); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ip("netns", "del", dst) })
	base := [][]string{
		{"link", "add", "ospa", "netns", src, "type", "veth", "peer", "name", "ospb", "netns", dst},
		{"-n", src, "addr", "add", "10.250.0.1/24", "dev", "ospa"},
		{"-n", dst, "addr", "add", "10.250.0.2/24", "dev", "ospb"},
		{"-n", src, "link", "set", "ospa", "up"},
		{"-n", dst, "link", "set", "ospb", "up"},
		{"-n", src, "link", "set", "lo", "up"},
		{"-n", dst, "link", "set", "lo", "up"},
	}
	for _, st := range steps {
		base = append(base, append([]string{"-n", src}, st...))
	}
	for _, st := range base {
		if err := ip(st...); err != nil {
			t.Fatal(err)
		}
	}
	return src, dst
}

// TestLiveCapture runs `osprey sensor --interface` on a veth in a network
// namespace (AF_PACKET) and expects the conversation sent over it.
func TestLiveCapture(t *testing.T) {
	// Datagrams go to an address nobody has (a static neighbour makes the
	// kernel send them anyway), so no ICMP error interrupts the sender;
	// the promiscuous capture on the other end sees them.
	src, dst := twoNamespaces(t, 2, []string{"neigh", "add", "10.250.0.3", "lladdr", "02:00:00:00:00:03", "dev", "ospa"})
	sensor := startSensor(t, dst, "127.0.0.1:9782", "--interface", "ospb", "--vxlan", "", "--geneve", "")
	send := `exec 3>/dev/udp/10.250.0.3/7777; for i in 1 2 3 4; do echo live$i >&3; done`
	if out, err := exec.Command("ip", "netns", "exec", src, "bash", "-c", send).CombinedOutput(); err != nil {
		t.Fatalf("send: %v: %s", err, out)
	}
	time.Sleep(300 * time.Millisecond)
	for _, s := range sensor.stop(t) {
		if s.Orig.IP.String() == "10.250.0.1" && s.Resp.IP.String() == "10.250.0.3" && s.Resp.Port == 7777 {
			if s.OrigPkts != 4 || s.Source != "afpacket" || s.Orig.MAC == "" || s.EndReason != "shutdown" {
				t.Errorf("session %+v", s)
			}
			return
		}
	}
	t.Fatalf("no session for 10.250.0.1 → 10.250.0.3:7777; stderr:\n%s", sensor.stderr.String())
}

// nsSensor is `osprey sensor` running inside a network namespace, writing
// JSON sessions to a file.
type nsSensor struct {
	cmd    *exec.Cmd
	out    string
	stderr *strings.Builder
}

// startSensor starts the sensor with /healthz on health and waits until
// it is healthy; it is killed at the end of the test if still running.
func startSensor(t *testing.T, netns, health string, args ...string) *nsSensor {
	t.Helper()
	s := &nsSensor{out: filepath.Join(t.TempDir(), "sessions.jsonl"), stderr: &strings.Builder{}}
	s.cmd = exec.Command("ip", append([]string{"netns", "exec", netns, ospreyBin, "sensor", "--health", health,
		"--output", "json", "--out", s.out}, args...)...)
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	waitHealthy(t, netns, health, s.stderr)
	return s
}

// stop ends the sensor as an operator would (SIGTERM) and returns the
// sessions it flushed.
func (s *nsSensor) stop(t *testing.T) []schema.Session {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("sensor: %v\n%s", err, s.stderr.String())
	}
	return readJSONL(t, s.out)
}

// httpGetInNetns fetches a path inside the namespace with bash's
// /dev/tcp, so the test needs no HTTP client installed there.
func httpGetInNetns(t *testing.T, netns, hostport, path string) string {
	host, port, _ := strings.Cut(hostport, ":")
	probe := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%s && printf 'GET %s HTTP/1.0\r\n\r\n' >&3 && cat <&3`, host, port, path)
	out, _ := exec.Command("ip", "netns", "exec", netns, "bash", "-c", probe).CombinedOutput()
	return string(out)
}

// waitHealthy polls /healthz until the sensor says it is healthy.
func waitHealthy(t *testing.T, netns, hostport string, stderr fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(httpGetInNetns(t, netns, hostport, "/healthz"), `"healthy":true`) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("sensor never became healthy at %s; stderr:\n%s", hostport, stderr.String())
}

func readJSONL(t *testing.T, path string) []schema.Session {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseSessions(t, string(b))
}
