package syslog

import (
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// CEF severities (0-10) by finding severity; sessions, metrics and
// unknown severities are informational.
func cefSeverity(s string) int {
	switch s {
	case "critical":
		return 10
	case "high":
		return 8
	case "medium":
		return 5
	case "low":
		return 3
	}
	return 1
}

// appendCEF writes the event as ArcSight CEF:
//
//	CEF:0|Osprey|Osprey NDR|<version>|<class id>|<name>|<severity>|<extension>
//
// The mapping of each kind's fields to CEF keys is in
// docs/outputs-syslog.md.
func (e *Encoder) appendCEF(dst []byte, ev *deliver.Event) ([]byte, error) {
	dst = append(dst, "CEF:0|Osprey|Osprey NDR|"...)
	dst = AppendCEFHeader(dst, e.version)
	dst = append(dst, '|')
	x := cefExt{}
	switch ev.Kind {
	case deliver.KindFinding:
		dst = x.finding(dst, ev.Finding)
	case deliver.KindSession:
		dst = x.session(dst, ev.Session)
	case deliver.KindMetric:
		dst = x.metric(dst, ev.Metric)
	}
	return dst, nil
}

// evidence is what CEF takes from a finding's evidence (docs/findings.md).
type evidence struct {
	Summary   string    `json:"summary"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int64     `json:"count"`
}

// cefExt writes extension pairs, a space between each.
type cefExt struct{ n int }

func (x *cefExt) key(dst []byte, key string) []byte {
	return x.labelKey(dst, key, "")
}

// labelKey writes key+suffix= ("cs1Label=") without building the string.
func (x *cefExt) labelKey(dst []byte, key, suffix string) []byte {
	if x.n > 0 {
		dst = append(dst, ' ')
	}
	x.n++
	dst = append(dst, key...)
	dst = append(dst, suffix...)
	return append(dst, '=')
}

func (x *cefExt) str(dst []byte, key, value string) []byte {
	if value == "" {
		return dst
	}
	return AppendCEFValue(x.key(dst, key), value)
}

func (x *cefExt) int(dst []byte, key string, v int64) []byte {
	return strconv.AppendInt(x.key(dst, key), v, 10)
}

func (x *cefExt) time(dst []byte, key string, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	return x.int(dst, key, t.UnixMilli())
}

func (x *cefExt) addr(dst []byte, key string, a netip.Addr) []byte {
	if !a.IsValid() {
		return dst
	}
	return a.AppendTo(x.key(dst, key))
}

// custom writes a labelled custom field (cs3Label=state cs3=active).
func (x *cefExt) custom(dst []byte, key, label, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(x.labelKey(dst, key, "Label"), label...)
	return x.str(dst, key, value)
}

func (x *cefExt) customInt(dst []byte, key, label string, v int64) []byte {
	dst = append(x.labelKey(dst, key, "Label"), label...)
	return x.int(dst, key, v)
}

func (x *cefExt) finding(dst []byte, f *schema.Finding) []byte {
	var ev evidence
	if len(f.Evidence) > 0 {
		// Evidence Osprey wrote is valid; were it not, the finding still
		// goes, without what the evidence would have added.
		_ = json.Unmarshal(f.Evidence, &ev)
	}
	id := f.Detector
	if f.Rule != "" {
		id += "/" + f.Rule
	}
	dst = AppendCEFHeader(dst, id)
	dst = append(dst, '|')
	name := ev.Summary
	if name == "" {
		name = id
	}
	dst = AppendCEFHeader(dst, name)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, int64(cefSeverity(f.Severity)), 10)
	dst = append(dst, '|')

	dst = x.time(dst, "rt", f.Time)
	dst = x.time(dst, "start", ev.FirstSeen)
	dst = x.time(dst, "end", ev.LastSeen)
	dst = x.str(dst, "cat", "finding")
	dst = x.str(dst, "externalId", f.ID)
	// Entities are sorted, so which address started what is not known:
	// the first is src, the second dst; a port is the service's (dpt).
	var ips int
	var port, proto string
	for _, ent := range f.Entities {
		switch {
		case strings.HasPrefix(ent, "ip:"):
			a, err := netip.ParseAddr(ent[3:])
			if err == nil && ips < 2 {
				dst = x.addr(dst, [...]string{"src", "dst"}[ips], a)
				ips++
			}
		case strings.HasPrefix(ent, "port:") && port == "":
			if p, err := strconv.ParseUint(ent[5:], 10, 16); err == nil {
				port = ent[5:]
				dst = x.int(dst, "dpt", int64(p))
			}
		case strings.HasPrefix(ent, "proto:") && proto == "":
			proto = ent[6:]
			dst = x.str(dst, "proto", strings.ToUpper(proto))
		}
	}
	dst = x.custom(dst, "cs1", "detector", f.Detector)
	dst = x.custom(dst, "cs2", "rule", f.Rule)
	dst = x.custom(dst, "cs3", "state", f.State)
	dst = x.custom(dst, "cs4", "tenant", f.Tenant)
	dst = x.custom(dst, "cs5", "technique", f.Technique)
	if len(f.Entities) > 0 {
		dst = append(x.key(dst, "cs6Label"), "entities"...)
		dst = x.key(dst, "cs6")
		for i, ent := range f.Entities {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendCEFValue(dst, ent)
		}
	}
	if ev.Count > 0 {
		dst = x.customInt(dst, "cn1", "count", ev.Count)
	}
	return dst
}

func (x *cefExt) session(dst []byte, s *schema.Session) []byte {
	dst = append(dst, "session|"...)
	// Name: "tcp session", "udp dns session".
	dst = AppendCEFHeader(dst, s.Transport)
	if s.App != "" {
		dst = AppendCEFHeader(append(dst, ' '), s.App)
	}
	dst = append(dst, " session|1|"...)
	dst = x.time(dst, "rt", s.End)
	dst = x.time(dst, "start", s.Start)
	dst = x.time(dst, "end", s.End)
	dst = x.str(dst, "cat", "session")
	if s.UID != "" {
		dst = AppendCEFValue(x.key(dst, "externalId"), s.UID)
		dst = strconv.AppendUint(append(dst, '/'), uint64(s.Seq), 10)
	}
	ports := s.Transport == "tcp" || s.Transport == "udp"
	dst = x.addr(dst, "src", s.Orig.IP)
	if ports {
		dst = x.int(dst, "spt", int64(s.Orig.Port))
	}
	dst = x.addr(dst, "dst", s.Resp.IP)
	if ports {
		dst = x.int(dst, "dpt", int64(s.Resp.Port))
	}
	switch s.Transport {
	case "tcp":
		dst = x.str(dst, "proto", "TCP")
	case "udp":
		dst = x.str(dst, "proto", "UDP")
	case "icmp":
		dst = x.str(dst, "proto", "ICMP")
	}
	dst = x.str(dst, "app", s.App)
	// out and in are as the source sees them: what it sent, what it got.
	dst = x.int(dst, "out", int64(min(s.OrigBytes, math.MaxInt64)))
	dst = x.int(dst, "in", int64(min(s.RespBytes, math.MaxInt64)))
	dst = x.str(dst, "smac", s.Orig.MAC)
	dst = x.str(dst, "dmac", s.Resp.MAC)
	dst = x.custom(dst, "cs1", "conn_state", s.ConnState)
	dst = x.custom(dst, "cs2", "direction", s.Direction)
	dst = x.custom(dst, "cs3", "community_id", s.CommunityID)
	dst = x.custom(dst, "cs4", "tenant", s.Tenant)
	dst = x.custom(dst, "cs5", "sensor", s.Sensor)
	dst = x.customInt(dst, "cn1", "orig_pkts", int64(min(s.OrigPkts, math.MaxInt64)))
	dst = x.customInt(dst, "cn2", "resp_pkts", int64(min(s.RespPkts, math.MaxInt64)))
	return dst
}

func (x *cefExt) metric(dst []byte, m *schema.DeviceMetric) []byte {
	dst = append(dst, "metric|"...)
	dst = AppendCEFHeader(dst, m.Name)
	dst = append(dst, "|1|"...)
	dst = x.time(dst, "rt", m.Time)
	dst = x.str(dst, "cat", "metric")
	if ip, ok := strings.CutPrefix(m.Device, "ip:"); ok {
		if a, err := netip.ParseAddr(ip); err == nil {
			dst = x.addr(dst, "src", a)
		}
	}
	dst = x.custom(dst, "cs1", "metric", m.Name)
	if len(m.List) > 0 {
		dst = append(x.key(dst, "cs2Label"), "list"...)
		dst = x.key(dst, "cs2")
		for i, v := range m.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendCEFValue(dst, v)
		}
	}
	dst = x.custom(dst, "cs4", "tenant", m.Tenant)
	dst = x.custom(dst, "cs5", "asset", m.Asset)
	dst = x.custom(dst, "cs6", "device", m.Device)
	if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
		dst = append(x.key(dst, "cfp1Label"), "value"...)
		dst = strconv.AppendFloat(x.key(dst, "cfp1"), m.Value, 'f', -1, 64)
	}
	return dst
}

// AppendCEFHeader appends s as a CEF header field: '\' and '|' are
// escaped with a backslash; line breaks, which a header may not hold,
// become spaces; invalid UTF-8 becomes U+FFFD.
func AppendCEFHeader(dst []byte, s string) []byte {
	return appendCEF(dst, s, true)
}

// AppendCEFValue appends s as a CEF extension value: '\' and '=' are
// escaped with a backslash, line breaks written \n and \r; invalid UTF-8
// becomes U+FFFD.
func AppendCEFValue(dst []byte, s string) []byte {
	return appendCEF(dst, s, false)
}

func appendCEF(dst []byte, s string, header bool) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
			continue
		}
		i++
		switch {
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case header && c == '|', !header && c == '=':
			dst = append(dst, '\\', c)
		case c == '\n' && header, c == '\r' && header:
			dst = append(dst, ' ')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
