package flowlog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Azure flow logs are one JSON document, {"records":[…]}, each record the
// flows of one minute of one NSG (NSG flow logs, "properties") or one
// flow-log target (VNet flow logs, "flowRecords"); see
// https://learn.microsoft.com/azure/network-watcher/nsg-flow-logs-overview
// and …/vnet-flow-logs-overview. Each flow tuple becomes one session.
type azureRecord struct {
	Time       string `json:"time"`
	MacAddress string `json:"macAddress"`
	ResourceID string `json:"resourceId"` // the NSG
	Properties *struct {
		Version int `json:"Version"`
		Flows   []struct {
			Rule  string `json:"rule"`
			Flows []struct {
				Mac        string   `json:"mac"`
				FlowTuples []string `json:"flowTuples"`
			} `json:"flows"`
		} `json:"flows"`
	} `json:"properties"`
	TargetResourceID string `json:"targetResourceID"` // VNet, subnet or NIC
	FlowRecords      *struct {
		Flows []struct {
			ACLID      string `json:"aclID"`
			FlowGroups []struct {
				Rule       string   `json:"rule"`
				FlowTuples []string `json:"flowTuples"`
			} `json:"flowGroups"`
		} `json:"flows"`
	} `json:"flowRecords"`
}

var azureSeed = newHash(SourceAzure)

var errNotRecords = errors.New(`not an Azure flow log: want {"records":[…]}`)

// readAzure streams the records array one record at a time, so an hour's
// file is never held whole. A record that does not decode is rejected as
// a whole; JSON that is broken stops the file (nothing after it can be
// trusted) with a reject naming the offset.
func (r *Reader) readAzure(ctx context.Context, br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errNotRecords
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return r.brokenJSON(dec, err)
		}
		if key != "records" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return r.brokenJSON(dec, err)
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return errNotRecords
		}
		for n := int64(1); dec.More(); n++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return r.brokenJSON(dec, err)
			}
			off := dec.InputOffset() - int64(len(raw))
			var rec azureRecord
			if err := json.Unmarshal(raw, &rec); err != nil {
				var typeErr *json.UnmarshalTypeError
				field := ""
				if errors.As(err, &typeErr) {
					field = typeErr.Field
				}
				r.stats.Lines++
				r.reject(n, off, field, err, raw)
				continue
			}
			if err := r.azureRecord(ctx, &rec, n, off); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return r.brokenJSON(dec, err)
		}
	}
	return nil
}

// brokenJSON rejects the rest of a file whose JSON is broken. A stream
// that failed to read is an error for the file instead.
func (r *Reader) brokenJSON(dec *json.Decoder, err error) error {
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) && !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
		return err
	}
	r.stats.Lines++
	r.reject(0, dec.InputOffset(), "", fmt.Errorf("broken JSON, rest of the file skipped: %w", err), nil)
	return nil
}

