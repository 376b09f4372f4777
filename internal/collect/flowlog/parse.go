package flowlog

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
)

// splitFields cuts a line at runs of spaces into tok, reusing its array;
// it returns false when the line has more than max fields. It looks for
// spaces 8 bytes at a time: a space in a word x is a zero byte of
// y = x^0x2020…, and ^(((y&0x7f…)+0x7f…)|y)&0x80… marks exactly the zero
// bytes of y.
func splitFields(line []byte, tok [][]byte, max int) ([][]byte, bool) {
	const low7, high = 0x7f7f7f7f7f7f7f7f, 0x8080808080808080
	tok = tok[:0]
	start, i := 0, 0
	for ; i+8 <= len(line); i += 8 {
		y := binary.LittleEndian.Uint64(line[i:]) ^ 0x2020202020202020
		for m := ^(((y & low7) + low7) | y) & high; m != 0; m &= m - 1 {
			end := i + bits.TrailingZeros64(m)>>3
			if end > start {
				if len(tok) == max {
					return tok, false
				}
				tok = append(tok, line[start:end:end])
			}
			start = end + 1
		}
	}
	for ; i <= len(line); i++ {
		if i < len(line) && line[i] != ' ' {
			continue
		}
		if i > start {
			if len(tok) == max {
				return tok, false
			}
			tok = append(tok, line[start:i:i])
		}
		start = i + 1
	}
	return tok, true
}

var (
	errNotNumber = errors.New("not a number")
	errTooLarge  = errors.New("out of range")
)

// parseUint reads a decimal number no larger than max from bytes, without
// the string conversion strconv would need. Nineteen digits cannot
// overflow; only a twentieth is checked, so no digit costs a division.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		if len(b) > 20 && allDigits(b) {
			return 0, errTooLarge
		}
		return 0, errNotNumber
	}
	var v uint64
	for _, c := range b[:min(len(b), 19)] {
		d := c - '0'
		if d > 9 {
			return 0, errNotNumber
		}
		v = v*10 + uint64(d)
	}
	if len(b) == 20 {
		d := b[19] - '0'
		if d > 9 {
			return 0, errNotNumber
		}
		hi, lo := bits.Mul64(v, 10)
		sum, carry := bits.Add64(lo, uint64(d), 0)
		if hi != 0 || carry != 0 {
			return 0, errTooLarge
		}
		v = sum
	}
	if v > max {
		return 0, errTooLarge
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
// allocation); anything else — IPv6, or input that is no IPv4 address —
// is left to netip, which also says what is wrong with it.
func parseAddr(b []byte) (netip.Addr, error) {
	var a [4]byte
	n, v, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9' && !(digits == 1 && v == 0): // no leading zeros, as netip
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return parseAddr6(b)
			}
		case c == '.' && digits > 0 && n < 3:
			a[n] = byte(v)
			n, v, digits = n+1, 0, 0
		default:
			return parseAddr6(b)
		}
	}
	if n != 3 || digits == 0 {
		return parseAddr6(b)
	}
	a[3] = byte(v)
	return netip.AddrFrom4(a), nil
}

// parseAddr6 parses what is not a plain IPv4 address.
func parseAddr6(b []byte) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errBadAddr
	}
	return a, nil
}
