package flowlog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// GCP VPC Flow Logs reach files as Cloud Logging LogEntry JSON, one entry
// a line (a Cloud Storage sink) or an array of entries (gcloud logging
// read --format=json). The record is jsonPayload; its fields are described
// in https://cloud.google.com/vpc/docs/about-flow-logs-records.
type gcpEntry struct {
	Resource struct {
		Labels map[string]string `json:"labels"`
	} `json:"resource"`
	JSONPayload map[string]any `json:"jsonPayload"`
}

var gcpSeed = newHash(SourceGCP)

// readGCP reads JSON lines, or a JSON array when the input starts with '['.
func (r *Reader) readGCP(ctx context.Context, br *bufio.Reader) error {
	head, _ := br.Peek(detectBytes)
	if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return r.gcpArray(ctx, br)
	}
	return r.gcpLines(ctx, br)
}

func (r *Reader) gcpLines(ctx context.Context, br *bufio.Reader) error {
	var off int64
	var long []byte
	for lineNo := int64(1); ; lineNo++ {
		line, n, tooLong, err := readLine(br, &long)
		if n == 0 {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err != nil && err != io.EOF {
			return err
		}
		at := off
		off += n
		r.stats.Lines++
		switch {
		case tooLong:
			r.reject(lineNo, at, "", errLineTooLong, line)
		case len(bytes.TrimSpace(line)) == 0:
			r.stats.Skipped++
		default:
			if err := r.gcpEntry(ctx, line, lineNo, at); err != nil {
				return err
			}
		}
	}
}

func (r *Reader) gcpArray(ctx context.Context, br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil {
		return r.brokenJSON(dec, err)
	}
	for n := int64(1); dec.More(); n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return r.brokenJSON(dec, err)
		}
		r.stats.Lines++
		if err := r.gcpEntry(ctx, raw, n, dec.InputOffset()-int64(len(raw))); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return r.brokenJSON(dec, err)
	}
	return nil
}

// gcpEntry turns one LogEntry into a session, or rejects it.
func (r *Reader) gcpEntry(ctx context.Context, raw []byte, line, off int64) error {
	var e gcpEntry
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	err := d.Decode(&e)
	if err == nil {
		if _, more := d.Token(); more != io.EOF {
			err = errors.New("data after the log entry")
		} else if e.JSONPayload == nil {
			err = errors.New("no jsonPayload")
		}
	}
	if err != nil {
		r.reject(line, off, "", err, raw)
		return nil
	}
	s, h, ferr := r.gcpRecord(&e)
	if ferr != nil {
		r.reject(line, off, "jsonPayload."+ferr.field, ferr.err, raw)
		return nil
	}
	return r.commit(ctx, s, h)
}

