package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/osprey-ndr/osprey/internal/deliver/webhook"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/synth"
)

// Knobs of BenchmarkPacketToWebhook (environment, for shorter or longer runs).
var (
	latencyRate   = envInt("OSPREY_LATENCY_PPS", 100_000)  // background packets/s
	latencyProbes = envInt("OSPREY_LATENCY_PROBES", 120)   // scans injected
	latencyEvery  = envInt("OSPREY_LATENCY_EVERY_MS", 700) // between scans
	// probeTimeout is how long a probe's finding may take before the run
	// fails: a lost finding is a correctness failure, not a slow one.
	probeTimeout = time.Duration(envInt("OSPREY_LATENCY_TIMEOUT_S", 60)) * time.Second
)

// Each probe is one horizontal scan: a fresh internal source sends a SYN
// to probeTargets hosts on probePort and each answers RST (REJ sessions).
// The detector's default threshold is 50 hosts; the margin absorbs a
// datagram the kernel might drop under load.
const (
	probeTargets = 55
	probePort    = 445
	senders      = 4 // sending sockets, so that the kernel spreads the load over osprey's sockets
)

// BenchmarkPacketToWebhook measures issue 8's latency: packet in to
// webhook delivered, in the all-in-one process under load. osprey run
// (default configuration but for the VXLAN listener port, the store
// directory and one webhook output for horizontal-scan findings) receives
// a steady VXLAN replay of the synthetic fleet mix over loopback UDP,
// while every latencyEvery a new scanner sweeps probeTargets hosts; a
// probe's latency is the arrival of its finding at the receiver (which
// verifies the signature) less the send time of the probe's last packet.
// It reports p50/p95/p99/max, the achieved packet rate and osprey's CPU.
//
//	go test -run '^$' -bench PacketToWebhook -benchtime 1x -timeout 10m ./cmd/osprey/
func BenchmarkPacketToWebhook(b *testing.B) {
	const secret = "latency-secret"
	rec := &arrivals{at: map[string]time.Time{}}
	srv := httptest.NewServer(rec.handler([]byte(secret)))
	defer srv.Close()

	dir := b.TempDir()
	vxlan, health := freeAddr(b, "udp"), freeAddr(b, "tcp")
	cfg := filepath.Join(dir, "osprey.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
capture: {udp: {vxlan: ["%s"], geneve: []}}
health: {listen: "%s"}
collect: {netflow: {enabled: false}}
outputs:
  - name: latency
    type: webhook
    kinds: [findings]
    detectors: [horizontal-scan]
    webhook: {url: %q, secret: %s}
`, vxlan, health, srv.URL, secret)), 0o644)

	frames := backgroundFrames(b, 1_000_000)
	var stderr bytes.Buffer
	run := exec.Command(ospreyBin, "run", "--config", cfg, "--store", filepath.Join(dir, "data"))
	run.Stderr = &stderr
	if err := run.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = run.Process.Kill(); _ = run.Wait() }()
	untilB(b, &stderr, "healthy", func() bool {
		return strings.Contains(httpGet(nil, "http://"+health+"/healthz"), `"healthy":true`)
	})

	conns := make([]*ipv4.PacketConn, senders+1) // the last one sends the probes
	for i := range conns {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(vxlan)))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = ipv4.NewPacketConn(c)
	}

	b.ResetTimer()
	stop := make(chan struct{})
	var bg sync.WaitGroup
	var sent, sendErrs atomic.Int64
	bg.Add(1)
	go func() {
		defer bg.Done()
		replay(conns[:senders], frames, latencyRate, stop, &sent, &sendErrs)
	}()
	// Warm up: the flow table fills and the store takes its first batches.
	time.Sleep(5 * time.Second)
	cpu0, wall0, sent0 := processCPU(b, run.Process.Pid), time.Now(), sent.Load()
	var probeSent, probeErrs int
	scanners := make([]string, latencyProbes)
	sentAt := make([]time.Time, latencyProbes)
	for i := range latencyProbes {
		scanners[i] = fmt.Sprintf("10.66.%d.%d", i/250, i%250+1)
		n, err := sendProbe(conns[senders], i)
		probeSent += n
		if err != nil {
			probeErrs++
		}
		sentAt[i] = time.Now()
		time.Sleep(time.Duration(latencyEvery) * time.Millisecond)
	}
	// The background goes on while the last findings arrive.
	deadline := sentAt[len(sentAt)-1].Add(probeTimeout)
	for time.Now().Before(deadline) && rec.count(scanners) < len(scanners) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	bg.Wait()
	wall := time.Since(wall0)
	cpu := processCPU(b, run.Process.Pid) - cpu0
	rate := float64(sent.Load()-sent0+int64(probeSent)) / wall.Seconds()
	b.StopTimer()

	metrics := httpGet(nil, "http://"+health+"/metrics")
	run.Process.Signal(syscall.SIGTERM)
	run.Wait()

	var lat []time.Duration
	var missing []string
	for i, s := range scanners {
		at, ok := rec.get(s)
		if !ok {
			missing = append(missing, s)
			continue
		}
		lat = append(lat, at.Sub(sentAt[i]))
	}
	bad := rec.refused()
	if len(bad) > 0 {
		b.Fatalf("receiver refused %d requests: %v", len(bad), bad[0])
	}
	b.Logf("background sent %d (send errors %d), probes sent %d (errors %d); measured over %v: %.0f packets/s, osprey CPU %.2f cores\n%s",
		sent.Load(), sendErrs.Load(), probeSent, probeErrs, wall.Round(time.Second), rate, cpu.Seconds()/wall.Seconds(), pick(metrics,
			"osprey_capture_udp_datagrams", "osprey_capture_udp_kernel", "osprey_sensor_frames", "osprey_sensor_sessions",
			"osprey_detect_sessions", "osprey_output_sent", "osprey_output_queued", "osprey_store_"))
	if len(lat) > 0 {
		slices.Sort(lat)
		b.Logf("%d latencies: min %v, median %v, max %v", len(lat), lat[0], lat[len(lat)/2], lat[len(lat)-1])
	}
	if len(missing) > 0 {
		b.Fatalf("%d of %d probes got no finding within %v (first: %s)\n%s",
			len(missing), len(scanners), probeTimeout, missing[0], tail(stderr.String(), 4000))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(ms(q(0.50)), "p50-ms")
	b.ReportMetric(ms(q(0.95)), "p95-ms")
	b.ReportMetric(ms(q(0.99)), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	b.ReportMetric(float64(len(lat)), "probes")
	b.ReportMetric(rate, "sent-pkts/s")
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "osprey-cpu-cores")
	drops, _ := strconv.ParseFloat(scrape(metrics, "osprey_capture_udp_kernel_drops_total"), 64)
	b.ReportMetric(drops, "kernel-drops")
}

// arrivals is the webhook receiver: it verifies each request and keeps
// the first arrival of a horizontal-scan finding per source address.
type arrivals struct {
	mu  sync.Mutex
	at  map[string]time.Time // "10.66.0.1" → first arrival
	bad []string
}

func (a *arrivals) handler(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		a.mu.Lock()
		defer a.mu.Unlock()
		if err := webhook.Verify(secret, r.Header.Get("X-Osprey-Timestamp"), r.Header.Get("X-Osprey-Signature"), body, now, 5*time.Minute); err != nil {
			a.bad = append(a.bad, err.Error())
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var f schema.Finding
		if err := json.Unmarshal(body, &f); err != nil {
			a.bad = append(a.bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.Detector != "horizontal-scan" {
			return
		}
		for _, e := range f.Entities {
			if ip, ok := strings.CutPrefix(e, "ip:"); ok {
				if _, seen := a.at[ip]; !seen {
					a.at[ip] = now
				}
			}
		}
	})
}

func (a *arrivals) get(ip string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.at[ip]
	return t, ok
}

func (a *arrivals) count(ips []string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ip := range ips {
		if _, ok := a.at[ip]; ok {
			n++
		}
	}
	return n
}

func (a *arrivals) refused() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.bad)
}

// frame is one background datagram (VXLAN header and inner frame) and
// the sending socket it goes out of.
type frame struct {
	data []byte
	conn int
}

// backgroundFrames writes n packets of the synthetic fleet mix, wrapped
// in VXLAN, and keeps the UDP payloads. The mix's port scanner
// (10.20.255.7) is left out: sweeping port after port over one host after
// another, it would raise horizontal-scan findings of its own. Both
// directions of a conversation share the outer source port synth gives
// them, and so a sending socket: their order survives the receiving side.
func backgroundFrames(b *testing.B, n int) []frame {
	var buf bytes.Buffer
	if _, err := synth.WritePCAP(&buf, synth.Config{Packets: n, Flows: 20_000, VXLAN: true, IPv6Share: 0.2, Seed: 8}); err != nil {
		b.Fatal(err)
	}
	const outer = 14 + 20 + 8 // Ethernet, IPv4, UDP in front of the VXLAN header
	scanner := []byte{10, 20, 255, 7}
	pcap := buf.Bytes()[24:]
	out := make([]frame, 0, n)
	for len(pcap) >= 16 {
		l := int(binary.LittleEndian.Uint32(pcap[8:]))
		rec := pcap[16 : 16+l]
		pcap = pcap[16+l:]
		inner := rec[outer+8:]
		if len(inner) >= 34 && inner[12] == 0x08 && inner[13] == 0 &&
			(bytes.Equal(inner[26:30], scanner) || bytes.Equal(inner[30:34], scanner)) {
			continue
		}
		out = append(out, frame{data: rec[outer:], conn: int(binary.BigEndian.Uint16(rec[34:])) % senders})
	}
	return out
}

// replay sends frames in a loop at rate packets/s until stop closes,
// in batches of up to 64 per socket (sendmmsg), counting how many it
// sent (sent) and how many batches failed (errs).
func replay(conns []*ipv4.PacketConn, frames []frame, rate int, stop <-chan struct{}, sent, errs *atomic.Int64) {
	const batch = 64
	msgs := make([][]ipv4.Message, len(conns))
	for i := range msgs {
		msgs[i] = make([]ipv4.Message, 0, batch)
	}
	flush := func(i int) {
		if len(msgs[i]) == 0 {
			return
		}
		m := msgs[i]
		for len(m) > 0 {
			n, err := conns[i].WriteBatch(m, 0)
			if err != nil {
				errs.Add(1)
				break
			}
			sent.Add(int64(n))
			m = m[n:]
		}
		msgs[i] = msgs[i][:0]
	}
	start, next := time.Now(), 0
	for {
		select {
		case <-stop:
			return
		default:
		}
		due := int(time.Since(start).Seconds() * float64(rate))
		for ; next < due; next++ {
			f := &frames[next%len(frames)]
			msgs[f.conn] = append(msgs[f.conn], ipv4.Message{Buffers: [][]byte{f.data}})
			if len(msgs[f.conn]) == batch {
				flush(f.conn)
			}
		}
		for i := range conns {
			flush(i)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// sendProbe sends probe i's scan: per target a SYN from the scanner and
// the target's RST-ACK, as one sendmmsg batch. It returns the datagrams sent.
func sendProbe(c *ipv4.PacketConn, i int) (int, error) {
	scanner := [4]byte{10, 66, byte(i / 250), byte(i%250 + 1)}
	sport := uint16(40000 + i)
	msgs := make([]ipv4.Message, 0, 2*probeTargets)
	for t := range probeTargets {
		target := [4]byte{10, 77, byte(i % 256), byte(t + 1)}
		seq := uint32(i)<<16 | uint32(t)
		msgs = append(msgs,
			ipv4.Message{Buffers: [][]byte{vxlanTCP(scanner, target, sport, probePort, seq, 0, 0x02, 0xfaf0)}},
			ipv4.Message{Buffers: [][]byte{vxlanTCP(target, scanner, probePort, sport, 0, seq+1, 0x14, 0)}})
	}
	sent := 0
	for len(msgs) > 0 {
		n, err := c.WriteBatch(msgs, 0)
		sent += n
		if err != nil {
			return sent, err
		}
		msgs = msgs[n:]
	}
	return sent, nil
}

// vxlanTCP is a VXLAN payload (VNI 1001) carrying an Ethernet/IPv4/TCP
// segment without data, checksums filled in.
func vxlanTCP(src, dst [4]byte, sport, dport uint16, seq, ack uint32, flags uint8, window uint16) []byte {
	b := []byte{0x08, 0, 0, 0, 0, 0x03, 0xe9, 0} // VXLAN, VNI 1001
	b = append(b, 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0x0a, 0x42, src[2], src[3], 0x08, 0x00)
	ip := len(b)
	b = append(b, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	binary.BigEndian.PutUint16(b[ip+10:], checksum(b[ip:ip+20], 0))
	tcp := len(b)
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, ack)
	b = append(b, 5<<4, flags)
	b = binary.BigEndian.AppendUint16(b, window)
	b = append(b, 0, 0, 0, 0)
	pseudo := uint32(binary.BigEndian.Uint16(src[:2])) + uint32(binary.BigEndian.Uint16(src[2:])) +
		uint32(binary.BigEndian.Uint16(dst[:2])) + uint32(binary.BigEndian.Uint16(dst[2:])) + 6 + 20
	binary.BigEndian.PutUint16(b[tcp+16:], checksum(b[tcp:], pseudo))
	return b
}

// checksum is the Internet checksum (RFC 1071) of b, starting from acc.
func checksum(b []byte, acc uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		acc += uint32(binary.BigEndian.Uint16(b))
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return ^uint16(acc)
}

// processCPU is the process's user + system CPU time so far.
func processCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (in parentheses): utime and stime are 14 and 15.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// pick keeps the lines of a /metrics page that start with one of prefixes.
func pick(page string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(page, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// scrape is the value of a sample on a /metrics page ("?" if absent).
func scrape(page, name string) string {
	for _, l := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "?"
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// freeAddr is a loopback address with a port the system just had free.
func freeAddr(b *testing.B, network string) string {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// untilB waits up to 20 s for ok, failing with what the process said.
func untilB(b *testing.B, stderr *bytes.Buffer, what string, ok func() bool) {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok() {
			return
		}
	}
	b.Fatalf("timed out waiting for %s\n%s", what, stderr.String())
}
