package flowlog

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// vpcV2 parses a plain record of the default format (the 14 version 2
// fields, in order) straight from the line, without cutting it into
// tokens first. It takes only the common shape — single spaces, decimal
// numbers in range, IPv4 addresses, ACCEPT or REJECT, OK — and returns
// false on anything else (a header, '-', NODATA, IPv6, a bad value); the
// general path then parses the line again, so what it accepts, what it
// rejects and its error messages stay the general path's. For a line it
// takes, it gives what vpcRecord gives (TestVPCv2SameAsGeneral,
// FuzzVPCv2SameAsGeneral).
func (r *Reader) vpcV2(line []byte) (*schema.Session, hash, bool) {
	version, p, ok := v2num(line, 0, 3)
	if !ok || version > 255 {
		return nil, 0, false
	}
	account, p, ok := v2word(line, p)
	if !ok {
		return nil, 0, false
	}
	iface, p, ok := v2word(line, p)
	if !ok {
		return nil, 0, false
	}
	src, p, ok := v2addr(line, p)
	if !ok {
		return nil, 0, false
	}
	dst, p, ok := v2addr(line, p)
	if !ok {
		return nil, 0, false
	}
	sport, p, ok := v2num(line, p, 5)
	if !ok || sport > 1<<16-1 {
		return nil, 0, false
	}
	dport, p, ok := v2num(line, p, 5)
	if !ok || dport > 1<<16-1 {
		return nil, 0, false
	}
	proto, p, ok := v2num(line, p, 3)
	if !ok || proto > 255 {
		return nil, 0, false
	}
	pkts, p, ok := v2num(line, p, 18) // 18 digits are below 1<<63
	if !ok {
		return nil, 0, false
	}
	byts, p, ok := v2num(line, p, 18)
	if !ok {
		return nil, 0, false
	}
	start, p, ok := v2num(line, p, 12)
	if !ok || start > maxUnix {
		return nil, 0, false
	}
	end, p, ok := v2num(line, p, 12)
	if !ok || end > maxUnix || start > end {
		return nil, 0, false
	}
	var action string
	switch rest := line[p:]; {
	case len(rest) != len("ACCEPT OK") || rest[6] != ' ' || rest[7] != 'O' || rest[8] != 'K':
		return nil, 0, false
	case string(rest[:6]) == "ACCEPT":
		action = "accept"
	case string(rest[:6]) == "REJECT":
		action = "reject"
	default:
		return nil, 0, false
	}

	s := r.out.slot()
	fl := s.Flow
	fl.Account, fl.Interface, fl.Action = r.col(1, account), r.col(2, iface), action
	s.Orig.IP, s.Orig.Port = src, uint16(sport)
	s.Resp.IP, s.Resp.Port = dst, uint16(dport)
	s.Proto, s.OrigPkts, s.OrigIPBytes = uint8(proto), pkts, byts
	s.Start, s.End = time.Unix(int64(start), 0).UTC(), time.Unix(int64(end), 0).UTC()
	h := vpcSeed.str(fl.Account).str(fl.Interface).addr(src).addr(dst).
		u64(sport<<48 | dport<<32 | proto<<24 | initial(action)<<16).
		u64(start).u64(end)
	return s, h, true
}

// v2num reads a number of at most maxDigits digits at p and the space
// after it, and returns where the next field starts.
func v2num(line []byte, p, maxDigits int) (uint64, int, bool) {
	t := line[p:]
	if len(t) > maxDigits+1 {
		t = t[:maxDigits+1]
	}
	var v uint64
	for i, c := range t {
		if c-'0' > 9 {
			if c != ' ' || i == 0 {
				break
			}
			return v, p + i + 1, true
		}
		v = v*10 + uint64(c-'0')
	}
	return 0, 0, false
}

// v2word reads a word that is not "-" at p and the space after it.
func v2word(line []byte, p int) ([]byte, int, bool) {
	n := bytes.IndexByte(line[p:], ' ')
	if n <= 0 || (n == 1 && line[p] == '-') {
		return nil, 0, false
	}
	return line[p : p+n], p + n + 1, true
}

// v2addr reads a dotted IPv4 address as parseAddr accepts it (octets of
// 1 to 3 digits without a leading zero) and the space after it.
func v2addr(line []byte, p int) (netip.Addr, int, bool) {
	t := line[p:]
	if len(t) > len("255.255.255.255 ") {
		t = t[:len("255.255.255.255 ")]
	}
	var a [4]byte
	v, digits, k := 0, 0, 0
	for i, c := range t {
		switch {
		case c-'0' <= 9 && !(digits == 1 && v == 0):
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, 0, false
			}
		case digits == 0:
			return netip.Addr{}, 0, false
		case c == '.' && k < 3:
			a[k], v, digits, k = byte(v), 0, 0, k+1
		case c == ' ' && k == 3:
			a[3] = byte(v)
			return netip.AddrFrom4(a), p + i + 1, true
		default:
			return netip.Addr{}, 0, false
		}
	}
	return netip.Addr{}, 0, false
}
