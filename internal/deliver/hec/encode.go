package hec

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Encoder writes each event as one HEC event object (Splunk's "Format
// events for HTTP Event Collector"):
//
//	{"time":1772366400.123456,"host":"h","source":"osprey","sourcetype":"osprey:finding",
//	 "index":"soc","fields":{"detector":"horizontal-scan",…},"event":{…the Finding…}}
//
// Objects written one after another are HEC's batch format, so records
// are concatenated as they are into a request body.
type Encoder struct {
	kinds [deliver.KindMetric + 1]kindEncoding
	// sessionHost uses a session's sensor as its host when host is not
	// configured.
	sessionHost bool
	host        []byte // the host as a JSON string
}

// kindEncoding is what is fixed for a kind: the metadata after the host
// (source, sourcetype, index) as JSON, and the indexed fields.
type kindEncoding struct {
	meta   []byte
	fields []field
}

// newEncoder builds the encoder of a valid config; host is the
// configured host or the machine's name.
func newEncoder(c Config) *Encoder {
	e := &Encoder{sessionHost: c.Host == ""}
	host := c.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	e.host = appendString(nil, host)
	for k := deliver.KindFinding; k <= deliver.KindMetric; k++ {
		st := byKind(c.Sourcetypes, DefaultSourcetypes(), k)
		var meta []byte
		meta = append(meta, `,"source":`...)
		meta = appendString(meta, c.Source)
		meta = append(meta, `,"sourcetype":`...)
		meta = appendString(meta, st)
		if c.Index != "" {
			meta = append(meta, `,"index":`...)
			meta = appendString(meta, c.Index)
		}
		ke := kindEncoding{meta: meta}
		for _, name := range byKind(c.Fields, DefaultFields(), k) {
			ke.fields = append(ke.fields, fieldsOf(k)[name])
		}
		e.kinds[k] = ke
	}
	return e
}

// byKind is m's value for kind k, else def's.
func byKind[V any](m, def map[string]V, k deliver.Kind) V {
	for name, kind := range kindKeys {
		if kind != k {
			continue
		}
		if v, ok := m[name]; ok {
			return v
		}
		return def[name]
	}
	var zero V
	return zero
}

var errNoRecord = errors.New("event carries no record")

// Encode appends e's HEC event object to dst.
func (enc *Encoder) Encode(dst []byte, e *deliver.Event) ([]byte, error) {
	if e.Kind < deliver.KindFinding || e.Kind > deliver.KindMetric {
		return dst, errors.New("unknown kind " + e.Kind.String())
	}
	if isNilPtr(e) {
		return dst, errNoRecord
	}
	rec := e.Record()
	start := len(dst)
	ke := &enc.kinds[e.Kind]
	dst = append(dst, '{')
	if !e.Time.IsZero() {
		dst = append(dst, `"time":`...)
		dst = appendTime(dst, e.Time)
		dst = append(dst, ',')
	}
	dst = append(dst, `"host":`...)
	if enc.sessionHost && e.Kind == deliver.KindSession && e.Session.Sensor != "" {
		dst = appendString(dst, e.Session.Sensor)
	} else {
		dst = append(dst, enc.host...)
	}
	dst = append(dst, ke.meta...)
	if len(ke.fields) > 0 {
		mark := len(dst)
		dst = append(dst, `,"fields":{`...)
		n := 0
		for _, f := range ke.fields {
			before := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, f.name)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = f.value(dst, e); !ok {
				dst = dst[:before] // empty values are left out
				continue
			}
			n++
		}
		if n == 0 {
			dst = dst[:mark]
		} else {
			dst = append(dst, '}')
		}
	}
	dst = append(dst, `,"event":`...)
	// encoding/json has no append API: an Encoder over a buffer that
	// starts as dst writes the record in place, without the copy
	// json.Marshal would make. HTML escaping is for browsers, not HEC.
	buf := bytes.NewBuffer(dst)
	je := json.NewEncoder(buf)
	je.SetEscapeHTML(false)
	if err := je.Encode(rec); err != nil {
		return dst[:start], err
	}
	dst = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	return append(dst, '}'), nil
}

func isNilPtr(e *deliver.Event) bool {
	switch e.Kind {
	case deliver.KindFinding:
		return e.Finding == nil
	case deliver.KindSession:
		return e.Session == nil
	case deliver.KindMetric:
		return e.Metric == nil
	}
	return true
}

// appendTime writes t as HEC wants it: Unix seconds with a fraction
// (microseconds, Splunk's finest _time resolution).
func appendTime(dst []byte, t time.Time) []byte {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.')
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(dst, digits[:]...)
}

// appendString writes s as a JSON string. encoding/json has no append
// API for a string (json.Marshal allocates for each), so this escapes
// as it does: quotes, backslashes and control characters, with invalid
// UTF-8 replaced by U+FFFD.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but not valid JavaScript;
		// encoding/json escapes them, and so does this.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// field is one indexed field: its name and how to write its value (a
