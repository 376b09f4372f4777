package intel

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FeedConfig names a feed file and how to read it.
type FeedConfig struct {
	Name   string // recorded on every hit
	Path   string
	Format string // "plain", "csv", "stix"; "" decides from the extension, then the content
	Column string // CSV: header name or 1-based index of the indicator column; "" finds it
}

// Feed is one loaded feed. It is immutable, so any number of goroutines may
// look up in it while a newer version is being loaded.
type Feed struct {
	name    string
	text    string   // indicators as written, back to back
	offsets []uint32 // indicator i is text[offsets[i]:offsets[i+1]]

	// Distinct indicators by the key they match on, in no order; a Set
	// indexes them. Addresses are fixed-size arrays so that a million
	// entries hold no pointer for the collector to follow (netip.Addr
	// holds one).
	v4       []entry[[4]byte]
	v6       []entry[[16]byte]
	prefixes []entry[netip.Prefix] // masked
	domains  []entry[string]       // lowercase name, a substring of text or of the keys built

	rejected int
	errs     []error
	skipped  SkipCounts
}

// entry is an indicator under the key it matches on.
type entry[K any] struct {
	key K
	ind uint32 // the indicator as written is Feed.indicator(ind)
}

// SkipCounts counts STIX indicators left out on purpose, by reason. They
// are well formed, so they are not rejections.
type SkipCounts struct {
	Revoked     int // "revoked": true
	Expired     int // valid_until not after the time of loading
	PatternType int // pattern_type other than "stix" (snort, yara, sigma, …)
	Unsupported int // a pattern beyond the subset described in the package doc
}

// Name is the name hits carry.
func (f *Feed) Name() string { return f.name }

// Len is the number of distinct indicators kept.
func (f *Feed) Len() int { return len(f.v4) + len(f.v6) + len(f.prefixes) + len(f.domains) }

// Rejected is the number of records set aside as malformed and the errors
// of the first few, each naming the file, the line or STIX object, and the
// field.
func (f *Feed) Rejected() (count int, first []error) { return f.rejected, f.errs }

// Skipped counts the STIX indicators left out on purpose.
func (f *Feed) Skipped() SkipCounts { return f.skipped }

func (f *Feed) indicator(i uint32) string { return f.text[f.offsets[i]:f.offsets[i+1]] }

// LoadFeed reads a feed file. A file that cannot be read, or in which no
// record is valid, is an error, and the caller keeps the version it has.
// Bad records in an otherwise good file are set aside and counted.
func LoadFeed(cfg FeedConfig) (*Feed, error) {
	return loadFeed(cfg, time.Now())
}

func loadFeed(cfg FeedConfig, now time.Time) (*Feed, error) {
	data, err := os.ReadFile(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("intel feed %q: %w", cfg.Name, err)
	}
	// Offsets into the kept text are 32 bits wide; what is kept is never
	// longer than the file.
	if len(data) > math.MaxUint32 {
		return nil, fmt.Errorf("intel feed %q: %s: larger than 4 GiB", cfg.Name, cfg.Path)
	}
	b := newBuilder(cfg.Path)
	switch format := formatOf(cfg, data); format {
	case "plain":
		parsePlain(b, data)
	case "csv":
		err = parseCSV(b, data, cfg.Column)
	case "stix":
		err = parseSTIX(b, data, now)
	default:
		err = fmt.Errorf("unknown format %q (want plain, csv or stix)", format)
	}
	if err != nil {
		return nil, fmt.Errorf("intel feed %q: %s: %w", cfg.Name, cfg.Path, err)
	}
	f := b.feed(cfg.Name)
	if f.Len() == 0 && f.rejected > 0 {
		return nil, fmt.Errorf("intel feed %q: %s: no valid indicator, %d rejected: %w",
			cfg.Name, cfg.Path, f.rejected, errors.Join(f.errs...))
	}
	return f, nil
}

// formatOf is the configured format, else the one the extension or the
// content says: a JSON object is a STIX bundle, a comma on the first line
// that is not a comment makes CSV.
func formatOf(cfg FeedConfig, data []byte) string {
	if cfg.Format != "" {
		return cfg.Format
	}
	switch strings.ToLower(filepath.Ext(cfg.Path)) {
	case ".csv":
		return "csv"
	case ".json":
		return "stix"
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '{' {
		return "stix"
	}
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, ',') >= 0 {
			return "csv"
		}
		break
	}
	return "plain"
}

var utf8BOM = []byte("\xef\xbb\xbf")
