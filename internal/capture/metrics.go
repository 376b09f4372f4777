package capture

import (
	"github.com/prometheus/client_golang/prometheus"
)

// udpCollector exports a UDPSource's counters, kernel drops included, so
// that a sensor falling behind shows on /metrics before it shows as gaps.
type udpCollector struct {
	s                               *UDPSource
	datagrams, bytes, errors, drops *prometheus.Desc
}

// Collector returns the source's Prometheus collector
// (osprey_capture_udp_*).
func (s *UDPSource) Collector() prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("osprey_capture_udp_"+name, help, nil, nil)
	}
	return &udpCollector{s: s,
		datagrams: d("datagrams_total", "Datagrams received on the VXLAN/GENEVE sockets."),
		bytes:     d("bytes_total", "Bytes received on the VXLAN/GENEVE sockets."),
		errors:    d("read_errors_total", "Failed socket reads."),
		drops:     d("kernel_drops_total", "Datagrams the kernel dropped because a socket buffer was full (SO_RXQ_OVFL)."),
	}
}

func (c *udpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.datagrams
	ch <- c.bytes
	ch <- c.errors
	ch <- c.drops
}

func (c *udpCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.Stats()
	ch <- prometheus.MustNewConstMetric(c.datagrams, prometheus.CounterValue, float64(st.Datagrams))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(st.ReadErrors))
	ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(st.KernelDrops))
}

// afpacketCollector exports the AF_PACKET socket's counters.
type afpacketCollector struct {
	s                    *AFPacketSource
	frames, bytes, drops *prometheus.Desc
}

// Collector returns the source's Prometheus collector
// (osprey_capture_afpacket_*).
func (s *AFPacketSource) Collector() prometheus.Collector {
	l := prometheus.Labels{"interface": s.cfg.Interface}
	return &afpacketCollector{s: s,
		frames: prometheus.NewDesc("osprey_capture_afpacket_frames_total", "Frames read from the AF_PACKET socket.", nil, l),
		bytes:  prometheus.NewDesc("osprey_capture_afpacket_bytes_total", "Bytes on the wire of the frames read from the AF_PACKET socket.", nil, l),
		drops:  prometheus.NewDesc("osprey_capture_afpacket_kernel_drops_total", "Frames the kernel dropped for this socket.", nil, l),
	}
}

func (c *afpacketCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.frames
	ch <- c.bytes
	ch <- c.drops
}

func (c *afpacketCollector) Collect(ch chan<- prometheus.Metric) {
	st, _ := c.s.Stats() // after Close the sums stay as they were
	ch <- prometheus.MustNewConstMetric(c.frames, prometheus.CounterValue, float64(st.Frames))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(c.drops, prometheus.CounterValue, float64(st.KernelDrops))
}
