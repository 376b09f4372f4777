package objects

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Handler reads one object. It returns nil only once everything it read
// from the object is accepted downstream: the object is then recorded as
// read and never handed over again. It may be called again for the same
// object after an error or a crash, so what it writes must be idempotent
// (records with ids derived from the object and their place in it).
// Up to Config.Concurrency calls run at once.
type Handler func(ctx context.Context, obj Object) error

// Object is one file or S3 object to read.
type Object struct {
	// Name identifies the object across runs: the absolute path of a
	// file, s3://bucket/key for S3. Use it as the records' source.
	Name    string
	Size    int64
	ModTime time.Time
	ETag    string // S3 only
	// Path is the file's path; "" for S3 objects.
	Path string

	src   opener
	bytes prometheus.Counter
}

// opener fetches an object's content from where it lives.
type opener interface {
	open(ctx context.Context, o Object) (io.ReadCloser, error)
	openFile(ctx context.Context, o Object) (*os.File, func() error, error)
}

// Open streams the object's content; the caller closes it.
func (o Object) Open(ctx context.Context) (io.ReadCloser, error) {
	rc, err := o.src.open(ctx, o)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, bytes: o.bytes}, nil
}

// OpenFile gives random access to the object, as Parquet needs: a local
// file is opened where it is; an S3 object is first downloaded whole into
// Config.TempDir and the copy is removed on Close. Parquet readers make
// many small reads (footer, then each column chunk), each of which would
// be a round trip as an S3 range request.
func (o Object) OpenFile(ctx context.Context) (*File, error) {
	f, cleanup, err := o.src.openFile(ctx, o)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		cleanup()
		return nil, err
	}
	return &File{f: f, size: fi.Size(), cleanup: cleanup, bytes: o.bytes}, nil
}

// File is an object opened for random access: an io.ReaderAt, io.Seeker
// and io.Reader whose reads are counted. It wraps rather than embeds the
// *os.File so that io.Copy cannot bypass the count through WriteTo.
type File struct {
	f       *os.File
	size    int64
	cleanup func() error
	bytes   prometheus.Counter
}

// Size is the content's length, as Parquet readers want it.
func (f *File) Size() int64 { return f.size }

func (f *File) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	f.bytes.Add(float64(n))
	return n, err
}

func (f *File) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.f.ReadAt(p, off)
	f.bytes.Add(float64(n))
	return n, err
}

func (f *File) Seek(offset int64, whence int) (int64, error) { return f.f.Seek(offset, whence) }

// Close closes the file and removes a downloaded copy.
func (f *File) Close() error {
	err := f.f.Close()
	if cerr := f.cleanup(); err == nil {
		err = cerr
	}
	return err
}

// countingReader adds what is read to the bytes-read counter.
type countingReader struct {
	io.ReadCloser
	bytes prometheus.Counter
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.bytes.Add(float64(n))
	return n, err
}
