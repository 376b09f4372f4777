package output

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ParseError is a conn.log that could not be read: the line (1-based)
// and, when it is about one value, the field.
type ParseError struct {
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("conn.log line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("conn.log line %d, field %s: %v", e.Line, e.Field, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// zeekHeader is what the # lines of a Zeek log declare.
type zeekHeader struct {
	sep, setSep   string
	unset, empty  string
	fields, types []string
	index         map[string]int
}

// ZeekConnRow is one data row of a Zeek TSV log such as conn.log.
type ZeekConnRow struct {
	Line   int // 1-based line in the input
	header *zeekHeader
	values []string
}

// Get returns the raw value of a field as written ("-" when unset, "" when
// the log has no such field).
func (r ZeekConnRow) Get(field string) string {
	if i, ok := r.header.index[field]; ok {
		return r.values[i]
	}
	return ""
}

// Fields are the log's column names, from its #fields line.
func (r ZeekConnRow) Fields() []string { return r.header.fields }

// maxZeekLine bounds a line; a longer one is an error, not a stall.
const maxZeekLine = 1 << 20

// ParseZeekConn reads a Zeek ASCII (TSV) log such as conn.log: the #
// header lines (#separator, #set_separator, #empty_field, #unset_field,
// #fields, #types) and the rows. Every value is checked against its
// column's #types entry (time, interval, count, int, port, addr, subnet,
// bool, sets); btest's masked times (XXXXXXXXXX.XXXXXX) are accepted.
// Errors are *ParseError, naming the line and field.
func ParseZeekConn(r io.Reader) ([]ZeekConnRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxZeekLine)
	h := &zeekHeader{sep: "\t", setSep: ",", unset: "-", empty: "(empty)"}
	var rows []ZeekConnRow
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" {
			continue
		}
		if strings.HasPrefix(text, "#") {
			next, err := h.directive(text)
			if err != nil {
				return nil, &ParseError{Line: line, Err: err}
			}
			h = next
			continue
		}
		if h.fields == nil {
			return nil, &ParseError{Line: line, Err: errors.New("data before the #fields header")}
		}
		values := strings.Split(text, h.sep)
		if len(values) != len(h.fields) {
			return nil, &ParseError{Line: line, Err: fmt.Errorf("%d fields, the #fields header has %d", len(values), len(h.fields))}
		}
		for i, v := range values {
			if i < len(h.types) {
				if err := h.check(h.types[i], v); err != nil {
					return nil, &ParseError{Line: line, Field: h.fields[i], Err: err}
				}
			}
		}
		rows = append(rows, ZeekConnRow{Line: line, header: h, values: values})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than %d bytes: %w", maxZeekLine, err)
		}
		return nil, &ParseError{Line: line + 1, Err: err}
	}
	return rows, nil
}

// directive applies one # line. The header is copied when it changes, so
// rows already read keep the header they were read with (a log may
// concatenate several files).
func (h *zeekHeader) directive(text string) (*zeekHeader, error) {
	if rest, ok := strings.CutPrefix(text, "#separator "); ok {
		sep := unescapeZeek(rest)
		if sep == "" {
			return nil, fmt.Errorf("#separator %q is empty", rest)
		}
		n := *h
		n.sep = sep
		return &n, nil
	}
	name, value, ok := strings.Cut(text[1:], h.sep)
	if !ok {
		return h, nil // "#close", comments, btest's "### …"
	}
	n := *h
	switch name {
	case "set_separator":
		n.setSep = value
	case "unset_field":
		n.unset = value
	case "empty_field":
		n.empty = value
	case "fields":
		n.fields = strings.Split(value, h.sep)
		n.types = nil
		n.index = make(map[string]int, len(n.fields))
		for i, f := range n.fields {
			if _, dup := n.index[f]; dup || f == "" {
				return nil, fmt.Errorf("#fields: field %q is empty or repeated", f)
			}
			n.index[f] = i
		}
	case "types":
		if n.fields == nil {
			return nil, errors.New("#types before #fields")
		}
		n.types = strings.Split(value, h.sep)
		if len(n.types) != len(n.fields) {
			return nil, fmt.Errorf("#types has %d entries, #fields %d", len(n.types), len(n.fields))
		}
	default:
		return h, nil // #path, #open, #close
	}
	return &n, nil
}

// check validates one value against its Zeek type.
func (h *zeekHeader) check(typ, v string) error {
	if v == h.unset {
		return nil
	}
	if elem, ok := strings.CutPrefix(typ, "set["); ok {
		return h.checkElems(strings.TrimSuffix(elem, "]"), v)
	}
	if elem, ok := strings.CutPrefix(typ, "vector["); ok {
		return h.checkElems(strings.TrimSuffix(elem, "]"), v)
	}
	var err error
	switch typ {
	case "time":
		if v != zeekMaskedTime {
			_, err = parseMicros(v)
		}
	case "interval", "double":
		_, err = parseMicros(v)
		if err != nil {
			_, err = strconv.ParseFloat(v, 64)
		}
	case "count":
		_, err = strconv.ParseUint(v, 10, 64)
	case "int":
		_, err = strconv.ParseInt(v, 10, 64)
	case "port":
		_, err = strconv.ParseUint(v, 10, 16)
	case "addr":
		_, err = netip.ParseAddr(v)
	case "subnet":
		_, err = netip.ParsePrefix(v)
	case "bool":
		if v != "T" && v != "F" {
			err = errors.New("not T or F")
		}
	}
	if err != nil {
		return fmt.Errorf("%q is not a %s: %w", v, typ, err)
	}
	return nil
}

