package netflow

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// totals are packets and IP bytes by IP protocol.
type totals map[uint8][2]uint64

func (t totals) add(proto uint8, pkts, bytes uint64) {
	v := t[proto]
	t[proto] = [2]uint64{v[0] + pkts, v[1] + bytes}
}

func (t totals) String() string {
	var s string
	for _, p := range slices.Sorted(maps.Keys(t)) {
		s += fmt.Sprintf(" proto %d: %d pkts %d bytes;", p, t[p][0], t[p][1])
	}
	return s
}

// TestSoftflowd has Debian's softflowd, a real exporter, read captures
// and send NetFlow v9 and IPFIX to a collector on loopback, then checks
// that the sessions add up, per IP protocol, to the packets and IP bytes
// `osprey read` meters from the same capture. softflowd reads one 802.1Q
// tag only and counts 802.1ad and double-tagged (QinQ) frames as non-IP:
// those packets, taken from the capture, are the only difference allowed
// (docs/netflow.md).
func TestSoftflowd(t *testing.T) {
	flowd := "/usr/sbin/softflowd"
	if _, err := os.Stat(flowd); err != nil {
		flowd = testutil.LookPath(t, "softflowd")
	}
	osprey := ospreyBinary(t)
	dir := t.TempDir()
	synth := filepath.Join(dir, "synth.pcap")
	if out, err := exec.Command(osprey, "synth", "--packets", "20000", "--flows", "500", "-o", synth).CombinedOutput(); err != nil {
		t.Fatalf("osprey synth: %v\n%s", err, out)
	}
	shared := testutil.SharedTestdata(t)
	pcaps := []string{synth}
	for _, p := range []string{"zeek/wikipedia/wikipedia.pcap", "zeek/communityid/icmp.pcap", "zeek/communityid/icmp6.pcap",
		"zeek/http-get/get.pcap", "zeek/q-in-q/q-in-q.pcap", "suricata-verify/bug-814/input.pcap"} {
		pcaps = append(pcaps, filepath.Join(shared, p))
	}
	for _, pcap := range pcaps {
		want := ospreyTotals(t, osprey, pcap)
		qinq := qinqTotals(t, pcap)
		for _, v := range []string{"9", "10"} {
			t.Run(filepath.Base(pcap)+"/v"+v, func(t *testing.T) {
				got, n := exportWithSoftflowd(t, flowd, pcap, v)
				t.Logf("%d sessions:%v; QinQ frames:%v", n, got, qinq)
				for p, q := range qinq {
					got.add(p, q[0], q[1])
				}
				if !maps.Equal(got, want) {
					t.Errorf("softflowd sessions + QinQ frames:%v\nosprey read:%v\n(QinQ:%v)", got, want, qinq)
				}
			})
		}
	}
}

// ospreyBinary builds cmd/osprey, or uses OSPREY_BIN when it names a
// prebuilt one.
func ospreyBinary(t *testing.T) string {
	if bin := os.Getenv("OSPREY_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "osprey")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/osprey")
	cmd.Dir = testutil.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/osprey: %v\n%s", err, out)
	}
	return bin
}

// ospreyTotals sums what `osprey read --output json` meters from pcap.
func ospreyTotals(t *testing.T, osprey, pcap string) totals {
	cmd := exec.Command(osprey, "read", "--output", "json", pcap)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sum := totals{}
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s schema.Session
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("osprey read %s: %v", pcap, err)
		}
		sum.add(s.Proto, s.OrigPkts+s.RespPkts, s.OrigIPBytes+s.RespIPBytes)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("osprey read %s: %v", pcap, err)
	}
	return sum
}

// qinqTotals sums the IP packets of pcap's frames that softflowd does not
// parse: an 802.1ad tag first, or two VLAN tags (it reads one 802.1Q tag).
func qinqTotals(t *testing.T, pcap string) totals {
	sum := totals{}
	dec := decode.NewDecoder(decode.DefaultConfig())
	var p decode.Packet
	err := capture.NewFileSource([]string{pcap}, capture.FileOptions{}).Run(context.Background(), func(_ int, f *capture.Frame) error {
		if f.LinkType != decode.LinkEthernet || len(f.Data) < 18 {
			return nil
		}
		et, inner := binary.BigEndian.Uint16(f.Data[12:]), binary.BigEndian.Uint16(f.Data[16:])
		if et != 0x88a8 && (et != 0x8100 || inner != 0x8100 && inner != 0x88a8) {
			return nil
		}
		if dec.Decode(f.Data, f.LinkType, nil, &p); p.IPVersion != 0 {
			sum.add(p.IPProto, 1, uint64(p.IPLen))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// memSink keeps the sessions written to it.
type memSink struct {
	mu  sync.Mutex
	got []schema.Session
}

func (m *memSink) WriteSessions(_ context.Context, b []schema.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, b...)
	return nil
}

func (m *memSink) Close() error { return nil }

func (m *memSink) sessions() []schema.Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.got)
}

var exported = regexp.MustCompile(`Flows exported: \d+ \((\d+) records\) in \d+ packets \((\d+) failures\)`)

// exportWithSoftflowd runs softflowd over pcap towards a collector and
// returns the totals of the sessions it produced once all have arrived.
func exportWithSoftflowd(t *testing.T, flowd, pcap, version string) (totals, int) {
	cfg := DefaultConfig()
	cfg.NetFlow, cfg.IPFIX, cfg.SFlow, cfg.Auto = nil, nil, nil, []string{"127.0.0.1:0"}
	cfg.Readers, cfg.FlushInterval = 1, 20*time.Millisecond
	sink, rj := &memSink{}, &rejects{}
	c, err := New(cfg, sink, rj, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	ls := c.Listeners()
	if len(ls) == 0 {
		t.Fatal("collector did not listen")
	}
	// -d stays in the foreground; with -r softflowd exports every flow at
	// the end of the file and exits. -c none: with a control socket,
	// softflowd 1.1.0 at times blocks in accept(2) before reading the file.
	dir := t.TempDir()
	out, err := exec.Command(flowd, "-d", "-r", pcap, "-v", version, "-n", ls[0].Addr.String(),
		"-c", "none", "-p", filepath.Join(dir, "pid")).CombinedOutput()
	if err != nil {
		t.Fatalf("softflowd: %v\n%s", err, out)
	}
	m := exported.FindSubmatch(out)
	if m == nil || string(m[2]) != "0" {
		t.Fatalf("softflowd did not export everything:\n%s", out)
	}
	records, _ := strconv.Atoi(string(m[1]))
	var got []schema.Session
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got = sink.sessions(); len(got) >= records || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != records {
		t.Fatalf("%d sessions, softflowd exported %d records:\n%s", len(got), records, out)
	}
	for _, b := range rj.all() {
		t.Errorf("rejected: %v", &b)
	}
	source := map[string]string{"9": "netflow9", "10": "ipfix"}[version]
	sum := totals{}
	for _, s := range got {
		if s.Source != source || s.Flow.SamplingRate != 1 || s.Start.After(s.End) || s.Start.Year() < 2000 {
			t.Fatalf("session %+v %+v", s, *s.Flow)
		}
		sum.add(s.Proto, s.OrigPkts, s.OrigIPBytes)
	}
	return sum, len(got)
}
