// Package defender collects AWS IoT Device Defender metrics: device-side
// reports published over MQTT (an embedded broker, or a client of an
// external one) or posted over HTTP, each answered with AWS's
// accepted/rejected reply, and cloud-side metrics read from JSON lines.
// Everything becomes schema.DeviceMetric records, written in batches to a
// collect.MetricSink; a report is answered ACCEPTED only once the sink
// took its metrics. Bad input goes to collect.Rejects and the rest goes on.
package defender

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Collector receives reports and feeds and writes their metrics.
type Collector struct {
	cfg     Config
	parser  *Parser
	things  *things
	sink    collect.MetricSink
	rejects collect.Rejects
	log     *slog.Logger
	count   *counters
	auth    *authorizer
	now     func() time.Time

	// queue carries accepted reports and feed lines to the writer; closed
	// (under mu) once no producer is left.
	mu     sync.RWMutex
	closed bool
	queue  chan pending

	// addresses the listeners bound, known once ready is closed
	ready              chan struct{}
	mqttAddr, httpAddr string
}

// pending is one accepted report, or one feed line, waiting for the sink.
type pending struct {
	metrics   []schema.DeviceMetric
	transport string
	adm       admission
	reply     Reply
	respond   func(Reply) // nil for feed lines
}

// New checks cfg and prepares a collector; nothing runs until Run. reg
// may be nil (no metrics registered); rejects may be nil (bad input is
// only counted and answered).
func New(cfg Config, sink collect.MetricSink, rejects collect.Rejects, reg prometheus.Registerer, log *slog.Logger) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("defender: nil metric sink")
	}
	if rejects == nil {
		rejects = collect.RejectFunc(func(collect.BadInput) {})
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := NewParser(cfg.limits())
	if err != nil {
		return nil, err
	}
	auth, err := newAuthorizer(&cfg.MQTT)
	if err != nil {
		return nil, err
	}
	t := newThings(cfg.MaxThings, cfg.MinReportInterval)
	count, err := newCounters(reg, t)
	if err != nil {
		return nil, err
	}
	return &Collector{cfg: cfg, parser: p, things: t, sink: sink, rejects: rejects, log: log, count: count,
		auth: auth, now: time.Now, queue: make(chan pending, cfg.QueueSize), ready: make(chan struct{})}, nil
}

// report is one device-side report as it arrived.
type report struct {
	thing     string
	format    Format
	payload   []byte
	transport string // mqtt or http
	source    string // topic, or http://peer/path
	principal principal
	respond   func(Reply)
}

// submit validates a report and queues its metrics, or rejects it. The
// reply comes through respond, from the writer once the metrics are
// stored; submit blocks while the queue is full, which holds the
// publisher back.
func (c *Collector) submit(ctx context.Context, rp report) {
	now := c.now().UTC()
	c.count.reports.WithLabelValues(rp.transport, rp.format.String()).Inc()
	if err := checkThingName(rp.thing); err != nil {
		c.reject(rp, 0, now, &ReportError{Code: CodeInvalidThingName, Message: err.Error()})
		return
	}
	if !rp.principal.mayReport(rp.thing) {
		c.reject(rp, 0, now, &ReportError{Code: CodeNotAuthorized, Message: rp.principal.String() + " may not report for " + rp.thing})
		return
	}
	r, err := c.parser.Parse(rp.payload, rp.format)
	if err != nil {
		c.reject(rp, 0, now, err.(*ReportError))
		return
	}
	adm, rerr := c.things.admit(rp.thing, r.ID, now)
	if rerr != nil {
		if rerr.Code == CodeDuplicateReportID {
			rerr.Field = longNames.header + "." + longNames.reportID
			if r.Short {
				rerr.Field = shortNames.header + "." + shortNames.reportID
			}
		}
		c.reject(rp, r.ID, now, rerr)
		return
	}
	p := pending{metrics: r.AppendMetrics(nil, c.cfg.Tenant, rp.thing, now), transport: rp.transport,
		adm: adm, reply: accepted(rp.thing, r.ID, now), respond: rp.respond}
	if err := c.enqueue(ctx, p); err != nil {
		c.things.revert(adm)
		c.reject(rp, r.ID, now, &ReportError{Code: CodeInternalFailure, Message: "not queued: " + err.Error()})
	}
}

func (c *Collector) reject(rp report, id int64, now time.Time, e *ReportError) {
	c.count.rejected.WithLabelValues(rp.transport, e.Code).Inc()
	c.rejects.Reject(collect.BadInput{Kind: "defender", Source: rp.source, Offset: -1, Field: e.Field, Err: e, Raw: rp.payload})
	rp.respond(rejected(rp.thing, id, now, e))
}

var errStopping = errors.New("the collector is stopping")

// enqueue hands p to the writer, waiting for room.
func (c *Collector) enqueue(ctx context.Context, p pending) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return errStopping
	}
	select {
	case c.queue <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeQueue lets the writer drain and stop; later submits are refused.
func (c *Collector) closeQueue() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.queue)
	}
}

// write batches what the queue brings and writes it, by batch_size
// metrics or flush_interval, whichever comes first, then answers the
// reports of the batch. It returns when the queue is closed and drained.
func (c *Collector) write(ctx context.Context) {
	// A write in progress is not cut short by shutdown: what was
	// accepted is stored or its reports are told it was not.
	ctx = context.WithoutCancel(ctx)
	batch := make([]schema.DeviceMetric, 0, c.cfg.BatchSize)
	var waiting []pending
	timer := time.NewTimer(c.cfg.FlushInterval)
	timer.Stop()
	flush := func() {
		timer.Stop()
		if len(waiting) == 0 {
			return
		}
		err := c.sink.WriteMetrics(ctx, batch)
		if err != nil {
			c.count.writeErrors.Inc()
			c.count.dropped.Add(float64(len(batch)))
			c.log.Error("defender: writing metrics", "metrics", len(batch), "error", err)
		} else {
			c.count.written.Add(float64(len(batch)))
		}
		for _, p := range waiting {
			c.answer(p, err)
		}
		clear(waiting)
		batch, waiting = batch[:0], waiting[:0]
	}
	for {
		select {
		case p, ok := <-c.queue:
			if !ok {
				flush()
				return
			}
			if len(waiting) == 0 {
				timer.Reset(c.cfg.FlushInterval)
			}
			batch = append(batch, p.metrics...)
			waiting = append(waiting, p)
			if len(batch) >= c.cfg.BatchSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// answer tells a report's sender whether its metrics were stored.
func (c *Collector) answer(p pending, err error) {
	if p.respond == nil {
		return
	}
	if err == nil {
		c.count.accepted.WithLabelValues(p.transport).Inc()
		p.respond(p.reply)
		return
	}
	// The device may send the same report again.
	c.things.revert(p.adm)
	c.count.rejected.WithLabelValues(p.transport, CodeInternalFailure).Inc()
	p.respond(rejected(p.reply.ThingName, p.reply.ReportID, c.now().UTC(),
		&ReportError{Code: CodeInternalFailure, Message: "metrics not stored: " + err.Error()}))
}
