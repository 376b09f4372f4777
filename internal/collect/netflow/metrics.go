package netflow

import (
	"github.com/prometheus/client_golang/prometheus"
)

// protocol indexes the per-protocol counters; its names are the
// sessions' source values.
type protocol uint8

const (
	netflow5 protocol = iota
	netflow9
	ipfix
	sflow5
	unknownProtocol
	numProtocols
)

var protocolNames = [numProtocols]string{"netflow5", "netflow9", "ipfix", "sflow5", "unknown"}

func (p protocol) String() string { return protocolNames[p] }

// Reasons for rejecting input, the values of the reason label.
const (
	reasonShort       = "short_header"
	reasonVersion     = "unknown_version"
	reasonWrongPort   = "wrong_port"
	reasonLength      = "bad_length"
	reasonTemplate    = "bad_template"
	reasonMalformed   = "malformed"
	reasonExporters   = "too_many_exporters"
	reasonNoAddress   = "no_address"
	reasonCounters    = "sflow_counter_sample"
	reasonDropSample  = "sflow_drop_sample"
	reasonNotSampleIP = "sflow_not_ip"
)

var rejectReasons = []string{reasonShort, reasonVersion, reasonWrongPort, reasonLength, reasonTemplate, reasonMalformed, reasonExporters}

var skipReasons = []string{reasonNoAddress, reasonCounters, reasonDropSample, reasonNotSampleIP}

// metrics are the collector's counters. Children are resolved once so
// that counting on the hot path is an atomic add.
type metrics struct {
	datagrams, records [numProtocols]prometheus.Counter
	bytes              prometheus.Counter
	bad                map[string]prometheus.Counter
	skipped            map[string]prometheus.Counter
	templateUnknown    [numProtocols]prometheus.Counter

	readErrors, queueDrops, queueDropSessions prometheus.Counter
	written, sinkErrors, sinkDropSessions     prometheus.Counter
}

// newMetrics creates the counters and registers them on reg unless it is
// nil (a Decoder used on its own).
func newMetrics(reg prometheus.Registerer, x *exporters) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_netflow_" + name, Help: help})
	}
	vec := func(name, help, label string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "osprey_netflow_" + name, Help: help}, []string{label})
	}
	datagrams := vec("datagrams_total", "Datagrams received, by protocol (unknown: not decodable).", "protocol")
	records := vec("records_total", "Flow records turned into sessions, by protocol.", "protocol")
	unknown := vec("template_unknown_total", "Data sets dropped because their template was not known yet (normal for a while after a start), by protocol.", "protocol")
	bad := vec("bad_input_total", "Datagrams, sets or records rejected as bad input, by reason.", "reason")
	skipped := vec("records_skipped_total", "Well-formed records or samples that give no session, by reason.", "reason")
	m := &metrics{
		bytes:             counter("bytes_total", "Bytes of datagrams received."),
		readErrors:        counter("read_errors_total", "Failed socket reads."),
		queueDrops:        counter("queue_drops_total", "Datagrams whose sessions were dropped because the queue to the writer was full."),
		queueDropSessions: counter("queue_dropped_sessions_total", "Sessions dropped because the queue to the writer was full."),
		written:           counter("sessions_written_total", "Sessions the sink accepted."),
		sinkErrors:        counter("sink_errors_total", "Batches the sink refused."),
		sinkDropSessions:  counter("sink_dropped_sessions_total", "Sessions in batches the sink refused."),
		bad:               map[string]prometheus.Counter{},
		skipped:           map[string]prometheus.Counter{},
	}
	for p := range numProtocols {
		m.datagrams[p] = datagrams.WithLabelValues(p.String())
		m.records[p] = records.WithLabelValues(p.String())
		m.templateUnknown[p] = unknown.WithLabelValues(p.String())
	}
	for _, r := range rejectReasons {
		m.bad[r] = bad.WithLabelValues(r)
	}
	for _, r := range skipReasons {
		m.skipped[r] = skipped.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "osprey_netflow_" + name, Help: help}, f)
	}
	for _, c := range []prometheus.Collector{
		datagrams, records, unknown, bad, skipped,
		m.bytes, m.readErrors, m.queueDrops, m.queueDropSessions, m.written, m.sinkErrors, m.sinkDropSessions,
		gauge("exporters", "Exporters whose templates and sampling rates are remembered.", func() float64 { n, _ := x.counts(); return float64(n) }),
		gauge("templates", "Templates remembered, over all exporters.", func() float64 { _, n := x.counts(); return float64(n) }),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
