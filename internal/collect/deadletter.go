package collect

import (
	"bufio"
	"encoding/json"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// DeadLetter counts bad input by collector, logs the first few of each
// source and, when given a path, appends each to a JSON-lines file that
// keeps the raw record so it can be fixed and replayed:
//
//	{"time":"…","kind":"vpcflow","source":"logs/a.log.gz","line":12,"offset":940,
//	 "field":"dstport","error":"…","raw":"2 123456789010 eni-… 10.0.0.1 …"}
//
// raw is the record as text when it is valid UTF-8, else raw_base64 holds
// its bytes.
type DeadLetter struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	log    *slog.Logger
	counts map[string]uint64 // by kind
	logged map[string]int    // by source, to bound the log
}

// logPerSource is how many rejects of one source are logged; the rest are
// only counted (and written to the file).
const logPerSource = 5

// OpenDeadLetter starts a dead-letter; path "" keeps no file. The file is
// appended to, so a restarted collector keeps what an earlier run set aside.
func OpenDeadLetter(path string, log *slog.Logger) (*DeadLetter, error) {
	d := &DeadLetter{log: log, counts: map[string]uint64{}, logged: map[string]int{}}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		d.f, d.w = f, bufio.NewWriter(f)
	}
	return d, nil
}

type deadLetterLine struct {
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Source    string    `json:"source"`
	Line      int64     `json:"line,omitempty"`
	Offset    *int64    `json:"offset,omitempty"`
	Field     string    `json:"field,omitempty"`
	Error     string    `json:"error"`
	Raw       string    `json:"raw,omitempty"`
	RawBase64 []byte    `json:"raw_base64,omitempty"`
}

// Reject counts b, logs it if its source has not said much yet, and
// writes it to the file. A failing file write is logged once per call and
// does not stop the collector: the count still holds.
func (d *DeadLetter) Reject(b BadInput) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts[b.Kind]++
	if d.log != nil && d.logged[b.Source] < logPerSource {
		d.logged[b.Source]++
		d.log.Warn("rejected input", "kind", b.Kind, "error", b.Error())
	}
	if d.w == nil {
		return
	}
	raw := b.Raw
	if len(raw) > MaxRaw {
		raw = raw[:MaxRaw]
	}
	l := deadLetterLine{Time: time.Now().UTC(), Kind: b.Kind, Source: b.Source, Line: b.Line, Field: b.Field}
	if b.Offset >= 0 {
		l.Offset = &b.Offset
	}
	if b.Err != nil {
		l.Error = b.Err.Error()
	}
	if utf8.Valid(raw) {
		l.Raw = string(raw)
	} else {
		l.RawBase64 = raw
	}
	line, _ := json.Marshal(l) // plain fields: cannot fail
	d.w.Write(append(line, '\n'))
	if err := d.w.Flush(); err != nil && d.log != nil {
		d.log.Error("dead-letter file", "error", err)
	}
}

// Counts returns the rejects so far, by collector kind.
func (d *DeadLetter) Counts() map[string]uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]uint64, len(d.counts))
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

// Close flushes and closes the file.
func (d *DeadLetter) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.w.Flush()
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	d.f, d.w = nil, nil
	return err
}

var rejectedDesc = prometheus.NewDesc("osprey_collect_rejected_total",
	"Lines, records and reports the collectors rejected, by collector.", []string{"kind"}, nil)

// Describe and Collect export the counts as osprey_collect_rejected_total.
func (d *DeadLetter) Describe(ch chan<- *prometheus.Desc) { ch <- rejectedDesc }

func (d *DeadLetter) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range d.Counts() {
		ch <- prometheus.MustNewConstMetric(rejectedDesc, prometheus.CounterValue, float64(n), kind)
	}
}
