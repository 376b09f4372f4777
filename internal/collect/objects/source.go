package objects

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Deps are what a Source needs from its caller.
type Deps struct {
	// Log receives listing trouble and, without OnError, the objects
	// given up; nil discards.
	Log *slog.Logger
	// Metrics registers the osprey_collect_objects_* metrics; nil skips.
	Metrics prometheus.Registerer
	// OnError is told of each object given up after its retries (the
	// error is an *ObjectError). It is called from the reading goroutines.
	OnError func(Object, error)
}

// ObjectError is an object given up after its retries.
type ObjectError struct {
	Name     string
	Attempts int
	Err      error
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("%s: given up after %d attempts: %v", e.Name, e.Attempts, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// Source finds objects and hands each to the handler until it is read.
type Source struct {
	cfg     Config
	handler Handler
	log     *slog.Logger
	onError func(Object, error)
	streams []stream
}

// stream is one place objects come from: the paths, or one S3 prefix.
type stream interface {
	// list finds objects and submits them through r until it is done (one
	// pass unless r.follow) or ctx ends; it returns only fatal errors.
	list(ctx context.Context, r *run) error
	// oldest is the modification time of the oldest object found but not
	// read yet; zero when none waits.
	oldest() time.Time
}

// New checks cfg and prepares the sources; it reads and lists nothing.
func New(cfg Config, handler Handler, deps Deps) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if handler == nil {
		return nil, errors.New("objects: nil handler")
	}
	s := &Source{cfg: cfg, handler: handler, log: deps.Log, onError: deps.OnError}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	vecs := newMetricVecs()
	var gauges []prometheus.Collector
	if len(cfg.Paths) > 0 {
		fs, err := newFileSet(cfg, vecs.of(filesSource), s.log)
		if err != nil {
			return nil, err
		}
		s.streams = append(s.streams, fs)
		gauges = append(gauges, lagGauge(filesSource, fs.oldest))
	}
	for i, c := range cfg.S3 {
		p, err := newS3Prefix(cfg, c, vecs.of(c.id()), s.log)
		if err != nil {
			return nil, fmt.Errorf("s3[%d]: %w", i, err)
		}
		s.streams = append(s.streams, p)
		gauges = append(gauges, lagGauge(c.id(), p.oldest))
	}
	if deps.Metrics != nil {
		if err := vecs.register(deps.Metrics); err != nil {
			return nil, err
		}
		for _, g := range gauges {
			if err := deps.Metrics.Register(g); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Run reads the objects there are and, with Config.Follow, keeps
// following the paths and polling S3 until ctx ends; it then returns nil.
// Without Follow it is Once. It returns early only when the checkpoint
// cannot be read or written. Objects being read when ctx ends are left
// unrecorded, to be read again by the next run. Run and Once must not
// overlap.
func (s *Source) Run(ctx context.Context) error {
	return s.run(ctx, s.cfg.Follow)
}

// Once lists every source once, reads what is not read yet and returns:
// an error if a listing failed or an object was given up (each one also
// went to Deps.OnError), ctx's error if it ended first.
func (s *Source) Once(ctx context.Context) error {
	return s.run(ctx, false)
}

// run is one Run or Once: the checkpoint, the queue the streams submit
// to and the workers read from, and the tally Once reports.
type run struct {
	cp     *checkpoint
	follow bool
	jobs   chan job

	mu       sync.Mutex
	listErrs []error
	given    int // objects given up
}

// job is an object to read and how its stream records the outcome: err is
// nil (read) or an *ObjectError (given up). An error from settle is a
// failed checkpoint write and stops the run.
type job struct {
	obj    Object
	m      metrics
	settle func(err error) error
}

// submit queues j, blocking while every worker is busy so that listing
// goes no faster than reading; false when ctx ended first.
func (r *run) submit(ctx context.Context, j job) bool {
	select {
	case r.jobs <- j:
		j.m.listed.Inc()
		return true
	case <-ctx.Done():
		return false
	}
}

// listFailed records a failed listing for Once's error.
func (r *run) listFailed(source string, err error) {
	if r.follow {
		return
	}
	r.mu.Lock()
	r.listErrs = append(r.listErrs, fmt.Errorf("%s: %w", source, err))
	r.mu.Unlock()
}

func (s *Source) run(ctx context.Context, follow bool) error {
	cp, err := loadCheckpoint(s.cfg.Checkpoint)
	if err != nil {
		return err
	}
	// Saved at once so that an unwritable place fails the start rather
	// than the first object read.
	if err := cp.update(func() bool { return true }); err != nil {
		return err
	}
	r := &run{cp: cp, follow: follow, jobs: make(chan job)}
	g, gctx := errgroup.WithContext(ctx)
	var listers errgroup.Group
	for _, st := range s.streams {
		listers.Go(func() error { return st.list(gctx, r) })
	}
	g.Go(func() error {
		defer close(r.jobs)
		return listers.Wait()
	})
	for range s.cfg.Concurrency {
		g.Go(func() error { return s.work(gctx, r) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if follow {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	errs := r.listErrs
	if r.given > 0 {
		errs = append(errs, fmt.Errorf("objects: %d given up", r.given))
	}
	return errors.Join(errs...)
}

// work reads queued objects until the queue closes. An object whose
// handler is stopped by ctx is left unrecorded, to be read again.
func (s *Source) work(ctx context.Context, r *run) error {
	for j := range r.jobs {
		err := s.read(ctx, j)
		if err != nil && ctx.Err() != nil {
			continue
		}
		if err != nil {
			j.m.failed.Inc()
			r.mu.Lock()
			r.given++
			r.mu.Unlock()
			if s.onError != nil {
				s.onError(j.obj, err)
			} else {
				s.log.Error("object given up; it is read again on the next run", "err", err)
			}
		}
		if serr := j.settle(err); serr != nil {
			return serr
		}
		if err == nil {
			j.m.read.Inc()
		}
	}
	return nil
}

// read calls the handler until it succeeds or the retries are spent.
func (s *Source) read(ctx context.Context, j job) error {
	wait := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := s.call(ctx, j.obj)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || attempt > s.cfg.Retries {
			return &ObjectError{Name: j.obj.Name, Attempts: attempt, Err: err}
		}
		j.m.retries.Inc()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &ObjectError{Name: j.obj.Name, Attempts: attempt, Err: err}
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// call runs the handler, turning a panic into an error so one bad object
// does not bring the collector down.
func (s *Source) call(ctx context.Context, obj Object) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("handler panic: %v\n%s", p, debug.Stack())
		}
	}()
	return s.handler(ctx, obj)
}

// listHealth logs the first failure of a streak and the recovery, so a
// source that stays down does not flood the log; each failure is counted.
type listHealth struct {
	failing bool
}

func (h *listHealth) report(log *slog.Logger, m metrics, source string, err error) {
	if err == nil {
		if h.failing {
			log.Info("object listing works again", "source", source)
		}
		h.failing = false
		return
	}
	m.listErrors.Inc()
	if !h.failing {
		log.Warn("object listing failed; retried at each poll", "source", source, "err", err)
	}
	h.failing = true
}
