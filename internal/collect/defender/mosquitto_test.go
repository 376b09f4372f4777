package defender

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/osprey-ndr/osprey/internal/testutil"
)

// Tests with Debian's mosquitto clients and broker: devices publish with
// mosquitto_pub and read replies with mosquitto_sub, against the
// embedded broker, and against a mosquitto the external client uses.

func needMosquitto(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err := os.Stat("/usr/sbin/" + tool); err != nil {
				testutil.Missing(t, tool+" (Debian packages mosquitto, mosquitto-clients)")
			}
		}
	}
}

// mqttClient is how the mosquitto tools reach a broker: address and any
// credential flags.
type mqttClient struct {
	host, port string
	flags      []string
}

func clientFor(t *testing.T, addr string, flags ...string) mqttClient {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return mqttClient{host: host, port: port, flags: flags}
}

func (m mqttClient) args(extra ...string) []string {
	return append(append([]string{"-h", m.host, "-p", m.port}, m.flags...), extra...)
}

// publish runs mosquitto_pub with QoS 1.
func (m mqttClient) publish(t *testing.T, topic string, payload ...string) error {
	t.Helper()
	out, err := exec.Command("mosquitto_pub", m.args(append([]string{"-q", "1", "-t", topic}, payload...)...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mosquitto_pub: %v: %s", err, out)
	}
	return nil
}

// replies is a running mosquitto_sub whose messages (topic and
// hex-printed payload) arrive on a channel.
type replies struct {
	lines chan string
}

func (m mqttClient) subscribe(t *testing.T, topic string) *replies {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "mosquitto_sub", m.args("-q", "1", "-t", topic, "-F", "%t %x", "-W", "120")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replies{lines: make(chan string, 64)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	t.Cleanup(func() { cancel(); cmd.Wait() })
	return r
}

// next returns the next reply not to the probe thing.
func (r *replies) next(t *testing.T) (string, Reply) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				t.Fatal("mosquitto_sub ended")
			}
			if !strings.Contains(line, "/things/probe/") {
				return parseReplyLine(t, line)
			}
		case <-deadline:
			t.Fatal("no reply within 20 s")
		}
	}
}

// parseReplyLine reads mosquitto_sub's "%t %x" output.
func parseReplyLine(t *testing.T, line string) (string, Reply) {
	t.Helper()
	topic, hexPayload, _ := strings.Cut(line, " ")
	b, err := hex.DecodeString(hexPayload)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	var rep Reply
	if strings.Contains(topic, "/cbor/") {
		err = cbor.Unmarshal(b, &rep)
	} else {
		err = json.Unmarshal(b, &rep)
	}
	if err != nil {
		t.Fatalf("reply on %s %q: %v", topic, b, err)
	}
	return topic, rep
}

// awaitSubscribed publishes a malformed report for the thing "probe"
// until its rejection comes back: then both the collector and the
// subscriber are in place. Rejections leave no state behind.
func (m mqttClient) awaitSubscribed(t *testing.T, r *replies) {
	t.Helper()
	for range 100 {
		if err := m.publish(t, "$aws/things/probe/defender/metrics/json", "-m", "probe"); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-r.lines:
			if strings.Contains(line, "/things/probe/") {
				return
			}
			t.Fatalf("unexpected message before the probe: %q", line)
		case <-time.After(300 * time.Millisecond):
		}
	}
	t.Fatal("the probe was never answered")
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	writeFileAt(t, p, b)
	return p
}

