package syslog

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// rsyslog is a real rsyslogd (Debian's rsyslog and rsyslog-gnutls),
// run unprivileged in the foreground with its own configuration, PID
// file and work directory in a temporary directory. It listens on UDP,
// TCP and TLS (gtls, client certificates required) and writes what each
// listener received to <input>.jsonl: rsyslog's own reading of the
// message's fields, and the raw message.
type rsyslog struct {
	t                 testing.TB
	dir, bin, conf    string
	udp, tcp, tlsPort int
	cmd               *exec.Cmd
	exited            chan struct{}
	ca, cert, key     string // the client's certificate, signed by ca
}

// line is one message as rsyslog wrote it.
type line struct {
	Pri      string `json:"pri"`
	Severity string `json:"severity"`
	Facility string `json:"facility"`
	Time     string `json:"time"`
	Hostname string `json:"hostname"`
	App      string `json:"app"`
	ProcID   string `json:"procid"`
	MsgID    string `json:"msgid"`
	SD       string `json:"sd"`
	Msg      string `json:"msg"`
	Raw      string `json:"raw"`
}

const rsyslogConf = `global(workDirectory="{{.Dir}}" maxMessageSize="64k"
  defaultNetstreamDriverCAFile="{{.Dir}}/ca.pem"
  defaultNetstreamDriverCertFile="{{.Dir}}/server.pem"
  defaultNetstreamDriverKeyFile="{{.Dir}}/server-key.pem")
module(load="imudp")
module(load="imtcp")
template(name="fields" type="list" option.jsonf="on") {
  property(outname="pri" name="pri" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
  property(outname="raw" name="rawmsg" format="jsonf")
}
{{range .Inputs}}ruleset(name="{{.}}") { action(type="omfile" file="{{$.Dir}}/{{.}}.jsonl" template="fields") }
{{end}}
*.* action(type="omfile" file="{{.Dir}}/rsyslogd.log")
input(type="imudp" port="{{.UDP}}" address="127.0.0.1" ruleset="udp")
input(type="imtcp" port="{{.TCP}}" address="127.0.0.1" ruleset="tcp")
input(type="imtcp" port="{{.TLS}}" address="127.0.0.1" ruleset="tls"
  streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
`

// startRsyslog starts rsyslogd, or skips (fails under CI=true) when it
// or its TLS driver is not installed.
func startRsyslog(t *testing.T) *rsyslog {
	t.Helper()
	bin := testutil.LookPath(t, "rsyslogd")
	if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
		if m, _ = filepath.Glob("/usr/lib/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
			testutil.Missing(t, "rsyslog's GnuTLS driver (Debian package rsyslog-gnutls)")
		}
	}
	r := &rsyslog{t: t, dir: t.TempDir(), bin: bin, udp: freePort(t, "udp"), tcp: freePort(t, "tcp"), tlsPort: freePort(t, "tcp")}
	r.certificates()
	r.conf = filepath.Join(r.dir, "rsyslog.conf")
	f, err := os.Create(r.conf)
	if err != nil {
		t.Fatal(err)
	}
	err = template.Must(template.New("conf").Parse(rsyslogConf)).Execute(f, map[string]any{
		"Dir": r.dir, "UDP": r.udp, "TCP": r.tcp, "TLS": r.tlsPort, "Inputs": []string{"udp", "tcp", "tls"}})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// start runs rsyslogd and waits until its TCP listeners accept (the
