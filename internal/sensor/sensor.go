// Package sensor wires a packet source to the decoder and the session
// meter and hands finished sessions to a pipeline.SessionSink. A source
// with one stream (a file) is decoded and metered on one goroutine with no
// locks; a source with several streams (UDP sockets) shards packets over
// meter tables by a symmetric flow hash so both directions of a flow meet
// in the same table whichever socket received them.
package sensor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/decode"
	"github.com/osprey-ndr/osprey/internal/meter"
	"github.com/osprey-ndr/osprey/internal/pipeline"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Config configures a Sensor.
type Config struct {
	Decode decode.Config
	Meter  meter.Config
	// Shards is the number of meter tables for multi-stream sources
	// (0 = GOMAXPROCS). Single-stream sources always use one.
	Shards int
	// BatchSize is how many sessions are handed to the sink at once.
	BatchSize int
	// Tick is how often live sources expire idle flows by wall-clock time.
	Tick time.Duration
	// Flush is how often a live sensor hands the sessions it holds to the
	// sink when the batch is not full (at most Tick). Finished sessions
	// should not wait for a full batch: detection is downstream, and the
	// store writer batches on its own.
	Flush time.Duration
	// Queue is how many batches a live sensor holds for the sink while
	// the sink is busy (0 = 64). A UDP or AF_PACKET source cannot be
	// paused: a sink that blocks for a moment (a store commit, a
	// queue's fsync) would otherwise stop the reads and make the kernel
	// drop packets. Only a full queue pushes back.
	Queue int
	// OnDecodeError sees every frame that did not decode, with the error
	// (the sensor counts them too); it must keep neither past the call.
	// Nil ignores them.
	OnDecodeError func(source string, f *capture.Frame, err error)
}

// DefaultConfig returns the defaults of every stage.
func DefaultConfig() Config {
	return Config{Decode: decode.DefaultConfig(), Meter: meter.DefaultConfig(), BatchSize: 1024, Tick: time.Second, Flush: 100 * time.Millisecond, Queue: 64}
}

// Sensor is one source → decode → meter → sink chain.
type Sensor struct {
	cfg    Config
	src    capture.Source
	sink   pipeline.SessionSink
	shards []*shard
	// per stream
	decoders []*decode.Decoder
	packets  []decode.Packet
	frames   []atomic.Uint64
	bytes    []atomic.Uint64
	live     bool

	decodeErrors atomic.Uint64
	sessions     atomic.Uint64

	// Live sensors hand batches to a writer goroutine through queue;
	// written batches come back through free for reuse.
	queue    chan []schema.Session
	free     chan []schema.Session
	writeErr atomic.Pointer[error] // the sink's first error, seen by the shards at their next flush
}

type shard struct {
	mu      sync.Mutex
	locked  bool
	table   *meter.Table
	batch   []schema.Session
	sinkErr error
}

// New builds a sensor; it does nothing until Run.
func New(cfg Config, src capture.Source, sink pipeline.SessionSink, live bool) (*Sensor, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1024
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Flush <= 0 || cfg.Flush > cfg.Tick {
		cfg.Flush = min(100*time.Millisecond, cfg.Tick)
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 64
	}
	streams := max(src.Streams(), 1)
	nshards := 1
	if streams > 1 {
		nshards = cfg.Shards
		if nshards <= 0 {
			nshards = runtime.GOMAXPROCS(0)
		}
	}
	if nshards > 1 {
		sink = pipeline.Locked(sink)
	}
	s := &Sensor{cfg: cfg, src: src, sink: sink, live: live,
		packets: make([]decode.Packet, streams), frames: make([]atomic.Uint64, streams), bytes: make([]atomic.Uint64, streams)}
	for range streams {
		s.decoders = append(s.decoders, decode.NewDecoder(cfg.Decode))
	}
	if live {
		s.queue, s.free = make(chan []schema.Session, cfg.Queue), make(chan []schema.Session, cfg.Queue)
	}
	for range nshards {
		sh := &shard{locked: streams > 1 || live, batch: make([]schema.Session, 0, cfg.BatchSize)}
		t, err := meter.New(cfg.Meter, sh.collect(s))
		if err != nil {
			return nil, fmt.Errorf("meter: %w", err)
		}
		sh.table = t
		s.shards = append(s.shards, sh)
	}
	return s, nil
}

// collect returns the meter's emitter for this shard: it copies each
// session into the batch and writes full batches to the sink. It runs
// with the shard held, so a slow sink pushes back on the source (a live
// one's once Queue batches wait).
func (sh *shard) collect(s *Sensor) meter.Emitter {
	return func(rec *schema.Session) {
		s.sessions.Add(1)
		sh.batch = append(sh.batch, *rec)
		if len(sh.batch) >= cap(sh.batch) {
			sh.flush(s)
		}
	}
}