func (h *zeekHeader) checkElems(typ, v string) error {
	if v == h.empty {
		return nil
	}
	for e := range strings.SplitSeq(v, h.setSep) {
		if err := h.check(typ, e); err != nil {
			return err
		}
	}
	return nil
}

// Session turns a conn.log row into a final Session (Source "zeek"), the
// inverse of ZeekConnWriter: a masked ts gives the zero time; unset
// duration means End = Start; local_orig/local_resp become Direction;
// vlan/inner_vlan, community_id and orig_l2_addr/resp_l2_addr (Zeek's
// policy scripts) are read when present.
func (r ZeekConnRow) Session() (schema.Session, error) {
	s := schema.Session{Version: schema.SessionVersion, Final: true, Source: "zeek"}
	var err error
	fail := func(field string, e error) (schema.Session, error) {
		return schema.Session{}, &ParseError{Line: r.Line, Field: field, Err: e}
	}
	set := func(f string) (string, bool) {
		v := r.Get(f)
		if v == "" || v == r.header.unset {
			return "", false
		}
		return unescapeZeek(v), true
	}
	count := func(f string) uint64 {
		if err != nil {
			return 0
		}
		v, ok := set(f)
		if !ok {
			return 0
		}
		n, e := strconv.ParseUint(v, 10, 64)
		if e != nil {
			err = &ParseError{Line: r.Line, Field: f, Err: e}
		}
		return n
	}
	if v, ok := set("ts"); ok && v != zeekMaskedTime {
		us, e := parseMicros(v)
		if e != nil {
			return fail("ts", e)
		}
		s.Start = time.UnixMicro(us).UTC()
	}
	s.End = s.Start
	if v, ok := set("duration"); ok {
		us, e := parseMicros(v)
		if e != nil {
			return fail("duration", e)
		}
		s.End = s.Start.Add(time.Duration(us) * time.Microsecond)
	}
	s.UID, _ = set("uid")
	for _, ep := range []struct {
		e          *schema.Endpoint
		host, port string
		mac        string
	}{{&s.Orig, "id.orig_h", "id.orig_p", "orig_l2_addr"}, {&s.Resp, "id.resp_h", "id.resp_p", "resp_l2_addr"}} {
		if v, ok := set(ep.host); ok {
			a, e := netip.ParseAddr(v)
			if e != nil {
				return fail(ep.host, e)
			}
			ep.e.IP = a
		}
		if v, ok := set(ep.port); ok {
			p, e := strconv.ParseUint(v, 10, 16)
			if e != nil {
				return fail(ep.port, e)
			}
			ep.e.Port = uint16(p)
		}
		ep.e.MAC, _ = set(ep.mac)
	}
	s.Transport, _ = set("proto")
	s.App, _ = set("service")
	s.ConnState, _ = set("conn_state")
	s.History, _ = set("history")
	s.CommunityID, _ = set("community_id")
	s.OrigBytes, s.RespBytes = count("orig_bytes"), count("resp_bytes")
	s.OrigPkts, s.RespPkts = count("orig_pkts"), count("resp_pkts")
	s.OrigIPBytes, s.RespIPBytes = count("orig_ip_bytes"), count("resp_ip_bytes")
	s.MissedBytes = count("missed_bytes")
	proto := count("ip_proto")
	for _, f := range []string{"vlan", "inner_vlan"} {
		if v := count(f); v > 0 && v < 4096 {
			s.VLANs = append(s.VLANs, uint16(v))
		}
	}
	if err != nil {
		return schema.Session{}, err
	}
	if proto > 255 {
		return fail("ip_proto", fmt.Errorf("%d is not an IP protocol", proto))
	}
	s.Proto = uint8(proto)
	if _, ok := set("ip_proto"); !ok { // logs from before Zeek 6.1
		s.Proto = map[string]uint8{"tcp": 6, "udp": 17, "icmp": 1}[s.Transport]
		if s.Proto == 1 && s.Orig.IP.Is6() && !s.Orig.IP.Is4In6() {
			s.Proto = 58
		}
	}
	if v, ok := set("tunnel_parents"); ok && v != r.header.empty {
		for p := range strings.SplitSeq(r.Get("tunnel_parents"), r.header.setSep) {
			s.TunnelParents = append(s.TunnelParents, unescapeZeek(p))
		}
	}
	lo, okO := set("local_orig")
	lr, okR := set("local_resp")
	if okO && okR {
		s.Direction = map[[2]bool]string{
			{true, true}: "internal", {true, false}: "outbound", {false, true}: "inbound", {false, false}: "external",
		}[[2]bool{lo == "T", lr == "T"}]
	}
	return s, nil
}
