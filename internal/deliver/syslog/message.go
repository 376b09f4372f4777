package syslog

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Encoder writes each event as one RFC 5424 message, without framing:
//
//	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [osprey@PEN …] MSG
//
// The formatter is written here rather than taken from a library: the one
// the module proxy serves (leodido/go-syslog's rfc5424 builder) keeps
// structured data in maps, so it reorders parameters, allocates several
// times per message and cuts trailing zeros off the fraction of seconds;
// the format is short. The tests parse every message with go-syslog and
// with rsyslog.
type Encoder struct {
	pri     int // facility << 3; the severity is added per record
	header  []byte
	sdID    string // "" for no structured data
	format  string
	version string
	maxSize int // 0: no limit (tcp, tls)
	now     func() time.Time

	truncated atomic.Uint64
}

// NewEncoder builds the encoder of cfg, which must be valid.
func NewEncoder(cfg Config) (*Encoder, error) {
	fac, err := facilityCode(cfg.Facility)
	if err != nil {
		return nil, fmt.Errorf("facility: %w", err)
	}
	host := cfg.Hostname
	if host == "" {
		host, _ = os.Hostname()
		host = headerField(host, 255)
	}
	e := &Encoder{pri: fac << 3, format: cfg.Format, version: cfg.DeviceVersion, now: time.Now}
	// HOSTNAME APP-NAME PROCID, the same in every message.
	e.header = fmt.Appendf(nil, "%s %s %d", host, cfg.AppName, os.Getpid())
	if cfg.StructuredData {
		e.sdID = "osprey@" + strconv.FormatUint(uint64(cfg.EnterpriseNumber), 10)
	}
	if cfg.Network == "udp" {
		e.maxSize = cfg.MaxMessageSize
	}
	if e.version == "" {
		e.version = buildVersion()
	}
	return e, nil
}

// buildVersion is the main module's version as the Go toolchain stamped
// it ("v1.2.0", or a pseudo-version from the VCS); "dev" without one.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// headerField makes s fit a header field: PRINTUSASCII, at most n bytes,
// "-" when empty.
func headerField(s string, n int) string {
	b := []byte(s)
	for i, c := range b {
		if c < 33 || c > 126 {
			b[i] = '_'
		}
	}
	if len(b) > n {
		b = b[:n]
	}
	if len(b) == 0 {
		return "-"
	}
	return string(b)
}

// Truncated is how many UDP messages were cut to max_message_size.
func (e *Encoder) Truncated() uint64 { return e.truncated.Load() }

// Severities (RFC 5424 §6.2.1) by finding severity; sessions, metrics
// and unknown severities are informational.
const (
	sevCritical = 2
	sevError    = 3
	sevWarning  = 4
	sevNotice   = 5
	sevInfo     = 6
)

// Severity is the syslog severity of a finding's severity.
func Severity(s string) int {
	switch s {
	case "critical":
		return sevCritical
	case "high":
		return sevError
	case "medium":
		return sevWarning
	case "low":
		return sevNotice
	}
	return sevInfo
}

// Encode implements deliver.Encoder.
func (e *Encoder) Encode(dst []byte, ev *deliver.Event) ([]byte, error) {
	start := len(dst)
	sev := sevInfo
	if ev.Kind == deliver.KindFinding {
		sev = Severity(ev.Finding.Severity)
	}
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(e.pri|sev), 10)
	dst = append(dst, ">1 "...)
	// Microseconds, as RFC 5424 §6.2.3 allows at most; the event's own
	// times are in the payload.
	dst = e.now().UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	dst = append(dst, ' ')
	dst = append(dst, e.header...)
	dst = append(dst, ' ')
	dst = append(dst, ev.Kind.String()...) // MSGID
	dst = append(dst, ' ')
	sdEnd := -1 // where the SD element's closing ']' is
	if e.sdID != "" {
		dst = e.appendSD(dst, ev)
		sdEnd = len(dst) - 1
	} else {
		dst = append(dst, '-')
	}
	dst = append(dst, ' ')
	var err error
	switch e.format {
	case FormatJSON:
		dst, err = appendJSON(dst, ev)
	default:
		dst, err = e.appendCEF(dst, ev)
	}
	if err != nil {
		return dst[:start], err
	}
	if e.maxSize > 0 && len(dst)-start > e.maxSize {
		dst = e.truncate(dst, start, sdEnd)
	}
	return dst, nil
}

// appendSD writes the [osprey@PEN …] element: what a receiver routes
// and filters on without reading the payload.
func (e *Encoder) appendSD(dst []byte, ev *deliver.Event) []byte {
	dst = append(dst, '[')
	dst = append(dst, e.sdID...)
	param := func(name, value string) {
		if value == "" {
			return
		}
		dst = append(dst, ' ')
		dst = append(dst, name...)
		dst = append(dst, `="`...)
		dst = AppendSDValue(dst, value)
		dst = append(dst, '"')
	}
	param("tenant", ev.Tenant)
	switch ev.Kind {
	case deliver.KindFinding:
		f := ev.Finding
		param("id", f.ID)
		param("detector", f.Detector)
		param("rule", f.Rule)
		param("severity", f.Severity)
		param("state", f.State)
		param("technique", f.Technique)
	case deliver.KindSession:
		param("uid", ev.Session.UID)
		param("sensor", ev.Session.Sensor)
	case deliver.KindMetric:
		param("device", ev.Metric.Device)
		param("metric", ev.Metric.Name)
	}
	return append(dst, ']')
}

// AppendSDValue appends s as an SD-PARAM value (RFC 5424 §6.3.3): '"',
// '\' and ']' are escaped with a backslash; invalid UTF-8 becomes
// U+FFFD, and line breaks spaces, so that a message never holds one
// (non-transparent framing ends messages with a line feed).
func AppendSDValue(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\', ']':
				dst = append(dst, '\\', c)
			case '\n', '\r':
				dst = append(dst, ' ')
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// truncate cuts the message in dst[start:] to maxSize, on a UTF-8
// boundary, and notes the original length in the structured data
// (truncated="<bytes>").
func (e *Encoder) truncate(dst []byte, start, sdEnd int) []byte {
	e.truncated.Add(1)
	var note []byte
	if sdEnd >= 0 {
		note = strconv.AppendInt([]byte(` truncated="`), int64(len(dst)-start), 10)
		note = append(note, '"')
	}
	cut := start + e.maxSize - len(note)
	for cut > sdEnd+1 && !utf8.RuneStart(dst[cut]) {
		cut--
	}
	// Header and structured data are kept whole (they are short unless
	// a tenant or rule name is absurdly long).
	cut = max(cut, sdEnd+2)
	dst = dst[:cut]
	if note != nil {
		dst = append(dst[:sdEnd], append(note, dst[sdEnd:]...)...)
	}
	return dst
}

// appendJSON writes the record's JSON (docs/schema.md).
func appendJSON(dst []byte, ev *deliver.Event) ([]byte, error) {
	return deliver.JSONEncoder{}.Encode(dst, ev)
}

var _ deliver.Encoder = (*Encoder)(nil)
