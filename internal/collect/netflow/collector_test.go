package netflow

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// counter sums the metric name over its label values.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// waitFor polls cond with a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// startCollector runs a collector on loopback ports until the test ends.
func startCollector(t *testing.T, cfg Config, sink pipeline.SessionSink) (*Collector, *prometheus.Registry, *rejects) {
	t.Helper()
	reg, rj := prometheus.NewRegistry(), &rejects{}
	c, err := New(cfg, sink, rj, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	if len(c.Listeners()) == 0 {
		t.Fatal("not listening")
	}
	return c, reg, rj
}

func send(t *testing.T, to net.Addr, payloads ...[]byte) {
	t.Helper()
	conn, err := net.Dial("udp", to.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, p := range payloads {
		if _, err := conn.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

func loopbackConfig() Config {
	cfg := DefaultConfig()
	cfg.NetFlow, cfg.IPFIX, cfg.Auto = []string{"127.0.0.1:0"}, nil, nil
	cfg.SFlow = []string{"127.0.0.1:0"}
	cfg.FlushInterval = 20 * time.Millisecond
	return cfg
}

// TestCollector: datagrams on each port become sessions in the sink, a
// batch that is not full is flushed after FlushInterval, and a protocol
// sent to the other protocol's port is rejected.
func TestCollector(t *testing.T) {
	sink := &memSink{}
	c, reg, rj := startCollector(t, loopbackConfig(), sink)
	var nf, sf net.Addr
	for _, l := range c.Listeners() {
		switch l.Protocols {
		case "netflow":
			nf = net.UDPAddrFromAddrPort(l.Addr)
		case "sflow":
			sf = net.UDPAddrFromAddrPort(l.Addr)
		}
	}
	send(t, nf, v5Datagram(3, 0), sflowDatagram(1))
	send(t, sf, sflowDatagram(2))
	waitFor(t, "5 sessions", func() bool { return len(sink.sessions()) == 5 })
	waitFor(t, "a reject", func() bool { return len(rj.all()) == 1 })
	if b := rj.all()[0]; !strings.Contains(b.Error(), "sflow5 datagram on a port for NetFlow/IPFIX") {
		t.Errorf("reject %v", &b)
	}
	if n := counter(t, reg, "osprey_netflow_sessions_written_total"); n != 5 {
		t.Errorf("%v sessions written", n)
	}
	if n := counter(t, reg, "osprey_netflow_bad_input_total"); n != 1 {
		t.Errorf("%v bad inputs", n)
	}
}

// blockingSink holds every write until released.
type blockingSink struct {
	memSink
	release chan struct{}
}

func (b *blockingSink) WriteSessions(ctx context.Context, s []schema.Session) error {
	<-b.release
	return b.memSink.WriteSessions(ctx, s)
}

// TestQueueFull: with the writer stuck, datagrams beyond what the queue
// holds are dropped and counted, and nothing is lost silently.
func TestQueueFull(t *testing.T) {
	cfg := loopbackConfig()
	cfg.QueueSize, cfg.BatchSize, cfg.Readers = 1, 1, 1
	sink := &blockingSink{release: make(chan struct{})}
	c, reg, _ := startCollector(t, cfg, sink)
	const n = 20
	var ps [][]byte
	for range n {
		ps = append(ps, v5Datagram(1, 0))
	}
	send(t, net.UDPAddrFromAddrPort(c.Listeners()[0].Addr), ps...)
	waitFor(t, "every datagram", func() bool { return counter(t, reg, "osprey_netflow_datagrams_total") == n })
	// At most one batch is in the sink and one in the queue.
	if d := counter(t, reg, "osprey_netflow_queue_drops_total"); d < n-2 {
		t.Errorf("%v datagrams dropped, want at least %d", d, n-2)
	}
	close(sink.release)
	waitFor(t, "all accounted for", func() bool {
		return counter(t, reg, "osprey_netflow_sessions_written_total")+counter(t, reg, "osprey_netflow_queue_dropped_sessions_total") == n
	})
	if w := len(sink.sessions()); w < 1 || w > 2 {
		t.Errorf("%d sessions written", w)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"default", func(*Config) {}, ""},
		{"no address", func(c *Config) { c.NetFlow, c.IPFIX, c.SFlow = nil, nil, nil }, "no listen address"},
		{"bad address", func(c *Config) { c.SFlow = []string{"6343"} }, "sflow[0]"},
		{"readers", func(c *Config) { c.Readers = 0 }, "readers"},
		{"queue", func(c *Config) { c.QueueSize = 0 }, "queue_size"},
		{"batch", func(c *Config) { c.BatchSize = 0 }, "batch_size"},
		{"flush", func(c *Config) { c.FlushInterval = 0 }, "flush_interval"},
		{"buffer", func(c *Config) { c.ReceiveBuffer = -1 }, "receive_buffer"},
		{"exporters", func(c *Config) { c.MaxExporters = 0 }, "max_exporters"},
		{"templates", func(c *Config) { c.MaxTemplates = 0 }, "max_templates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if (err == nil) != (tc.field == "") || err != nil && !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %v, want one naming %q", err, tc.field)
			}
		})
	}
}
