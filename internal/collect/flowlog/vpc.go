package flowlog

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// vpcLine holds the text reader's buffers between lines.
type vpcLine struct {
	tok  [][]byte
	long []byte   // a line longer than the bufio buffer, put together
	last []string // by column, the string value it had last
}

// col returns a string field's value: the column's previous value when it
// is the same (an account, often an interface, repeats line after line),
// else the interned copy.
func (r *Reader) col(i int, t []byte) string {
	last := r.vpcLine.last
	if i < len(last) && last[i] == string(t) {
		return last[i]
	}
	s := r.strs.get(t)
	if i >= len(last) {
		last = append(last, make([]string, i+1-len(last))...)
		r.vpcLine.last = last
	}
	last[i] = s
	return s
}

// maxLine bounds a text line; a longer one is rejected, not buffered.
const maxLine = 1 << 20

// maxUnix is the last second of year 9999: later times cannot be written
// as RFC 3339, so they are rejected here rather than by the JSON encoder.
const maxUnix = 253402300799

var (
	errLineTooLong   = errors.New("line longer than 1 MiB")
	errTooManyFields = errors.New("more than 128 fields")
)

var vpcSeed = newHash(SourceVPC)

// readVPC reads space-separated VPC Flow Logs records. A header line sets
// the format for the lines after it (files that were concatenated keep
// their own headers); without one, Config.Fields or the default format
// applies.
func (r *Reader) readVPC(ctx context.Context, br *bufio.Reader) error {
	format := r.vpcDef
	var off int64
	for lineNo := int64(1); ; lineNo++ {
		line, n, tooLong, err := readLine(br, &r.vpcLine.long)
		if n == 0 {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err != nil && err != io.EOF {
			return err // a broken stream (truncated gzip): the last line is not whole
		}
		at := off
		off += n
		r.stats.Lines++
		if tooLong {
			r.reject(lineNo, at, "", errLineTooLong, line)
			continue
		}
		if format.v2 {
			if s, h, ok := r.vpcV2(line); ok {
				if err := r.commit(ctx, s, h); err != nil {
					return err
				}
				continue
			}
		}
		tok, ok := splitFields(line, r.vpcLine.tok, maxVPCFields)
		r.vpcLine.tok = tok
		switch {
		case len(tok) == 0:
			r.stats.Skipped++
			continue
		case !ok:
			r.reject(lineNo, at, "", errTooManyFields, line)
			continue
		case headerLine(tok):
			names := make([]string, len(tok))
			for i, t := range tok {
				names[i] = string(t)
			}
			f, herr := parseHeader(names)
			if herr != nil {
				r.reject(lineNo, at, "", herr, line)
				continue
			}
			format = f
			r.stats.Skipped++
			continue
		}
		s, h, ferr := r.vpcRecord(format, tok)
		if ferr != nil {
			r.reject(lineNo, at, ferr.field, ferr.err, line)
			continue
		}
		if err := r.commit(ctx, s, h); err != nil {
			return err
		}
	}
}

// readLine returns the next line without its end of line, how many bytes
// it took, and whether it was cut at maxLine.
func readLine(br *bufio.Reader, long *[]byte) (line []byte, n int64, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	n = int64(len(line))
	if err == bufio.ErrBufferFull {
		buf := append((*long)[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = br.ReadSlice('\n')
			n += int64(len(line))
			if len(buf)+len(line) <= maxLine {
				buf = append(buf, line...)
			} else {
				tooLong = true
			}
		}
		*long, line = buf, buf
	}
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, n, tooLong, err
}

// vpcRecord parses one record's values (text tokens, or Parquet values
// written as text) into the next session slot.
func (r *Reader) vpcRecord(f *vpcFormat, tok [][]byte) (*schema.Session, hash, *fieldError) {
	if len(tok) != len(f.kinds) {
		return nil, 0, errField("", "%d fields, the format has %d", len(tok), len(f.kinds))
	}
	s := r.out.slot()
	fl := s.Flow
	var start, end uint64
	var haveStart, haveEnd bool
	var pktSrc, pktDst netip.Addr
	for i, t := range tok {
		if len(t) == 1 && t[0] == '-' {
			continue // not applicable to this record, or not computed
		}
		var err error
		switch f.kinds[i] {
		case vpcVersion:
			_, err = parseUint(t, 255)
		case vpcAccount:
			fl.Account = r.col(i, t)
		case vpcInterface:
			fl.Interface = r.col(i, t)
		case vpcSrcAddr:
			s.Orig.IP, err = parseAddr(t)
		case vpcDstAddr:
			s.Resp.IP, err = parseAddr(t)
		case vpcSrcPort:
			s.Orig.Port, err = parse16(t)
		case vpcDstPort:
			s.Resp.Port, err = parse16(t)
		case vpcProtocol:
			s.Proto, err = parse8(t)
		case vpcPackets:
			s.OrigPkts, err = parseUint(t, 1<<63-1)
		case vpcBytes:
			s.OrigIPBytes, err = parseUint(t, 1<<63-1)
		case vpcStart:
			start, err = parseUint(t, maxUnix)
			haveStart = true
		case vpcEnd:
			end, err = parseUint(t, maxUnix)
			haveEnd = true
		case vpcAction:
			fl.Action, err = parseAction(t)
		case vpcLogStatus:
			fl.Status, err = parseStatus(t)
		case vpcVPC:
			fl.VPC = r.col(i, t)
		case vpcSubnet:
			fl.Subnet = r.col(i, t)
		case vpcInstance:
			fl.Instance = r.col(i, t)
		case vpcTCPFlags:
			fl.TCPFlags, err = parse8(t)
		case vpcPktSrc:
			pktSrc, err = parseAddr(t)
		case vpcPktDst:
			pktDst, err = parseAddr(t)
		case vpcRegion:
			fl.Region = r.col(i, t)
		case vpcAZ:
			fl.Zone = r.col(i, t)
		case vpcPktSrcService:
			fl.PktSrcService = r.col(i, t)
		case vpcPktDstService:
			fl.PktDstService = r.col(i, t)
		case vpcDirection:
			fl.Direction, err = parseDirection(t)
		case vpcTrafficPath:
			if _, err = parseUint(t, 255); err == nil {
				setExtra(fl, f.names[i], r.col(i, t))
			}
		default:
			setExtra(fl, f.names[i], r.col(i, t))
		}
		if err != nil {
			return nil, 0, errField(f.names[i], "%q: %w", clip(t), err)
		}
	}
	switch {
	case haveStart && haveEnd && start > end:
		return nil, 0, errField("start", "start %d is after end %d", start, end)
	case haveStart && !haveEnd:
		end = start
	case haveEnd && !haveStart:
		start = end
	}
	if fl.Status == "" { // log-status OK, or not in the format
		switch {
		case !s.Orig.IP.IsValid():
			return nil, 0, errField("srcaddr", "missing in a record with data")
		case !s.Resp.IP.IsValid():
			return nil, 0, errField("dstaddr", "missing in a record with data")
		}
	}
	if haveStart || haveEnd {
		s.Start, s.End = time.Unix(int64(start), 0).UTC(), time.Unix(int64(end), 0).UTC()
	}
	if pktSrc.IsValid() && pktSrc != s.Orig.IP {
		fl.PktSrc = pktSrc
	}
	if pktDst.IsValid() && pktDst != s.Resp.IP {
		fl.PktDst = pktDst
	}
	switch fl.Status {
	case statusNoData:
		r.stats.NoData++
	case statusSkipData:
		r.stats.SkipData++
	}
	h := vpcSeed.str(fl.Account).str(fl.Interface).addr(s.Orig.IP).addr(s.Resp.IP).
		u64(uint64(s.Orig.Port)<<48 | uint64(s.Resp.Port)<<32 | uint64(s.Proto)<<24 |
			initial(fl.Action)<<16 | initial(fl.Status)<<8 | initial(fl.Direction)).
		u64(start).u64(end)
	if pktSrc.IsValid() {
		h = h.addr(pktSrc)
	}
	if pktDst.IsValid() {
		h = h.u64(2).addr(pktDst)
	}
	return s, h, nil
}

const (
	statusNoData   = "nodata"
	statusSkipData = "skipdata"
)

var (
	errBadAction    = errors.New("not ACCEPT or REJECT")
	errBadStatus    = errors.New("not OK, NODATA or SKIPDATA")
	errBadDirection = errors.New("not ingress or egress")
)

func parseAction(t []byte) (string, error) {
	switch string(t) {
	case "ACCEPT":
		return "accept", nil
	case "REJECT":
		return "reject", nil
	}
	return "", errBadAction
}

func parseStatus(t []byte) (string, error) {
	switch string(t) {
	case "OK":
		return "", nil
	case "NODATA":
		return statusNoData, nil
	case "SKIPDATA":
		return statusSkipData, nil
	}
	return "", errBadStatus
}

func parseDirection(t []byte) (string, error) {
	switch string(t) {
	case "ingress":
		return "ingress", nil
	case "egress":
		return "egress", nil
	}
	return "", errBadDirection
}

func parse16(t []byte) (uint16, error) {
	v, err := parseUint(t, 1<<16-1)
	return uint16(v), err
}

func parse8(t []byte) (uint8, error) {
	v, err := parseUint(t, 255)
	return uint8(v), err
}

func setExtra(fl *schema.Flow, name, value string) {
	if fl.Extra == nil {
		fl.Extra = make(map[string]string, 4)
	}
	fl.Extra[name] = value
}

// clip keeps error messages short when a value is huge.
func clip(t []byte) string {
	if len(t) > 64 {
		return string(t[:64]) + "…"
	}
	return string(t)
}
