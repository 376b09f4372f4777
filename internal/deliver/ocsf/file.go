package ocsf

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// fileSink appends JSON lines to files and rotates them. It is written
// here rather than with lumberjack, the usual rotating writer, because
// lumberjack cannot fsync (its file is not exposed), counts sizes in
// whole megabytes and compresses in a goroutine of its own that Close
// does not wait for.
type fileSink struct {
	cfg   FileConfig
	now   func() time.Time
	mu    sync.Mutex // files, and each file's state: Send and the age timers
	files map[string]*rotFile
	buf   []byte
	// rotated and pruned count files rotated and rotated files removed
	// past max_files (deliver.Counter); read without s.mu by a scrape.
	rotated, pruned atomic.Uint64
}

// rotFile is one file being written.
type rotFile struct {
	path   string
	f      *os.File
	size   int64
	opened time.Time
	timer  *time.Timer // rotates an idle file at max_age
}

func newFileSink(c FileConfig) *fileSink {
	return &fileSink{cfg: c, now: time.Now, files: map[string]*rotFile{}}
}

func (s *fileSink) group(r *deliver.Record) string {
	return strings.ReplaceAll(s.cfg.Path, "{class}", className(r.Kind))
}

// write appends the records as lines, rotating first when they would
// pass max_bytes or the file is older than max_age, and fsyncs. A
// failed write is truncated away, so that the file never holds part of
// a batch; file errors are outages (a full disk empties), never the
// records' fault.
func (s *fileSink) write(_ context.Context, path string, recs []*deliver.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for _, r := range recs {
		s.buf = append(s.buf, r.Data...)
		s.buf = append(s.buf, '\n')
	}
	rf, err := s.open(path)
	if err != nil {
		return deliver.Unavailable(err)
	}
	old := s.cfg.MaxAge > 0 && s.now().Sub(rf.opened) >= s.cfg.MaxAge
	if rf.size > 0 && (rf.size+int64(len(s.buf)) > int64(s.cfg.MaxBytes) || old) {
		if err := s.rotate(rf); err != nil {
			return deliver.Unavailable(err)
		}
		if rf, err = s.open(path); err != nil {
			return deliver.Unavailable(err)
		}
	}
	_, err = rf.f.Write(s.buf)
	if err == nil {
		err = rf.f.Sync()
	}
	if err != nil {
		if terr := rf.f.Truncate(rf.size); terr != nil {
			// The file may now hold a partial line: start a new one.
			s.drop(rf)
			err = errors.Join(err, terr)
		}
		return deliver.Unavailable(fmt.Errorf("file %s: %w", path, err))
	}
	rf.size += int64(len(s.buf))
	return nil
}

// open returns the file being written at path, opening (or creating)
// it; s.mu is held.
func (s *fileSink) open(path string) (*rotFile, error) {
	if rf := s.files[path]; rf != nil {
		return rf, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	rf := &rotFile{path: path, f: f, size: st.Size(), opened: s.now()}
	if s.cfg.MaxAge > 0 {
		rf.timer = time.AfterFunc(s.cfg.MaxAge, func() { s.expire(rf) })
	}
	s.files[path] = rf
	return rf, nil
}

// expire rotates a file that reached max_age without a write to do it;
// an empty one just starts its age again. An error here is met again,
// and returned, by the next write.
func (s *fileSink) expire(rf *rotFile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files[rf.path] != rf {
		return // rotated or closed meanwhile
	}
	if rf.size == 0 {
		rf.opened = s.now()
		rf.timer.Reset(s.cfg.MaxAge)
		return
	}
	s.rotate(rf) //nolint:errcheck // see above
}

// drop closes a file and forgets it; s.mu is held.
func (s *fileSink) drop(rf *rotFile) error {
	if rf.timer != nil {
		rf.timer.Stop()
	}
	delete(s.files, rf.path)
	return rf.f.Close()
}

// rotate closes the file, renames it with the time it was opened,
// compresses it when asked and removes the oldest rotated files past
// max_files; s.mu is held.
func (s *fileSink) rotate(rf *rotFile) error {
	if err := s.drop(rf); err != nil {
		return fmt.Errorf("file %s: %w", rf.path, err)
	}
	name, err := rotatedName(rf.path, rf.opened)
	if err != nil {
		return err
	}
	if err := os.Rename(rf.path, name); err != nil {
		return fmt.Errorf("rotate %s: %w", rf.path, err)
	}
	s.rotated.Add(1)
	if s.cfg.Gzip {
		if err := gzipFile(name); err != nil {
			return fmt.Errorf("rotate %s: %w", rf.path, err)
		}
	}
	if s.cfg.MaxFiles > 0 {
		n, err := prune(rf.path, s.cfg.MaxFiles)
		s.pruned.Add(uint64(n))
		return err
	}
	return nil
}

func (s *fileSink) counts() map[string]uint64 {
	return map[string]uint64{"rotated": s.rotated.Load(), "pruned": s.pruned.Load()}
}

const stampLayout = "20060102T150405.000Z"

// rotatedName is path with the time inserted before its extension
// (ocsf.jsonl → ocsf-20260301T120000.000Z.jsonl), with a counter when
// that name is taken (by itself or compressed).
func rotatedName(path string, t time.Time) (string, error) {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext) + "-" + t.UTC().Format(stampLayout)
	for i := 0; i < 1000; i++ {
		name := base + ext
		if i > 0 {
			name = fmt.Sprintf("%s-%d%s", base, i, ext)
		}
		_, err1 := os.Lstat(name)
		_, err2 := os.Lstat(name + ".gz")
		if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) {
			return name, nil
		}
	}
	return "", fmt.Errorf("rotate %s: no free name like %s%s", path, base, ext)
}

// rotatedPattern matches the rotated files of path.
func rotatedPattern(path string) *regexp.Regexp {
	ext := filepath.Ext(path)
	base := filepath.Base(strings.TrimSuffix(path, ext))
	return regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `-\d{8}T\d{6}\.\d{3}Z(-\d+)?` + regexp.QuoteMeta(ext) + `(\.gz)?$`)
}

// prune removes the oldest rotated files of path beyond keep (their
// names sort by time) and says how many it removed.
func prune(path string, keep int) (int, error) {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	re := rotatedPattern(path)
	var names []string
	for _, e := range ents {
		if !e.IsDir() && re.MatchString(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var errs []error
	removed := 0
	for ; len(names) > keep; names = names[1:] {
		if err := os.Remove(filepath.Join(dir, names[0])); err != nil {
			errs = append(errs, err)
		} else {
			removed++
		}
	}
	return removed, errors.Join(errs...)
}

// gzipFile replaces name by name.gz, written whole and synced before
// the original goes.
func gzipFile(name string) error {
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := name + ".gz.tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name+".gz")
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Remove(name)
}

// close closes the files; the one being written stays for the next
// start to append to.
func (s *fileSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, rf := range s.files {
		errs = append(errs, s.drop(rf))
	}
	return errors.Join(errs...)
}