// JSON string, or an array of strings: what HEC accepts in "fields").
// value reports false when the event has no value for it.
type field struct {
	name  string
	value func(dst []byte, e *deliver.Event) ([]byte, bool)
}

func str(get func(e *deliver.Event) string) func([]byte, *deliver.Event) ([]byte, bool) {
	return func(dst []byte, e *deliver.Event) ([]byte, bool) {
		s := get(e)
		if s == "" {
			return dst, false
		}
		return appendString(dst, s), true
	}
}

func port(get func(e *deliver.Event) uint16) func([]byte, *deliver.Event) ([]byte, bool) {
	return func(dst []byte, e *deliver.Event) ([]byte, bool) {
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, uint64(get(e)), 10)
		return append(dst, '"'), true
	}
}

func addr(get func(e *deliver.Event) netip.Addr) func([]byte, *deliver.Event) ([]byte, bool) {
	return func(dst []byte, e *deliver.Event) ([]byte, bool) {
		a := get(e)
		if !a.IsValid() {
			return dst, false
		}
		dst = append(dst, '"')
		dst = a.AppendTo(dst)
		return append(dst, '"'), true
	}
}

func strs(get func(e *deliver.Event) []string) func([]byte, *deliver.Event) ([]byte, bool) {
	return func(dst []byte, e *deliver.Event) ([]byte, bool) {
		l := get(e)
		if len(l) == 0 {
			return dst, false
		}
		dst = append(dst, '[')
		for i, s := range l {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, s)
		}
		return append(dst, ']'), true
	}
}

var fieldTable = [deliver.KindMetric + 1]map[string]field{
	deliver.KindFinding: fieldMap(
		field{"tenant", str(func(e *deliver.Event) string { return e.Finding.Tenant })},
		field{"id", str(func(e *deliver.Event) string { return e.Finding.ID })},
		field{"detector", str(func(e *deliver.Event) string { return e.Finding.Detector })},
		field{"rule", str(func(e *deliver.Event) string { return e.Finding.Rule })},
		field{"severity", str(func(e *deliver.Event) string { return e.Finding.Severity })},
		field{"state", str(func(e *deliver.Event) string { return e.Finding.State })},
		field{"technique", str(func(e *deliver.Event) string { return e.Finding.Technique })},
		field{"dedupe_key", str(func(e *deliver.Event) string { return e.Finding.DedupeKey })},
		field{"entities", strs(func(e *deliver.Event) []string { return e.Finding.Entities })},
	),
	deliver.KindSession: fieldMap(
		field{"tenant", str(func(e *deliver.Event) string { return e.Session.Tenant })},
		field{"sensor", str(func(e *deliver.Event) string { return e.Session.Sensor })},
		field{"uid", str(func(e *deliver.Event) string { return e.Session.UID })},
		field{"src", addr(func(e *deliver.Event) netip.Addr { return e.Session.Orig.IP })},
		field{"dest", addr(func(e *deliver.Event) netip.Addr { return e.Session.Resp.IP })},
		field{"src_port", port(func(e *deliver.Event) uint16 { return e.Session.Orig.Port })},
		field{"dest_port", port(func(e *deliver.Event) uint16 { return e.Session.Resp.Port })},
		field{"transport", str(func(e *deliver.Event) string { return e.Session.Transport })},
		field{"app", str(func(e *deliver.Event) string { return e.Session.App })},
		field{"direction", str(func(e *deliver.Event) string { return e.Session.Direction })},
		field{"conn_state", str(func(e *deliver.Event) string { return e.Session.ConnState })},
		field{"community_id", str(func(e *deliver.Event) string { return e.Session.CommunityID })},
		field{"src_asset", str(func(e *deliver.Event) string { return e.Session.Orig.Asset })},
		field{"dest_asset", str(func(e *deliver.Event) string { return e.Session.Resp.Asset })},
		field{"src_segment", str(func(e *deliver.Event) string { return e.Session.Orig.Segment })},
		field{"dest_segment", str(func(e *deliver.Event) string { return e.Session.Resp.Segment })},
		// Not "source": that is HEC's own metadata field.
		field{"session_source", str(func(e *deliver.Event) string { return e.Session.Source })},
	),
	deliver.KindMetric: fieldMap(
		field{"tenant", str(func(e *deliver.Event) string { return e.Metric.Tenant })},
		field{"device", str(func(e *deliver.Event) string { return e.Metric.Device })},
		field{"asset", str(func(e *deliver.Event) string { return e.Metric.Asset })},
		field{"metric", str(func(e *deliver.Event) string { return e.Metric.Name })},
	),
}

func fieldMap(fs ...field) map[string]field {
	m := make(map[string]field, len(fs))
	for _, f := range fs {
		m[f.name] = f
	}
	return m
}

func fieldsOf(k deliver.Kind) map[string]field { return fieldTable[k] }

// FieldNames are the indexed fields kind k can have, sorted.
func FieldNames(k deliver.Kind) []string {
	names := sortedKeys(fieldTable[k])
	sort.Strings(names)
	return names
}
