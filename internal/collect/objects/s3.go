package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/osprey-ndr/osprey/internal/awss3"
)

// s3Prefix is one bucket and prefix. Each poll lists the keys above the
// checkpoint's position (StartAfter) in key order and submits those not
// read yet; the position then moves over keys read in order. S3 lists
// keys in lexical order but they do not appear in it: AWS delivers flow
// logs of several log groups and accounts into one prefix, each a few
// minutes late. The position therefore passes a key only once the key
// was modified ReorderWindow before a complete listing started, which
// makes sure that listing saw every key below it that had appeared by
// then. Keys read above the position stay in the checkpoint's done set.
type s3Prefix struct {
	cfg             S3Config
	id              string
	client          *s3.Client
	tempDir         string
	reorder, poll   time.Duration
	m               metrics
	log             *slog.Logger
	health          listHealth
	mu              sync.Mutex
	window          []entry // keys above the position listed in this run, in order
	listing         bool    // a listing is under way and has reached listedTo
	listStart       time.Time
	listedTo        string
	lastListStarted time.Time // of the last complete listing
}

type entry struct {
	key      string
	modified time.Time
	state    entryState
}

type entryState uint8

const (
	queued entryState = iota // submitted, not settled
	read
	givenUp
)

func newS3Prefix(cfg Config, c S3Config, m metrics, log *slog.Logger) (*s3Prefix, error) {
	client, err := awss3.New(awss3.Options{Region: c.Region, Profile: c.Profile, AccessKey: c.AccessKey, SecretKey: c.SecretKey,
		SessionToken: c.SessionToken, Endpoint: c.Endpoint, PathStyle: c.PathStyle}, func(o *s3.Options) {
		// Else the SDK prints a line to stderr for each object stored
		// without a checksum (older objects, most S3-compatible stores).
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if err != nil {
		return nil, err
	}

	return &s3Prefix{cfg: c, id: c.id(), client: client, tempDir: cfg.TempDir, reorder: cfg.ReorderWindow,
		poll: cfg.Poll, m: m, log: log}, nil
}

func (p *s3Prefix) list(ctx context.Context, r *run) error {
	p.mu.Lock()
	p.window, p.listing, p.lastListStarted = nil, false, time.Time{}
	p.mu.Unlock()
	if err := p.retryGivenUp(ctx, r); err != nil {
		return err
	}
	for {
		if err := p.listOnce(ctx, r); err != nil {
			return err
		}
		if !r.follow {
			return nil
		}
		t := time.NewTimer(p.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// listOnce lists the keys above the position, page by page, and submits
// the new ones; it returns only a failed checkpoint write.
func (p *s3Prefix) listOnce(ctx context.Context, r *run) error {
	var after string
	r.cp.view(func() { after = r.cp.prefix(p.id).after })
	in := &s3.ListObjectsV2Input{Bucket: aws.String(p.cfg.Bucket)}
	if p.cfg.Prefix != "" {
		in.Prefix = aws.String(p.cfg.Prefix)
	}
	if after != "" {
		in.StartAfter = aws.String(after)
	}
	if p.cfg.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(p.cfg.MaxKeys)
	}
	p.mu.Lock()
	p.listing, p.listStart, p.listedTo = true, time.Now(), ""
	p.mu.Unlock()
	pages := s3.NewListObjectsV2Paginator(p.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.mu.Lock()
			p.listing = false
			p.mu.Unlock()
			p.health.report(p.log, p.m, p.id, err)
			r.listFailed(p.id, err)
			return nil
		}
		for _, obj := range p.add(r.cp, page.Contents) {
			if !r.submit(ctx, p.job(r, obj)) {
				return nil
			}
		}
	}
	p.health.report(p.log, p.m, p.id, nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.listing, p.lastListStarted = false, p.listStart
	return p.fold(r.cp, "", nil)
}

// add puts a page's keys into the window and returns the objects to read:
// those neither read nor already in the window.
func (p *s3Prefix) add(cp *checkpoint, page []types.Object) []Object {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Object
	for _, o := range page {
		key := aws.ToString(o.Key)
		if strings.HasSuffix(key, "/") && aws.ToInt64(o.Size) == 0 {
			continue // a console-made "folder"
		}
		i, found := slices.BinarySearchFunc(p.window, key, func(e entry, k string) int { return strings.Compare(e.key, k) })
		if found {
			continue
		}
		var done bool
		cp.view(func() { done = cp.prefix(p.id).done[key] })
		e := entry{key: key, modified: aws.ToTime(o.LastModified)}
		if done {
			e.state = read
		} else {
			out = append(out, p.object(key, aws.ToInt64(o.Size), e.modified, aws.ToString(o.ETag)))
		}
		p.window = slices.Insert(p.window, i, e)
	}
	if n := len(page); n > 0 {
		p.listedTo = aws.ToString(page[n-1].Key)
	}
	return out
}

func (p *s3Prefix) object(key string, size int64, modified time.Time, etag string) Object {
	return Object{Name: "s3://" + p.cfg.Bucket + "/" + key, Size: size, ModTime: modified,
		ETag: strings.Trim(etag, `"`), src: s3Object{p, key}, bytes: p.m.bytes}
}

// job records a key's outcome in the window and the checkpoint.
func (p *s3Prefix) job(r *run, obj Object) job {
	key := obj.src.(s3Object).key
	return job{obj: obj, m: p.m, settle: func(err error) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		state := read
		if err != nil {
			state = givenUp
		}
		if i, ok := slices.BinarySearchFunc(p.window, key, func(e entry, k string) int { return strings.Compare(e.key, k) }); ok {
			p.window[i].state = state
		}
		return p.fold(r.cp, key, err)
	}}
}

// fold records key's outcome (if key is not "") and moves the position
// over the settled keys at the head of the window that are older than
// the reorder window allows; p.mu is held.
func (p *s3Prefix) fold(cp *checkpoint, key string, err error) error {
	n := 0
	for n < len(p.window) && p.window[n].state != queued && p.passable(p.window[n]) {
		n++
	}
	return cp.update(func() bool {
		st := cp.prefix(p.id)
		changed := false
		if key != "" {
			if err == nil {
				delete(st.failed, key)
				if key > st.after { // a retried key below the position needs no entry
					st.done[key] = true
				}
			} else {
				st.failed[key] = true
			}
			changed = true
		}
		if n > 0 {
			st.after = p.window[n-1].key
			p.window = slices.Delete(p.window, 0, n)
			for k := range st.done {
				if k <= st.after {
					delete(st.done, k)
				}
			}
			changed = true
		}
		return changed
	})
}

// passable reports whether every key below e that will ever be listed
// has been: e was modified a reorder window before a complete listing
// that reached it started.
func (p *s3Prefix) passable(e entry) bool {
	start := p.lastListStarted
	if p.listing && e.key <= p.listedTo {
		start = p.listStart
	}
	return !start.IsZero() && !e.modified.After(start.Add(-p.reorder))
}

// retryGivenUp submits again the keys given up in an earlier run that the
// position has passed; those above it are listed again anyway.
func (p *s3Prefix) retryGivenUp(ctx context.Context, r *run) error {
	var keys []string
	r.cp.view(func() {
		st := r.cp.prefix(p.id)
		for k := range st.failed {
			if k <= st.after {
				keys = append(keys, k)
			}
		}
	})
	slices.Sort(keys)
	for _, key := range keys {
		head, err := p.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(p.cfg.Bucket), Key: aws.String(key)})
		var missing *types.NotFound
		if errors.As(err, &missing) {
			p.log.Warn("object given up earlier is gone; forgotten", "object", "s3://"+p.cfg.Bucket+"/"+key)
			if err := r.cp.update(func() bool { delete(r.cp.prefix(p.id).failed, key); return true }); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.health.report(p.log, p.m, p.id, err)
			r.listFailed(p.id, err)
			continue
		}
		obj := p.object(key, aws.ToInt64(head.ContentLength), aws.ToTime(head.LastModified), aws.ToString(head.ETag))
		if !r.submit(ctx, p.job(r, obj)) {
			return nil
		}
	}
	return nil
}

func (p *s3Prefix) oldest() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var t time.Time
	for _, e := range p.window {
		if e.state == queued && (t.IsZero() || e.modified.Before(t)) {
			t = e.modified
		}
	}
	return t
}

// s3Object fetches one key.
type s3Object struct {
	p   *s3Prefix
	key string
}

func (o s3Object) open(ctx context.Context, _ Object) (io.ReadCloser, error) {
	out, err := o.p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.p.cfg.Bucket), Key: aws.String(o.key)})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

func (o s3Object) openFile(ctx context.Context, obj Object) (*os.File, func() error, error) {
	body, err := o.open(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	f, err := os.CreateTemp(o.p.tempDir, "osprey-object-*")
	if err != nil {
		return nil, nil, err
	}
	remove := func() error { return os.Remove(f.Name()) }
	if _, err = io.Copy(f, body); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		remove()
		return nil, nil, fmt.Errorf("download %s: %w", obj.Name, err)
	}
	return f, remove, nil
}