func (sh *shard) flush(s *Sensor) {
	if s.queue != nil && sh.sinkErr == nil {
		if err := s.writeErr.Load(); err != nil {
			sh.sinkErr = *err
		}
	}
	if len(sh.batch) == 0 {
		return
	}
	if s.queue != nil {
		// The full batch goes to the writer; the shard goes on with a
		// written one (or a new one while all are in flight).
		s.queue <- sh.batch
		select {
		case sh.batch = <-s.free:
		default:
			sh.batch = make([]schema.Session, 0, s.cfg.BatchSize)
		}
		return
	}
	if err := s.sink.WriteSessions(context.Background(), sh.batch); err != nil && sh.sinkErr == nil {
		sh.sinkErr = err
	}
	clear(sh.batch)
	sh.batch = sh.batch[:0]
}

// write hands the queued batches to the sink, in order, until the queue
// closes; a live sensor's sink is called from here only.
func (s *Sensor) write() {
	for b := range s.queue {
		if err := s.sink.WriteSessions(context.Background(), b); err != nil {
			s.writeErr.CompareAndSwap(nil, &err)
		}
		clear(b)
		select {
		case s.free <- b[:0]:
		default:
		}
	}
}

// Run reads the source to its end (or until ctx is done), then ends every
// open flow and flushes the remaining sessions to the sink.
func (s *Sensor) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	done := make(chan struct{})
	written := make(chan struct{})
	if s.queue != nil {
		go func() { s.write(); close(written) }()
	}
	if s.live {
		g.Go(func() error { s.tick(gctx, done); return nil })
	}
	g.Go(func() error {
		defer close(done)
		err := s.src.Run(gctx, s.handle)
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = nil // a requested stop, not a failure
		}
		return err
	})
	runErr := g.Wait()
	reason := "eof"
	if s.live || ctx.Err() != nil { // stopped rather than at the end of the input
		reason = "shutdown"
	}
	var sinkErr error
	for _, sh := range s.shards {
		sh.table.Flush(reason)
		sh.flush(s)
		sinkErr = errors.Join(sinkErr, sh.sinkErr)
	}
	if s.queue != nil {
		close(s.queue)
		<-written
		if err := s.writeErr.Load(); err != nil && sinkErr == nil {
			sinkErr = *err
		}
	}
	return errors.Join(runErr, sinkErr)
}

func (s *Sensor) handle(stream int, f *capture.Frame) error {
	p := &s.packets[stream]
	s.frames[stream].Add(1)
	s.bytes[stream].Add(uint64(f.WireLen))
	var outer *decode.Tunnel
	var ob decode.Tunnel
	if f.LinkType == decode.LinkVXLANPayload || f.LinkType == decode.LinkGENEVEPayload {
		ob = decode.Tunnel{Src: f.OuterSrc.Addr(), Dst: f.OuterDst.Addr(),
			SrcPort: f.OuterSrc.Port(), DstPort: f.OuterDst.Port(), IPProto: 17}
		outer = &ob
	}
	if err := s.decoders[stream].Decode(f.Data, f.LinkType, outer, p); err != nil {
		s.decodeErrors.Add(1)
		if s.cfg.OnDecodeError != nil {
			s.cfg.OnDecodeError(s.src.Name(), f, err)
		}
	}
	p.Timestamp = f.Timestamp
	p.CaptureLen, p.WireLen = f.CaptureLen, f.WireLen
	if p.IPVersion == 0 && p.NumTunnels == 0 {
		return nil // nothing to meter (ARP, unknown ethertype, undecodable)
	}
	sh := s.shards[0]
	if len(s.shards) > 1 {
		sh = s.shards[meter.FlowHash(p)%uint64(len(s.shards))]
	}
	if !sh.locked {
		sh.table.Add(p)
		return sh.sinkErr
	}
	sh.mu.Lock()
	sh.table.Add(p)
	err := sh.sinkErr
	sh.mu.Unlock()
	return err
}

// tick, for live sources, flushes partial batches every Flush and
// expires idle flows by wall-clock time every Tick: the traffic may go
// quiet for longer than any timeout.
func (s *Sensor) tick(ctx context.Context, done <-chan struct{}) {
	t := time.NewTicker(s.cfg.Flush)
	defer t.Stop()
	next := time.Now().Add(s.cfg.Tick)
	for {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case now := <-t.C:
			expire := !now.Before(next)
			if expire {
				next = now.Add(s.cfg.Tick)
			}
			for _, sh := range s.shards {
				sh.mu.Lock()
				if expire {
					sh.table.Advance(now)
				}
				sh.flush(s)
				sh.mu.Unlock()
			}
		}
	}
}