// UDP one is bound before them).
func (r *rsyslog) start() {
	t := r.t
	t.Helper()
	r.cmd = exec.Command(r.bin, "-n", "-f", r.conf, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	out, err := os.OpenFile(filepath.Join(r.dir, "rsyslogd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	r.cmd.Stdout, r.cmd.Stderr = out, out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.exited)
	deadline := time.Now().Add(30 * time.Second)
	for _, port := range []int{r.tcp, r.tlsPort} {
		for {
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-r.exited:
				t.Fatalf("rsyslogd exited: %s", r.logs())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("rsyslogd does not listen on %d: %s", port, r.logs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// stop ends rsyslogd with SIGTERM and waits for it to exit.
func (r *rsyslog) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

func (r *rsyslog) logs() string {
	var b strings.Builder
	for _, f := range []string{"rsyslogd.out", "rsyslogd.log"} {
		data, _ := os.ReadFile(filepath.Join(r.dir, f))
		b.Write(data)
	}
	return b.String()
}

// lines reads what the input wrote.
func (r *rsyslog) lines(input string) []line {
	r.t.Helper()
	f, err := os.Open(filepath.Join(r.dir, input+".jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			// rsyslog may be half-way through a line.
			break
		}
		out = append(out, l)
	}
	return out
}

// wait reads the input's file until it holds n messages, or fails after
// a generous while (a hang is a failure, not a timing assertion).
func (r *rsyslog) wait(input string, n int) []line {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := r.lines(input)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: rsyslog wrote %d messages, want %d; its log:\n%s", input, len(got), n, r.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rsyslog) addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// certificates writes a CA, rsyslog's server certificate (127.0.0.1,
// localhost) and the client's, all ECDSA P-256.
func (r *rsyslog) certificates() {
	t := r.t
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "osprey test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	r.ca = r.writePEM("ca.pem", "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return r.writePEM(name+".pem", "CERTIFICATE", der), r.writePEM(name+"-key.pem", "PRIVATE KEY", kder)
	}
	leaf("server", 2, x509.ExtKeyUsageServerAuth)
	r.cert, r.key = leaf("client", 3, x509.ExtKeyUsageClientAuth)
}

func (r *rsyslog) writePEM(name, typ string, der []byte) string {
	path := filepath.Join(r.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		r.t.Fatal(err)
	}
	return path
}

// sendTo builds a destination for the rsyslog input and sends records
// straight to it, encoded at a fixed time.
func sendTo(t *testing.T, mod func(*Config), events ...*deliver.Event) *Syslog {
	t.Helper()
	c := DefaultConfig()
	c.Hostname, c.DeviceVersion = "sensor-1", "1.2.3"
	mod(&c)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.enc.now = func() time.Time { return encodeTime }
	var batch []deliver.Record
	for _, ev := range events {
		data, err := s.Encoder().Encode(nil, ev)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, deliver.Record{Kind: ev.Kind, Data: data})
	}
	if n, err := s.Send(t.Context(), batch); n != len(batch) || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	return s
}

// checkLine holds a message rsyslog wrote to what Osprey meant: rsyslog's
// reading of the header, the raw message valid RFC 5424 to go-syslog.
func checkLine(t *testing.T, l line, sev int, msgID string) {
	t.Helper()
	if want := fmt.Sprint(20<<3 | sev); l.Pri != want || l.Severity != fmt.Sprint(sev) || l.Facility != "20" {
		t.Errorf("%s: pri %s severity %s facility %s, want %s, %d, 20", msgID, l.Pri, l.Severity, l.Facility, want, sev)
	}
	if ts, err := time.Parse(time.RFC3339Nano, l.Time); err != nil || !ts.Equal(encodeTime) {
		t.Errorf("%s: time %q, want %v", msgID, l.Time, encodeTime)
	}
	if l.Hostname != "sensor-1" || l.App != "osprey" || l.ProcID != strconv.Itoa(os.Getpid()) || l.MsgID != msgID {
		t.Errorf("header fields %q %q %q %q, want sensor-1 osprey %d %s", l.Hostname, l.App, l.ProcID, l.MsgID, os.Getpid(), msgID)
	}
	parse5424(t, []byte(l.Raw))
}

// checkCEF reads the CEF payload rsyslog received.
func checkCEF(t *testing.T, l line, header [7]string, ext map[string]string) {
	t.Helper()
	cef, err := parseCEF(l.Msg)
	if err != nil {
		t.Fatalf("%v: %q", err, l.Msg)
	}
	if diff := cmp.Diff(header, cef.Header); diff != "" {
		t.Errorf("CEF header (-want +got):\n%s", diff)
	}
	for k, want := range ext {
		if got, ok := cef.Ext[k]; !ok || got != want {
			t.Errorf("CEF %s=%q, want %q", k, got, want)
		}
	}
}

// TestRsyslog sends a finding, a session and a metric over UDP, TCP with
// octet counting, TCP with line feeds (JSON) and TLS with a client
// certificate, and reads what rsyslog made of them.
func TestRsyslog(t *testing.T) {
	r := startRsyslog(t)
	f, s, m := testFinding("f1"), testSession(), testMetric()
	events := []*deliver.Event{findingEv(&f), sessionEv(&s), metricEv(&m)}
	check := func(t *testing.T, lines []line) {
		t.Helper()
		checkLine(t, lines[0], 2, "finding")
		if want := `[osprey@32473 tenant="acme \"east\" [1\]\\2" id="f1" detector="policy" rule="ssh|telnet-from-internet" severity="critical" state="active" technique="T1021"]`; lines[0].SD != want {
			t.Errorf("structured data %s\nwant %s", lines[0].SD, want)
		}
		checkCEF(t, lines[0],
			[7]string{"0", "Osprey", "Osprey NDR", "1.2.3", "policy/ssh|telnet-from-internet", "203.0.113.9 → 10.0.0.5:22 \\ via | jump=yes again", "10"},
			map[string]string{"rt": "1772366400000", "src": "10.0.0.5", "dst": "203.0.113.9", "dpt": "22", "cs4": f.Tenant, "cs4Label": "tenant",
				"cs6": "ip:10.0.0.5,ip:203.0.113.9,port:22,tag:a=b", "cn1": "4", "externalId": "f1"})
		checkLine(t, lines[1], 6, "session")
		checkCEF(t, lines[1], [7]string{"0", "Osprey", "Osprey NDR", "1.2.3", "session", "tcp tls session", "1"},
			map[string]string{"src": "10.0.0.5", "spt": "51000", "dst": "2001:db8::1", "dpt": "443", "proto": "TCP", "out": "1200", "in": "5400", "cs3": "1:abc="})
		checkLine(t, lines[2], 6, "metric")
		checkCEF(t, lines[2], [7]string{"0", "Osprey", "Osprey NDR", "1.2.3", "metric", m.Name, "1"},
			map[string]string{"cfp1": "2.5", "cs2": "22,80", "cs6": "ip:10.0.0.7"})
	}

	t.Run("udp", func(t *testing.T) {
		sendTo(t, func(c *Config) { c.Network, c.Address = "udp", r.addr(r.udp) }, events...)
		check(t, r.wait("udp", 3))
	})
	t.Run("tcp octet counting", func(t *testing.T) {
		sendTo(t, func(c *Config) { c.Address = r.addr(r.tcp) }, events...)
		check(t, r.wait("tcp", 3))
	})
	t.Run("tcp line feed json", func(t *testing.T) {
		sendTo(t, func(c *Config) {
			c.Address, c.Framing, c.Format, c.Facility = r.addr(r.tcp), FramingNonTransparent, FormatJSON, "20"
		}, events[0], events[0])
		lines := r.wait("tcp", 5)[3:]
		for _, l := range lines {
			checkLine(t, l, 2, "finding")
			var got schema.Finding
			if err := json.Unmarshal([]byte(l.Msg), &got); err != nil {
				t.Fatalf("%v: %s", err, l.Msg)
			}
			if diff := cmp.Diff(f, got); diff != "" {
				t.Errorf("JSON payload (-want +got):\n%s", diff)
			}
		}
	})
	t.Run("tls", func(t *testing.T) {
		sendTo(t, func(c *Config) {
			c.Network, c.Address = "tls", r.addr(r.tlsPort)
			c.TLS = TLS{CAFile: r.ca, CertFile: r.cert, KeyFile: r.key}
		}, events...)
		check(t, r.wait("tls", 3))
	})
	t.Run("tls untrusted", func(t *testing.T) {
		c := DefaultConfig()
		c.Network, c.Address = "tls", r.addr(r.tlsPort)
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		n, err := s.Send(t.Context(), []deliver.Record{{Data: []byte("<14>1 - - - - - - x")}})
		if n != 0 || !errors.Is(err, deliver.ErrUnavailable) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Send without the CA = %d, %v; want an unavailable receiver, for its certificate", n, err)
		}
	})
}

// TestRsyslogRestart runs an output through deliver.Output's queue:
// rsyslog is stopped after the first records arrived, more are written
// while it is down, it comes back on the same port, and every record
// arrives, none dead-lettered.
func TestRsyslogRestart(t *testing.T) {
	r := startRsyslog(t)
	sc := DefaultConfig()
	sc.Address, sc.Hostname, sc.Timeout = r.addr(r.tcp), "sensor-1", 5*time.Second
	dst, err := New(sc)
	if err != nil {
		t.Fatal(err)
	}
	c := deliver.DefaultConfig()
	c.Name, c.Type = "siem", "syslog"
	c.Queue.Dir = t.TempDir()
	c.Batch.MaxRecords = 7
	c.Retry = deliver.RetryConfig{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	reg := prometheus.NewRegistry()
	metrics, err := deliver.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	o, err := deliver.NewOutput(c, dst.Encoder(), dst, deliver.Options{Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	router := deliver.NewRouter(o)
	router.Start(t.Context())
	defer router.Close()

	wave := func(prefix string, n int) []string {
		var ids []string
		batch := make([]schema.Finding, n)
		for i := range batch {
			batch[i] = testFinding(fmt.Sprintf("%s-%03d", prefix, i))
			ids = append(ids, batch[i].ID)
		}
		for i := 0; i < n; i += 9 { // several writes, several batches
			if err := router.WriteFindings(t.Context(), batch[i:min(i+9, n)]); err != nil {
				t.Fatal(err)
			}
		}
		return ids
	}
	want := wave("up", 40)
	r.wait("tcp", 40)
	r.stop()
	want = append(want, wave("down", 40)...)
	// The output finds the connection closed and rsyslog gone, and
	// retries until it is back.
	waitCounter(t, reg, "osprey_output_retried_total", 1)
	r.start()
	want = append(want, wave("back", 20)...)
	lines := r.wait("tcp", len(want))

	got := map[string]int{}
	for _, l := range lines {
		cef, err := parseCEF(l.Msg)
		if err != nil {
			t.Fatalf("%v: %s", err, l.Msg)
		}
		got[cef.Ext["externalId"]]++
	}
	for _, id := range want {
		if got[id] == 0 {
			t.Errorf("%s never arrived", id)
		}
	}
	if len(lines) != len(want) {
		t.Logf("%d messages for %d records: %d sent again (delivery is at least once)", len(lines), len(want), len(lines)-len(want))
	}
	if n := counter(t, reg, "osprey_output_failed_total"); n != 0 {
		t.Errorf("failed_total = %v, want 0", n)
	}
}

// counter sums a metric family's samples.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func waitCounter(t *testing.T, reg *prometheus.Registry, name string, atLeast float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for counter(t, reg, name) < atLeast {
		if time.Now().After(deadline) {
			t.Fatalf("%s stays below %v", name, atLeast)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
