package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// checkpoint remembers which objects were read. Every change rewrites the
// whole file through a temporary one (written, fsync'd, renamed over the
// old, directory fsync'd), so a crash leaves the old or the new version,
// never a torn one. It is small: S3 keeps a position per prefix plus the
// keys read above it, files one entry per file still on disk.
type checkpoint struct {
	path string // "" keeps the state in memory only

	mu    sync.Mutex
	s3    map[string]*prefixState // by S3Config.id()
	files map[string]stamp        // by absolute path
}

// prefixState is one bucket and prefix: every key ≤ after was read or
// given up; done holds keys above after that were read (out of order, or
// still inside the reorder window); failed holds keys given up, on either
// side of after, to try again on the next run.
type prefixState struct {
	after  string
	done   map[string]bool
	failed map[string]bool
}

// stamp tells a file's versions apart: a file read at one stamp is read
// again if it changes.
type stamp struct {
	Size  int64 `json:"size"`
	MTime int64 `json:"mtime_ns"`
}

const checkpointVersion = 1

type checkpointFile struct {
	Version int                   `json:"version"`
	S3      map[string]prefixFile `json:"s3,omitempty"`
	Files   map[string]stamp      `json:"files,omitempty"`
}

type prefixFile struct {
	After  string   `json:"after,omitempty"`
	Done   []string `json:"done,omitempty"`
	Failed []string `json:"failed,omitempty"`
}

// loadCheckpoint reads path; a missing file is an empty checkpoint, a
// corrupt one an error (starting over would read everything again).
func loadCheckpoint(path string) (*checkpoint, error) {
	c := &checkpoint{path: path, s3: map[string]*prefixState{}, files: map[string]stamp{}}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var f checkpointFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if f.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s: version %d, want %d", path, f.Version, checkpointVersion)
	}
	for id, p := range f.S3 {
		st := c.prefix(id)
		st.after = p.After
		for _, k := range p.Done {
			st.done[k] = true
		}
		for _, k := range p.Failed {
			st.failed[k] = true
		}
	}
	for p, s := range f.Files {
		c.files[p] = s
	}
	return c, nil
}

// prefix returns the state of an S3 prefix, creating it; c.mu is held or
// c is not shared yet.
func (c *checkpoint) prefix(id string) *prefixState {
	st := c.s3[id]
	if st == nil {
		st = &prefixState{done: map[string]bool{}, failed: map[string]bool{}}
		c.s3[id] = st
	}
	return st
}

// update runs fn on the state under the lock and saves the result if fn
// says it changed anything.
func (c *checkpoint) update(fn func() bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !fn() {
		return nil
	}
	return c.save()
}

// view runs fn on the state under the lock.
func (c *checkpoint) view(fn func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn()
}

func (c *checkpoint) save() error {
	if c.path == "" {
		return nil
	}
	f := checkpointFile{Version: checkpointVersion, S3: map[string]prefixFile{}, Files: c.files}
	for id, st := range c.s3 {
		f.S3[id] = prefixFile{After: st.after, Done: sortedKeys(st.done), Failed: sortedKeys(st.failed)}
	}
	data, err := json.MarshalIndent(f, "", " ")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeFileSync(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeFileSync replaces path with data durably. The temporary file has
// a fixed name: there is one writer, and a crash leaves no litter beyond it.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	// The rename is durable only once the directory is.
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