func (r *Reader) gcpRecord(e *gcpEntry) (*schema.Session, hash, *fieldError) {
	p := e.JSONPayload
	s := r.out.slot()
	fl := s.Flow
	conn, _ := p["connection"].(map[string]any)
	if conn == nil {
		return nil, 0, errField("connection", "missing")
	}
	var err *fieldError
	get := func(dst *uint64, m map[string]any, key, field string, max uint64) {
		if v, ok := m[key]; ok && err == nil {
			*dst, err = jsonUint(v, field, max)
		}
	}
	var sport, dport, proto uint64
	get(&sport, conn, "src_port", "connection.src_port", 1<<16-1)
	get(&dport, conn, "dest_port", "connection.dest_port", 1<<16-1)
	get(&proto, conn, "protocol", "connection.protocol", 255)
	get(&s.OrigIPBytes, p, "bytes_sent", "bytes_sent", 1<<63-1)
	get(&s.OrigPkts, p, "packets_sent", "packets_sent", 1<<63-1)
	if err != nil {
		return nil, 0, err
	}
	s.Orig.Port, s.Resp.Port, s.Proto = uint16(sport), uint16(dport), uint8(proto)
	if s.Orig.IP, err = jsonAddr(conn["src_ip"], "connection.src_ip"); err != nil {
		return nil, 0, err
	}
	if s.Resp.IP, err = jsonAddr(conn["dest_ip"], "connection.dest_ip"); err != nil {
		return nil, 0, err
	}
	start, _ := p["start_time"].(string)
	end, _ := p["end_time"].(string)
	if s.Start, err = jsonTime(start, "start_time"); err != nil {
		return nil, 0, err
	}
	if s.End, err = jsonTime(end, "end_time"); err != nil {
		return nil, 0, err
	}
	if s.Start.After(s.End) {
		return nil, 0, errField("start_time", "%s is after end_time %s", start, end)
	}
	reporter, _ := p["reporter"].(string)
	side := "dest_"
	switch reporter {
	case "SRC", "SRC_GATEWAY":
		fl.Direction, side = "egress", "src_"
	case "DEST", "DEST_GATEWAY":
		fl.Direction = "ingress"
	default:
		return nil, 0, errField("reporter", "%q: not SRC, DEST, SRC_GATEWAY or DEST_GATEWAY", reporter)
	}
	// The reporter's own instance and network fill the flow's columns;
	// everything else, the peer's details included, goes to extra.
	if vm, ok := p[side+"instance"].(map[string]any); ok {
		fl.Account, fl.Region, fl.Zone, fl.Instance = take(vm, "project_id"), take(vm, "region"), take(vm, "zone"), take(vm, "vm_name")
	}
	if vpc, ok := p[side+"vpc"].(map[string]any); ok {
		if fl.Account == "" {
			fl.Account = take(vpc, "project_id")
		}
		fl.VPC, fl.Subnet = take(vpc, "vpc_name"), take(vpc, "subnetwork_name")
	}
	if fl.Account == "" {
		fl.Account = e.Resource.Labels["project_id"]
	}
	for k, v := range p {
		switch k {
		case "connection", "bytes_sent", "packets_sent", "start_time", "end_time":
		default:
			flatten(fl, k, v)
		}
	}
	h := gcpSeed.str(reporter).addr(s.Orig.IP).addr(s.Resp.IP).
		u64(sport<<24 | dport<<8 | proto).str(start).str(end)
	return s, h, nil
}

// take removes a string member from an object and returns it, so that
// what is left goes to extra.
func take(m map[string]any, key string) string {
	v, _ := m[key].(string)
	if v != "" {
		delete(m, key)
	}
	return v
}

// flatten writes a JSON value into flow.extra under a dotted name
// ("dest_location.country"), objects member by member.
func flatten(fl *schema.Flow, name string, v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			flatten(fl, name+"."+k, sub)
		}
	case string:
		setExtra(fl, name, v)
	case json.Number:
		setExtra(fl, name, v.String())
	case bool:
		setExtra(fl, name, strconv.FormatBool(v))
	case nil:
	default: // arrays, kept as JSON
		b, _ := json.Marshal(v)
		setExtra(fl, name, string(b))
	}
}

// jsonUint reads a count or port written as a JSON number or, as proto3
// JSON writes int64, a string.
func jsonUint(v any, field string, max uint64) (uint64, *fieldError) {
	var text string
	switch v := v.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = v
	default:
		return 0, errField(field, "not a number")
	}
	n, err := parseUint([]byte(text), max)
	if err != nil {
		return 0, errField(field, "%q: %w", clip([]byte(text)), err)
	}
	return n, nil
}

func jsonAddr(v any, field string) (a netip.Addr, ferr *fieldError) {
	text, ok := v.(string)
	if !ok {
		return a, errField(field, "missing")
	}
	a, err := parseAddr([]byte(text))
	if err != nil {
		return a, errField(field, "%q: %w", clip([]byte(text)), err)
	}
	return a, nil
}

func jsonTime(text, field string) (time.Time, *fieldError) {
	if text == "" {
		return time.Time{}, errField(field, "missing")
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return time.Time{}, errField(field, "%q: not an RFC 3339 time", clip([]byte(text)))
	}
	return t.UTC(), nil
}
