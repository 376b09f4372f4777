package capture

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
)

// FileOptions configures a FileSource.
type FileOptions struct {
	// Stdin is read for the path "-" (os.Stdin when nil).
	Stdin io.Reader
	// OnError sees every error in the input (a corrupt record, a file that
	// is not a capture); reading goes on after each. Nil drops them (they
	// are still counted).
	OnError func(error)
}

// FileStats counts what a FileSource read.
type FileStats struct {
	Files, Frames, Bytes uint64
	Errors               uint64 // corrupt records, truncated files, non-capture files
	SkippedBytes         uint64 // bytes passed over while resynchronising
}

// FileSource reads pcap and pcapng files, plain or gzip (detected by the
// magic number, not the name), directories (recursively, in name order)
// and stdin ("-"). One stream. Byte offsets in errors count from the start
// of the capture data: after decompression, for a gzip file.
//
// The readers are written by hand: gopacket's pcapgo readers allocate per
// packet in ReadPacketData, report no byte offsets, and cannot go on after
// a corrupt record, and a capture cut short or damaged in the middle must
// still yield everything else it holds.
type FileSource struct {
	paths     []string
	opts      FileOptions
	stats     FileStats
	bytesRead atomic.Int64
}

// NewFileSource reads paths in order when Run is called.
func NewFileSource(paths []string, opts FileOptions) *FileSource {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	return &FileSource{paths: paths, opts: opts}
}

// Name implements Source.
func (s *FileSource) Name() string {
	if len(s.paths) == 1 {
		return s.paths[0]
	}
	return fmt.Sprintf("%d paths", len(s.paths))
}

// Streams implements Source: files are read in order on one stream.
func (s *FileSource) Streams() int { return 1 }

// Stats returns the counters; read them after Run returns.
func (s *FileSource) Stats() FileStats { return s.stats }

// BytesRead is how many input bytes (compressed, for gzip) have been
// consumed so far; safe to call while Run runs, for progress bars.
func (s *FileSource) BytesRead() int64 { return s.bytesRead.Load() }

func (s *FileSource) report(err error) {
	s.stats.Errors++
	if s.opts.OnError != nil {
		s.opts.OnError(err)
	}
}

// Run implements Source. Files that cannot be opened are reported and
// skipped; Run then returns an error naming them after reading the rest.
func (s *FileSource) Run(ctx context.Context, h Handler) error {
	var openErrs []error
	for _, p := range s.paths {
		files, errs := expand(p)
		openErrs = append(openErrs, errs...)
		for _, name := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := s.readPath(ctx, name, h)
			var he handlerError
			switch {
			case errors.As(err, &he):
				return he.err
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				return err
			case err != nil:
				openErrs = append(openErrs, err)
			}
		}
	}
	return errors.Join(openErrs...)
}

// handlerError carries an error returned by the Handler, which stops Run.
type handlerError struct{ err error }

func (e handlerError) Error() string { return e.err.Error() }

// expand lists the files of p: p itself, or the regular files under a
// directory (symbolic links to files included) in name order. Parts of a
// directory that cannot be read are errors; the rest is still listed.
func expand(p string) ([]string, []error) {
	if p == "-" {
		return []string{p}, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, []error{err}
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	var errs []error
	_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			errs = append(errs, err)
		case d.Type().IsRegular():
			files = append(files, path)
		case d.Type()&fs.ModeSymlink != 0:
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				files = append(files, path)
			}
		}
		return nil
	})
	sort.Strings(files)
	return files, errs
}

// countingReader counts bytes for BytesRead.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (s *FileSource) readPath(ctx context.Context, name string, h Handler) error {
	var in io.Reader
	if name == "-" {
		in, name = s.opts.Stdin, "stdin"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	s.stats.Files++
	// The readers buffer on their own; this small buffer is for the gzip
	// magic and for the decompressor, which wants an io.ByteReader.
	br := bufio.NewReaderSize(countingReader{in, &s.bytesRead}, 64<<10)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			s.report(fmt.Errorf("%s: offset 0: gzip header: %w", name, err))
			return nil
		}
		defer zr.Close()
		src = zr
	}
	r, err := newReader(name, src, s.report)
	if err != nil {
		s.report(err)
		return nil
	}
	var f Frame
	for n := 0; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		err := r.next(&f)
		if err == io.EOF {
			s.stats.SkippedBytes += r.skipped()
			return nil
		}
		if err != nil { // unreadable remainder (e.g. a broken gzip stream)
			s.stats.SkippedBytes += r.skipped()
			s.report(err)
			return nil
		}
		s.stats.Frames++
		s.stats.Bytes += uint64(f.CaptureLen)
		if err := h(0, &f); err != nil {
			return handlerError{err}
		}
	}
}
