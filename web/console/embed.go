// Package console serves Osprey's web console (docs/console.md): the
// single-page app that `make console` builds from this folder with Vite
// into dist/app, embedded in the binary. A binary built without it (a
// clean clone, go test) serves placeholder.html instead, so that building
// Go never needs npm.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

//go:embed placeholder.html
var placeholder []byte

// file is one asset, ready to serve: its type, its ETag and, when it
// compresses, its gzip encoding.
type file struct {
	name  string
	body  []byte
	gz    []byte
	ctype string
	etag  string
}

// Handler serves the console: files of the build as they are, and
// index.html for every other path, so that the app's own routes
// (/findings, /devices/…) load on a reload or from a link.
type Handler struct {
	files map[string]*file
	index *file
	built bool
}

var (
	once sync.Once
	std  *Handler
)

// Default is the handler of the embedded build, made once.
func Default() *Handler {
	once.Do(func() { std = New(dist, "dist/app") })
	return std
}

// New serves the build in dir of fsys; without an index.html there, the
// placeholder page.
func New(fsys fs.FS, dir string) *Handler {
	h := &Handler{files: map[string]*file{}}
	sub, err := fs.Sub(fsys, dir)
	if err == nil {
		_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			body, err := fs.ReadFile(sub, p)
			if err != nil {
				return nil
			}
			h.files["/"+p] = newFile(p, body)
			return nil
		})
	}
	if f, ok := h.files["/index.html"]; ok {
		h.index, h.built = f, true
	} else {
		h.index = newFile("index.html", placeholder)
	}
	return h
}

func newFile(name string, body []byte) *file {
	sum := sha256.Sum256(body)
	f := &file{name: name, body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	f.ctype = mime.TypeByExtension(path.Ext(name))
	if f.ctype == "" {
		f.ctype = http.DetectContentType(body)
	}
	if compressible(f.ctype) && len(body) > 1024 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if b.Len() < len(body)*9/10 {
			f.gz = b.Bytes()
		}
	}
	return f
}

func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

// Built says whether the binary embeds a built console (not the
// placeholder).
func (h *Handler) Built() bool { return h.built }

// ServeHTTP answers GET and HEAD; the caller routes the API before it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	f, ok := h.files[p]
	hdr := w.Header()
	switch {
	case ok && strings.HasPrefix(p, "/assets/"):
		// Vite names built assets by a hash of their content.
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	case ok && p != "/index.html":
		hdr.Set("Cache-Control", "public, max-age=3600")
	case !ok && (strings.HasPrefix(p, "/assets/") || path.Ext(p) != "" && !strings.Contains(path.Base(p), ":")):
		// A missing file is a 404, not the app: a stale page must not
		// get HTML for its script.
		http.Error(w, "not found", http.StatusNotFound)
		return
	default:
		f = h.index
		hdr.Set("Cache-Control", "no-cache")
	}
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if f == h.index {
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "+
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hdr.Set("Content-Encoding", "gzip")
			body, etag = f.gz, strings.TrimSuffix(etag, `"`)+`-gz"`
		}
	}
	hdr.Set("ETag", etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	if r.Header.Get("Range") != "" {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