func writeFileAt(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// exerciseBroker sends JSON, short JSON and CBOR reports, a duplicate
// and a malformed one through broker with the mosquitto clients, and
// checks replies and stored metrics.
func exerciseBroker(t *testing.T, h *harness, m mqttClient) {
	const base = "$aws/things/cam-1/defender/metrics/"
	sub := m.subscribe(t, "$aws/things/+/defender/metrics/+/+")
	m.awaitSubscribed(t, sub)
	long := readTestdata(t, "report-long.json")
	short := strings.Replace(string(readTestdata(t, "report-short.json")), "1700000300", "1700000600", 1)
	cborReport := toCBOR(t, []byte(strings.Replace(short, "1700000600", "1700000900", 1)))
	for _, step := range []struct {
		name, topic string
		payload     []string
		id          int64
		code        string
	}{
		{"long json", base + "json", []string{"-f", writeFile(t, "long.json", long)}, 1700000300, ""},
		{"duplicate", base + "json", []string{"-f", writeFile(t, "long.json", long)}, 1700000300, CodeDuplicateReportID},
		{"malformed", base + "json", []string{"-m", `{"hed":{"rid":1700000500,"v":"1.0"},"met":{"ns":{"bi":"lots"}}}`}, 0, CodeInvalidPayload},
		{"short json", base + "json", []string{"-m", short}, 1700000600, ""},
		{"decreasing", base + "json", []string{"-m", `{"hed":{"rid":1700000400,"v":"1.0"},"cmet":{"t":[{"number":1}]}}`}, 1700000400, CodeDuplicateReportID},
		{"cbor", base + "cbor", []string{"-f", writeFile(t, "report.cbor", cborReport)}, 1700000900, ""},
		{"cbor garbage", base + "cbor", []string{"-m", "\x01\x02"}, 0, CodeInvalidPayload},
	} {
		t.Run(step.name, func(t *testing.T) {
			if err := m.publish(t, step.topic, step.payload...); err != nil {
				t.Fatal(err)
			}
			topic, r := sub.next(t)
			wantTopic, wantStatus := step.topic+"/accepted", StatusAccepted
			if step.code != "" {
				wantTopic, wantStatus = step.topic+"/rejected", StatusRejected
			}
			code := ""
			if r.StatusDetails != nil {
				code = r.StatusDetails.ErrorCode
			}
			if topic != wantTopic || r.ThingName != "cam-1" || r.ReportID != step.id || r.Status != wantStatus || code != step.code {
				t.Errorf("reply on %s: %+v %+v; want %s %d %s", topic, r, r.StatusDetails, wantTopic, step.id, step.code)
			}
		})
	}
	got := h.sink.byDevice("cam-1")
	if m := got["aws:all-bytes-in"]; m.Value != 10240 {
		t.Errorf("aws:all-bytes-in = %+v", m)
	}
	if m := got["aws:destination-ip-addresses"]; strings.Join(m.List, ",") != "2001:db8::7,203.0.113.9" {
		t.Errorf("aws:destination-ip-addresses = %+v", m)
	}
	var sources []string
	for _, b := range h.rejects.list() {
		if !strings.Contains(b.Source, "/probe/") {
			sources = append(sources, b.Field+"@"+b.Source)
		}
	}
	want := "header.report_id@" + base + "json met.ns.bi@" + base + "json hed.rid@" + base + "json @" + base + "cbor"
	if strings.Join(sources, " ") != want {
		t.Errorf("bad input %v, want %s", sources, want)
	}
}

func mqttConfig() Config {
	cfg := DefaultConfig()
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.MinReportInterval = 0
	cfg.FlushInterval = 20 * time.Millisecond
	return cfg
}

func TestEmbeddedBroker(t *testing.T) {
	needMosquitto(t, "mosquitto_pub", "mosquitto_sub")
	h := startCollector(t, mqttConfig(), nil)
	exerciseBroker(t, h, clientFor(t, h.mqttAddr))
}

func TestExternalBroker(t *testing.T) {
	needMosquitto(t, "mosquitto", "mosquitto_pub", "mosquitto_sub")
	addr := startMosquitto(t)
	cfg := mqttConfig()
	cfg.MQTT.Mode = "external"
	cfg.MQTT.Broker = "tcp://" + addr
	h := startCollector(t, cfg, nil)
	exerciseBroker(t, h, clientFor(t, addr))
}

// startMosquitto runs a broker on a free loopback port until the test
// ends.
func startMosquitto(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	conf := writeFile(t, "mosquitto.conf", []byte("listener "+port+" 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"))
	bin := "/usr/sbin/mosquitto"
	if _, err := os.Stat(bin); err != nil {
		bin = "mosquitto"
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
	}
	t.Fatal("mosquitto did not start listening within 20 s")
	return ""
}

// With users, a device connects with its password and may only report
// for its own things.
func TestEmbeddedBrokerUsers(t *testing.T) {
	needMosquitto(t, "mosquitto_pub", "mosquitto_sub")
	cfg := mqttConfig()
	cfg.MQTT.Users = []User{{Username: "cam-1", Password: "s3cret", Things: []string{"cam-1"}}}
	h := startCollector(t, cfg, nil)
	anon := clientFor(t, h.mqttAddr)
	if err := anon.publish(t, "$aws/things/cam-1/defender/metrics/json", "-m", "{}"); err == nil {
		t.Error("anonymous publish was let in")
	}
	wrong := clientFor(t, h.mqttAddr, "-u", "cam-1", "-P", "nope")
	if err := wrong.publish(t, "$aws/things/cam-1/defender/metrics/json", "-m", "{}"); err == nil {
		t.Error("a wrong password was let in")
	}
	dev := clientFor(t, h.mqttAddr, "-u", "cam-1", "-P", "s3cret")
	sub := dev.subscribe(t, "$aws/things/cam-1/defender/metrics/json/+")
	// cam-1 may not report for cam-2: the broker refuses the publish
	// (and, MQTT 3.1.1 having no negative PUBACK, drops the connection).
	dev.publish(t, "$aws/things/cam-2/defender/metrics/json", "-m", `{"hed":{"rid":1,"v":"1.0"},"cmet":{"t":[{"number":1}]}}`)
	// Its own reports are taken; retried until the subscription is in place.
	var topic string
	var r Reply
	for id := int64(1); ; id++ {
		if err := dev.publish(t, "$aws/things/cam-1/defender/metrics/json", "-m", fmt.Sprintf(`{"hed":{"rid":%d,"v":"1.0"},"cmet":{"t":[{"number":1}]}}`, id)); err != nil {
			t.Fatal(err)
		}
		select {
		case line := <-sub.lines:
			topic, r = parseReplyLine(t, line)
		case <-time.After(300 * time.Millisecond):
			if id < 60 {
				continue
			}
			t.Fatal("no reply")
		}
		break
	}
	if !strings.HasSuffix(topic, "/accepted") || r.ThingName != "cam-1" {
		t.Errorf("reply on %s: %+v", topic, r)
	}
	if got := h.sink.byDevice("cam-2"); len(got) != 0 {
		t.Errorf("cam-1 reported for cam-2: %v", got)
	}
}