// azureRecord turns each tuple of one record into a session.
func (r *Reader) azureRecord(ctx context.Context, rec *azureRecord, n, off int64) error {
	owner := rec.ResourceID
	if owner == "" {
		owner = rec.TargetResourceID
	}
	where := azureWhere{account: subscription(owner)}
	tupleNo := 0
	each := func(tuples []string, vnet bool) error {
		for _, tuple := range tuples {
			r.stats.Lines++
			s, h, ferr := r.azureTuple(tuple, vnet, &where)
			if ferr != nil {
				field := fmt.Sprintf("flowTuples[%d]", tupleNo)
				if ferr.field != "" {
					field += "." + ferr.field
				}
				r.reject(n, off, field, ferr.err, []byte(tuple))
			} else if err := r.commit(ctx, s, h); err != nil {
				return err
			}
			tupleNo++
		}
		return nil
	}
	if p := rec.Properties; p != nil {
		where.resourceKey, where.resource = "resourceId", rec.ResourceID
		for _, rule := range p.Flows {
			for _, nic := range rule.Flows {
				where.rule, where.mac, where.iface = rule.Rule, nic.Mac, macAddress(nic.Mac)
				if err := each(nic.FlowTuples, false); err != nil {
					return err
				}
			}
		}
	}
	if fr := rec.FlowRecords; fr != nil {
		where.resourceKey, where.resource = "targetResourceID", rec.TargetResourceID
		where.mac, where.iface = rec.MacAddress, macAddress(rec.MacAddress)
		where.vnet, where.subnet = resourceName(rec.TargetResourceID, "virtualnetworks"), resourceName(rec.TargetResourceID, "subnets")
		for _, acl := range fr.Flows {
			where.acl = acl.ACLID
			for _, group := range acl.FlowGroups {
				where.rule = group.Rule
				if err := each(group.FlowTuples, true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// azureWhere is what a record says about where its tuples were logged.
type azureWhere struct {
	account, vnet, subnet, mac, iface, rule, acl string
	resourceKey, resource                        string
}

// azureTuple parses one flow tuple:
//
//	NSG v1:  time,src,dst,sport,dport,T|U,I|O,A|D
//	NSG v2:  … ,A|D,B|C|E,packetsS2D,bytesS2D,packetsD2S,bytesD2S
//	VNet:    time(ms),src,dst,sport,dport,proto,I|O,B|C|E|D,encryption,packetsS2D,bytesS2D,packetsD2S,bytesD2S
//
// Counters are empty in a B (begin) tuple and count since the flow's
// previous tuple in C and E: S2D is the source's side (orig), D2S the
// destination's (resp).
func (r *Reader) azureTuple(tuple string, vnet bool, w *azureWhere) (*schema.Session, hash, *fieldError) {
	f := strings.Split(tuple, ",")
	switch {
	case vnet && len(f) != 13:
		return nil, 0, errField("", "%d values in the tuple, want 13", len(f))
	case !vnet && len(f) != 8 && len(f) != 13:
		return nil, 0, errField("", "%d values in the tuple, want 8 (version 1) or 13 (version 2)", len(f))
	}
	s := r.out.slot()
	fl := s.Flow
	ts, err := parseUint([]byte(f[0]), 1<<63-1)
	if err != nil {
		return nil, 0, errField("time", "%q: %w", clip([]byte(f[0])), err)
	}
	if ts >= 1e11 { // VNet flow logs write milliseconds
		ts /= 1000
	}
	if ts > maxUnix {
		return nil, 0, errField("time", "%d: %w", ts, errTooLarge)
	}
	s.Start = time.Unix(int64(ts), 0).UTC()
	s.End = s.Start
	if s.Orig.IP, err = parseAddr([]byte(f[1])); err != nil {
		return nil, 0, errField("src", "%q: %w", clip([]byte(f[1])), err)
	}
	if s.Resp.IP, err = parseAddr([]byte(f[2])); err != nil {
		return nil, 0, errField("dst", "%q: %w", clip([]byte(f[2])), err)
	}
	if s.Orig.Port, err = parse16([]byte(f[3])); err != nil {
		return nil, 0, errField("sport", "%q: %w", clip([]byte(f[3])), err)
	}
	if s.Resp.Port, err = parse16([]byte(f[4])); err != nil {
		return nil, 0, errField("dport", "%q: %w", clip([]byte(f[4])), err)
	}
	switch {
	case vnet:
		s.Proto, err = parse8([]byte(f[5]))
	case f[5] == "T":
		s.Proto = 6
	case f[5] == "U":
		s.Proto = 17
	default:
		err = errors.New("not T or U")
	}
	if err != nil {
		return nil, 0, errField("protocol", "%q: %w", clip([]byte(f[5])), err)
	}
	switch f[6] {
	case "I":
		fl.Direction = "ingress"
	case "O":
		fl.Direction = "egress"
	default:
		return nil, 0, errField("direction", "%q: not I or O", clip([]byte(f[6])))
	}
	var state string
	var counters []string
	if len(f) == 13 {
		counters = f[9:]
	}
	if vnet {
		state = f[7]
		fl.Action = "accept"
		if state == "D" {
			fl.Action = "reject"
		}
		setExtra(fl, "encryption", r.strs.get([]byte(f[8])))
	} else {
		switch f[7] {
		case "A":
			fl.Action = "accept"
		case "D":
			fl.Action = "reject"
		default:
			return nil, 0, errField("decision", "%q: not A or D", clip([]byte(f[7])))
		}
		if len(f) == 13 {
			state = f[8]
		}
	}
	if state != "" {
		if !strings.Contains("BCED", state) || len(state) != 1 || (!vnet && state == "D") {
			return nil, 0, errField("state", "%q: not a flow state", clip([]byte(state)))
		}
		setExtra(fl, "state", state)
	}
	dst := []*uint64{&s.OrigPkts, &s.OrigIPBytes, &s.RespPkts, &s.RespIPBytes}
	for i, c := range counters {
		if c == "" {
			continue // a B tuple carries none
		}
		if *dst[i], err = parseUint([]byte(c), 1<<63-1); err != nil {
			return nil, 0, errField(azureCounters[i], "%q: %w", clip([]byte(c)), err)
		}
	}
	fl.Account, fl.VPC, fl.Subnet, fl.Rule = w.account, w.vnet, w.subnet, r.strs.get([]byte(w.rule))
	fl.Interface = w.iface
	if w.resource != "" {
		setExtra(fl, w.resourceKey, r.strs.get([]byte(w.resource)))
	}
	if w.acl != "" {
		setExtra(fl, "aclID", r.strs.get([]byte(w.acl)))
	}
	return s, azureSeed.str(w.mac).str(w.rule).str(w.acl).str(tuple), nil
}

var azureCounters = [4]string{"packets_s2d", "bytes_s2d", "packets_d2s", "bytes_d2s"}

// subscription is the id after /SUBSCRIPTIONS/ in a resource id (Azure
// writes it upper- or lower-case).
func subscription(id string) string {
	return strings.ToLower(resourceName(id, "subscriptions"))
}

// resourceName returns the path segment after /kind/ in a resource id,
// kind compared without regard to case.
func resourceName(id, kind string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], kind) {
			return parts[i+1]
		}
	}
	return ""
}

// macAddress writes Azure's "000D3AF87856" as Endpoint.MAC does
// ("00:0d:3a:f8:78:56"); anything else is kept as it was.
func macAddress(m string) string {
	var b [6]byte
	if len(m) != 12 {
		return m
	}
	for i := range b {
		hi, lo := unhex(m[2*i]), unhex(m[2*i+1])
		if hi < 0 || lo < 0 {
			return m
		}
		b[i] = byte(hi<<4 | lo)
	}
	return schema.MAC(b)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
