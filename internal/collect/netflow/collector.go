// Package netflow collects NetFlow v5, NetFlow v9, IPFIX and sFlow v5
// from exporters over UDP and turns every flow record into a Session
// (docs/netflow.md). goflow2's decoders parse the datagrams; the mapping,
// the per-exporter template and sampling state and the listener are here.
package netflow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Collector listens for exporters and writes their records to a sink in
// batches. Each listen address gets Readers sockets bound with
// SO_REUSEPORT: the kernel keeps one exporter on one socket, so its
// templates and data are decoded in the order it sent them, and each
// reader flushes its own batch. Between the readers and the one writer is
// a bounded queue: when it is full the readers drop and count rather
// than wait, since an exporter cannot be slowed down and a reader that
// waits only moves the loss into the kernel's socket buffer, where it is
// harder to see.
type Collector struct {
	cfg     Config
	sink    pipeline.SessionSink
	rejects collect.Rejects
	m       *metrics
	x       *exporters

	ready  chan struct{} // closed once Run has bound its sockets, or failed to
	addrs  []Listener
	queued atomic.Int64 // datagrams whose sessions wait in the queue
}

// Listener is one bound socket of the collector.
type Listener struct {
	Addr      netip.AddrPort
	Protocols string // "netflow", "ipfix", "sflow" or "auto"
}

// New checks cfg and registers the metrics on reg; it opens nothing.
// rejects receives bad input (nil drops it; it is still counted).
func New(cfg Config, sink pipeline.SessionSink, rejects collect.Rejects, reg prometheus.Registerer) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("netflow: %w", err)
	}
	x := newExporters(cfg.MaxExporters, cfg.MaxTemplates)
	m, err := newMetrics(reg, x)
	if err != nil {
		return nil, fmt.Errorf("netflow: metrics: %w", err)
	}
	return &Collector{cfg: cfg, sink: sink, rejects: rejects, m: m, x: x, ready: make(chan struct{})}, nil
}

// Listeners waits until Run has bound its sockets and returns them (none
// if it could not), so that a test listening on port 0 learns the port.
func (c *Collector) Listeners() []Listener {
	<-c.ready
	return c.addrs
}

// Run receives until ctx is done, then writes what it holds and returns
// nil. It returns an error if a socket cannot be opened. It does not
// close the sink, which its owner may share.
func (c *Collector) Run(ctx context.Context) error {
	conns, err := c.listen()
	close(c.ready)
	if err != nil {
		return err
	}
	queue := make(chan batch, c.cfg.QueueSize)
	free := make(chan []schema.Session, c.cfg.QueueSize+len(conns))
	stop := context.AfterFunc(ctx, func() {
		for _, k := range conns {
			k.conn.Close()
		}
	})
	defer stop()
	var readers sync.WaitGroup
	for _, k := range conns {
		readers.Go(func() { c.read(k, queue, free) })
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.write(context.WithoutCancel(ctx), queue, free)
	}()
	readers.Wait()
	close(queue)
	<-written
	return nil
}

// socket is one bound socket and the protocols it takes.
type socket struct {
	conn *net.UDPConn
	acc  accept
}

func (c *Collector) listen() ([]socket, error) {
	var out []socket
	fail := func(err error) ([]socket, error) {
		for _, k := range out {
			k.conn.Close()
		}
		c.addrs = nil
		return nil, fmt.Errorf("netflow: %w", err)
	}
	for _, l := range []struct {
		key   string
		addrs []string
		acc   accept
	}{{"netflow", c.cfg.NetFlow, acceptNetFlow}, {"ipfix", c.cfg.IPFIX, acceptNetFlow}, {"sflow", c.cfg.SFlow, acceptSFlow}, {"auto", c.cfg.Auto, acceptAll}} {
		for _, addr := range l.addrs {
			for i := range c.cfg.Readers {
				conn, err := listenUDP(addr, c.cfg.ReceiveBuffer)
				if err != nil {
					return fail(fmt.Errorf("%s %s: %w", l.key, addr, err))
				}
				local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
				if i == 0 { // the others join the port chosen for ":0"
					host, _, _ := net.SplitHostPort(addr)
					addr = net.JoinHostPort(host, fmt.Sprint(local.Port()))
				}
				out = append(out, socket{conn, l.acc})
				c.addrs = append(c.addrs, Listener{local, l.key})
			}
		}
	}
	return out, nil
}

// batch is what a reader hands the writer: sessions and the datagrams
// they came from, to count if the queue is full.
type batch struct {
	sessions  []schema.Session
	datagrams int
}

// read receives on one socket until it is closed, decoding into a batch
// that goes to the queue when full or FlushInterval after its first
// session. The socket's read deadline is the flush timer: sockets are
// not shared between readers, so nothing else moves it.
func (c *Collector) read(k socket, queue chan<- batch, free chan []schema.Session) {
	d := newDecoder(c.cfg, c.x, c.m, c.rejects)
	buf := make([]byte, 65535)
	b := batch{sessions: c.take(free)}
	timed := false
	send := func(wait bool) {
		if len(b.sessions) > 0 {
			c.enqueue(queue, b, wait)
			b = batch{sessions: c.take(free)}
		}
		if timed {
			k.conn.SetReadDeadline(time.Time{})
			timed = false
		}
	}
	for {
		n, from, err := k.conn.ReadFromUDPAddrPort(buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			send(false)
			continue
		case errors.Is(err, net.ErrClosed):
			send(true) // shutting down: nothing may be lost now
			return
		case err != nil:
			c.m.readErrors.Inc()
			continue
		}
		now := time.Now()
		before := len(b.sessions)
		b.sessions = d.decode(from, buf[:n], now, k.acc, b.sessions)
		if len(b.sessions) == before {
			continue
		}
		b.datagrams++
		switch {
		case len(b.sessions) >= c.cfg.BatchSize:
			send(false)
		case !timed:
			k.conn.SetReadDeadline(now.Add(c.cfg.FlushInterval))
			timed = true
		}
	}
}

// enqueue hands b to the writer; if that would put more than QueueSize
// datagrams in the queue it drops b and counts it, unless told to wait.
// Every batch holds at least one datagram, so the channel, QueueSize
// long, never blocks a reader that is not told to wait.
func (c *Collector) enqueue(queue chan<- batch, b batch, wait bool) {
	n := int64(b.datagrams)
	if c.queued.Add(n) > int64(c.cfg.QueueSize) && !wait {
		c.queued.Add(-n)
		c.m.queueDrops.Add(float64(b.datagrams))
		c.m.queueDropSessions.Add(float64(len(b.sessions)))
		return
	}
	queue <- b
}

// take returns an empty batch slice, reused when the writer has one.
func (c *Collector) take(free chan []schema.Session) []schema.Session {
	select {
	case s := <-free:
		return s
	default:
		return make([]schema.Session, 0, c.cfg.BatchSize+c.cfg.BatchSize/4)
	}
}

// write sends batches to the sink until the queue is closed. A batch the
// sink refuses is counted as lost: exporters do not resend.
func (c *Collector) write(ctx context.Context, queue <-chan batch, free chan<- []schema.Session) {
	for b := range queue {
		c.queued.Add(-int64(b.datagrams))
		if err := c.sink.WriteSessions(ctx, b.sessions); err != nil {
			c.m.sinkErrors.Inc()
			c.m.sinkDropSessions.Add(float64(len(b.sessions)))
		} else {
			c.m.written.Add(float64(len(b.sessions)))
		}
		clear(b.sessions) // let the strings and flows go
		select {
		case free <- b.sessions[:0]:
		default:
		}
	}
}
