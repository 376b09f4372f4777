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
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// rsyslog is a real rsyslogd (Debian's rsyslog and rsyslog-gnutls),
// run unprivileged in the foreground with its own configuration, PID
// file and work directory in a temporary directory. It listens on UDP,
// TCP and TLS (gtls, client certificates required) and writes what each
// listener received to <input>.jsonl: rsyslog's own reading of the
// message's fields, and the raw message.
type rsyslog struct {
	t                *testing.T
	dir, bin, conf   string
	udp, tcp, tlsPort int
	cmd              *exec.Cmd
	exited           chan struct{}
	ca, cert, key    string // the client's certificate, signed by ca
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
