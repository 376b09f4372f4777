package netflow

import (
	"fmt"
	"net"
	"time"
)

// Config configures the collector. Each list holds UDP listen addresses
// ("0.0.0.0:2055", "[::]:4739", ":6343"); a port in Auto takes any of the
// four protocols and tells them apart by the version in the header.
type Config struct {
	NetFlow []string `yaml:"netflow"` // NetFlow v5 and v9
	IPFIX   []string `yaml:"ipfix"`
	SFlow   []string `yaml:"sflow"`
	Auto    []string `yaml:"auto"`

	// ReceiveBuffer is each socket's SO_RCVBUF in bytes; 0 keeps the
	// system default. Exporters send in bursts at the end of their
	// active timeout, and what the buffer cannot hold the kernel drops.
	ReceiveBuffer int `yaml:"receive_buffer"`
	// Readers is how many goroutines read and decode each socket.
	Readers int `yaml:"readers"`
	// QueueSize is how many datagrams' sessions, in batches, may wait for
	// the writer; beyond it datagrams are dropped and counted
	// (osprey_netflow_queue_drops_total), not queued without bound.
	QueueSize int `yaml:"queue_size"`
	// BatchSize and FlushInterval bound a batch written to the sink.
	BatchSize     int           `yaml:"batch_size"`
	FlushInterval time.Duration `yaml:"flush_interval"`

	// DefaultSamplingRate scales the records of an exporter that has not
	// (yet) said its sampling rate; 0 leaves them unscaled, with
	// flow.sampling_rate omitted (docs/netflow.md, "Sampling").
	DefaultSamplingRate uint64 `yaml:"default_sampling_rate"`
	// MaxExporters bounds the exporters whose templates and sampling
	// rates are remembered, so that spoofed sources cannot grow memory.
	MaxExporters int `yaml:"max_exporters"`
	// MaxTemplates bounds the templates kept per exporter.
	MaxTemplates int `yaml:"max_templates"`
}

// DefaultConfig listens on the IANA and customary ports: NetFlow 2055,
// IPFIX 4739 and sFlow 6343.
func DefaultConfig() Config {
	return Config{
		NetFlow:       []string{":2055"},
		IPFIX:         []string{":4739"},
		SFlow:         []string{":6343"},
		ReceiveBuffer: 8 << 20,
		Readers:       2,
		QueueSize:     4096,
		BatchSize:     1024,
		FlushInterval: time.Second,
		MaxExporters:  10000,
		MaxTemplates:  1024,
	}
}

// Validate names the field at fault.
func (c Config) Validate() error {
	n := 0
	for _, l := range []struct {
		key   string
		addrs []string
	}{{"netflow", c.NetFlow}, {"ipfix", c.IPFIX}, {"sflow", c.SFlow}, {"auto", c.Auto}} {
		for i, a := range l.addrs {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return fmt.Errorf("%s[%d]: %q is not host:port: %w", l.key, i, a, err)
			}
			n++
		}
	}
	switch {
	case n == 0:
		return fmt.Errorf("netflow, ipfix, sflow, auto: no listen address")
	case c.ReceiveBuffer < 0:
		return fmt.Errorf("receive_buffer: %d is negative", c.ReceiveBuffer)
	case c.Readers < 1:
		return fmt.Errorf("readers: %d, want at least 1", c.Readers)
	case c.QueueSize < 1:
		return fmt.Errorf("queue_size: %d, want at least 1", c.QueueSize)
	case c.BatchSize < 1:
		return fmt.Errorf("batch_size: %d, want at least 1", c.BatchSize)
	case c.FlushInterval <= 0:
		return fmt.Errorf("flush_interval: %v, want a positive duration", c.FlushInterval)
	case c.MaxExporters < 1:
		return fmt.Errorf("max_exporters: %d, want at least 1", c.MaxExporters)
	case c.MaxTemplates < 1:
		return fmt.Errorf("max_templates: %d, want at least 1", c.MaxTemplates)
	}
	return nil
}
