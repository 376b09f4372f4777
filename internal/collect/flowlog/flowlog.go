// Package flowlog reads cloud flow logs — AWS VPC Flow Logs (text, gzip or
// Parquet), Azure NSG and VNet flow logs and GCP VPC Flow Logs — and turns
// each record into one schema.Session, as docs/flowlogs.md describes.
// Malformed records go to collect.Rejects and are counted; the rest of the
// input goes on.
package flowlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/pipeline"
)

// Format names an input format.
type Format string

const (
	FormatAuto       Format = ""            // detect from the first bytes
	FormatVPC        Format = "vpc"         // AWS VPC Flow Logs, space-separated text
	FormatVPCParquet Format = "vpc-parquet" // AWS VPC Flow Logs delivered as Parquet
	FormatAzure      Format = "azure"       // Azure NSG or VNet flow logs ({"records":[…]})
	FormatGCP        Format = "gcp"         // GCP VPC Flow Logs, Cloud Logging LogEntry JSON
)

// Session sources, one per cloud (docs/schema.md).
const (
	SourceVPC   = "vpcflow"
	SourceAzure = "azureflow"
	SourceGCP   = "gcpflow"
)

// ErrUnknownFormat is returned when detection finds no known format.
var ErrUnknownFormat = errors.New("unknown flow-log format")

// Config configures a Reader.
type Config struct {
	// Format forces a format; FormatAuto detects it per input.
	Format Format
	// Fields is the VPC custom format (field names in order, as in
	// "${version} ${srcaddr} …" without the braces) for text that has no
	// header line; empty means the default format (the 14 version 2 fields).
	Fields []string
	// Batch is how many sessions are handed to the sink at once.
	Batch int
	// CommunityIDSeed seeds community_id, as meter.Config's does.
	CommunityIDSeed uint16
	// Written into every session.
	Tenant, Sensor string
}

// DefaultConfig detects the format, assumes the VPC default format when a
// text file has no header, and writes batches of 1024 sessions.
func DefaultConfig() Config { return Config{Batch: 1024} }

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	switch c.Format {
	case FormatAuto, FormatVPC, FormatVPCParquet, FormatAzure, FormatGCP:
	default:
		return fmt.Errorf("flowlog.format: unknown format %q (vpc, vpc-parquet, azure, gcp or empty to detect)", c.Format)
	}
	if c.Batch <= 0 {
		return fmt.Errorf("flowlog.batch: must be positive, got %d", c.Batch)
	}
	if len(c.Fields) > 0 {
		if _, err := parseHeader(c.Fields); err != nil {
			return fmt.Errorf("flowlog.fields: %w", err)
		}
	}
	return nil
}

// Stats counts what one Read or ReadFile did. Every unit of input — a text
// line, a Parquet row, an Azure flow tuple, a GCP log entry — is exactly
// one of a record, a reject or skipped: Lines = Records + Rejected + Skipped.
type Stats struct {
	Lines    uint64
	Records  uint64 // sessions handed to the sink, NODATA and SKIPDATA included
	NoData   uint64 // AWS records with log-status NODATA
	SkipData uint64 // AWS records with log-status SKIPDATA
	Rejected uint64
	Skipped  uint64 // header and blank lines
}

// Reader turns flow logs into sessions. It keeps buffers between calls,
// so one Reader serves one goroutine at a time.
type Reader struct {
	cfg     Config
	sink    pipeline.SessionSink
	rejects collect.Rejects
	vpcDef  *vpcFormat // from Config.Fields, or the default format

	in, unzipped *bufio.Reader // reused from input to input
	out          batch
	stats        Stats
	source       string
	kind         string
	strs         interner
	cids         *communityIDs
	ids          idArena
	vpcLine      vpcLine
}

// New builds a Reader; it reads nothing until Read or ReadFile.
func New(cfg Config, sink pipeline.SessionSink, rejects collect.Rejects) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil || rejects == nil {
		return nil, errors.New("flowlog: a sink and a rejects receiver are required")
	}
	fields := cfg.Fields
	if len(fields) == 0 {
		fields = defaultVPCFields
	}
	def, _ := parseHeader(fields) // validated above
	r := &Reader{cfg: cfg, sink: sink, rejects: rejects, vpcDef: def, strs: newInterner(),
		cids: &communityIDs{seed: cfg.CommunityIDSeed},
		in:   bufio.NewReaderSize(nil, 256<<10), unzipped: bufio.NewReaderSize(nil, 256<<10)}
	r.out.init(cfg.Batch)
	return r, nil
}

// ReadFile reads one file: plain or gzip text, Azure or GCP JSON, or
// Parquet. Errors opening or reading the file, an unknown format and a
// failing sink are returned; bad records go to the Rejects.
func (r *Reader) ReadFile(ctx context.Context, path string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Stats{}, err
	}
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	if (r.cfg.Format == FormatAuto && bytes.Equal(head[:n], parquetMagic)) || r.cfg.Format == FormatVPCParquet {
		return r.readParquet(ctx, path, f, fi.Size())
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Stats{}, err
	}
	return r.Read(ctx, path, f)
}

// Read reads a stream named source (for errors and the dead-letter): text
// or JSON, gzip-compressed or not. Parquet needs random access, so a
// Parquet stream is read into memory first; prefer ReadFile for it.
func (r *Reader) Read(ctx context.Context, source string, in io.Reader) (Stats, error) {
	br := r.in
	br.Reset(in)
	defer br.Reset(nil) // keep no reference to the input
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: gzip: %w", source, err)
		}
		defer zr.Close()
		br = r.unzipped
		br.Reset(zr)
		defer br.Reset(nil)
	}
	format := r.cfg.Format
	if format == FormatAuto {
		head, _ := br.Peek(detectBytes)
		if len(head) == 0 {
			return Stats{}, nil // an empty file has no format and no records
		}
		var err error
		if format, err = Detect(head); err != nil {
			return Stats{}, fmt.Errorf("%s: %w", source, err)
		}
	}
	if format == FormatVPCParquet {
		data, err := io.ReadAll(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", source, err)
		}
		return r.readParquet(ctx, source, bytes.NewReader(data), int64(len(data)))
	}
	r.begin(source, format)
	var err error
	switch format {
	case FormatVPC:
		err = r.readVPC(ctx, br)
	case FormatAzure:
		err = r.readAzure(ctx, br)
	case FormatGCP:
		err = r.readGCP(ctx, br)
	}
	return r.end(ctx, err)
}

// begin resets the per-input state.
func (r *Reader) begin(source string, format Format) {
	r.stats, r.source = Stats{}, source
	switch format {
	case FormatAzure:
		r.kind = SourceAzure
	case FormatGCP:
		r.kind = SourceGCP
	default:
		r.kind = SourceVPC
	}
}

// end flushes what is left and returns the stats; a read error wins over
// a flush error, which wins over nothing.
func (r *Reader) end(ctx context.Context, err error) (Stats, error) {
	if ferr := r.flush(ctx); err == nil {
		err = ferr
	}
	r.out.drop()
	if err != nil {
		err = fmt.Errorf("%s: %w", r.source, err)
	}
	return r.stats, err
}

// reject reports one bad unit of input and counts it.
func (r *Reader) reject(line, offset int64, field string, err error, raw []byte) {
	r.stats.Rejected++
	if len(raw) > collect.MaxRaw {
		raw = raw[:collect.MaxRaw]
	}
	r.rejects.Reject(collect.BadInput{Kind: r.kind, Source: r.source, Line: line, Offset: offset,
		Field: field, Err: err, Raw: bytes.Clone(raw)})
}

// fieldError is a record's fault, named by field.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

func errField(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}
