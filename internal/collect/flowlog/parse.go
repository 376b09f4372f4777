package flowlog

import (
	"bytes"
	"errors"
	"net/netip"
)

// splitFields cuts a line at runs of spaces, tabs and other control bytes
// into tok, reusing its array; it returns false when the line has more
// than max fields.
func splitFields(line []byte, tok [][]byte, max int) ([][]byte, bool) {
	tok = tok[:0]
	for i := 0; i < len(line); {
		for i < len(line) && line[i] <= ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] > ' ' {
			j++
		}
		if len(tok) == max {
			return tok, false
		}
		tok = append(tok, line[i:j])
		i = j
	}
	return tok, true
}

var (
	errNotNumber = errors.New("not a number")
	errTooLarge  = errors.New("out of range")
)

// parseUint reads a decimal number no larger than max from bytes, without
// the string conversion strconv would need.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		if len(b) > 20 && allDigits(b) {
			return 0, errTooLarge
		}
		return 0, errNotNumber
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errNotNumber
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, errTooLarge
		}
		v = v*10 + d
	}
	return v, nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var errBadAddr = errors.New("not an IP address")

// parseAddr reads an IPv4 address by hand (the common case, with no
// allocation) and leaves IPv6 to netip. Like netip it refuses leading
// zeros in IPv4 octets.
func parseAddr(b []byte) (netip.Addr, error) {
	if bytes.IndexByte(b, ':') >= 0 {
		return parseAddr6(b)
	}
	var a [4]byte
	n, v, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && v == 0 {
				return netip.Addr{}, errBadAddr // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, errBadAddr
			}
		case c == '.' && digits > 0 && n < 3:
			a[n] = byte(v)
			n, v, digits = n+1, 0, 0
		default:
			return netip.Addr{}, errBadAddr
		}
	}
	if n != 3 || digits == 0 {
		return netip.Addr{}, errBadAddr
	}
	a[3] = byte(v)
	return netip.AddrFrom4(a), nil
}

// parseAddr6 parses an address that has a colon, so is IPv6 if anything.
func parseAddr6(b []byte) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errBadAddr
	}
	return a, nil
}
