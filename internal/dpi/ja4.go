// JA4, FoxIO's TLS client fingerprint, for TLS over TCP, as specified in
// github.com/FoxIO-LLC/ja4 technical_details/JA4.md:
//
//	t 13 d 15 16 h2 _ sha256(sorted ciphers)[:12] _ sha256(sorted extensions "_" signature algorithms)[:12]
//
// GREASE values (RFC 8701) are ignored everywhere.

package dpi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

// clientHello is what JA4 and schema.TLS need of a ClientHello.
type clientHello struct {
	strs     *strTable // where the strings kept come from
	version  uint16    // legacy_version
	ciphers  u16List
	exts     u16List // extension types, in order
	sni      string
	alpn     []string
	versions u16List // supported_versions
	sigAlgs  u16List
}

// u16List is a ClientHello list (cipher suites, extension types, …) held
// in place up to a size no browser or library reaches, and on the heap
// beyond it, so that parsing a hello allocates nothing but what it keeps.
type u16List struct {
	n    int
	fix  [64]uint16
	more []uint16 // all of them, once there are more than fix holds
}

func (l *u16List) add(v uint16) {
	switch {
	case l.more != nil:
		l.more = append(l.more, v)
	case l.n < len(l.fix):
		l.fix[l.n] = v
		l.n++
	default:
		l.more = append(append(make([]uint16, 0, 2*len(l.fix)), l.fix[:]...), v)
	}
}

func (l *u16List) values() []uint16 {
	if l.more != nil {
		return l.more
	}
	return l.fix[:l.n]
}

// isGREASE reports the reserved 0x?a?a values with both bytes equal.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// ja4 returns the fingerprint of a complete ClientHello, found by its
// inputs when it was computed before: a network's clients are a few
// programs, each sending the same lists to every server.
func ja4(ch *clientHello) string {
	var kb [256]byte
	key := ja4Key(kb[:0], ch)
	if s, ok := ch.strs.lookup(key); ok {
		return s
	}
	var buf [128]byte
	return ch.strs.store(key, appendJA4(buf[:0], ch))
}

// ja4Key is what the fingerprint depends on: the legacy version, the
// four lists and the first ALPN value.
func ja4Key(b []byte, ch *clientHello) []byte {
	b = binary.BigEndian.AppendUint16(b, ch.version)
	for _, l := range [...]*u16List{&ch.ciphers, &ch.exts, &ch.versions, &ch.sigAlgs} {
		vs := l.values()
		b = binary.BigEndian.AppendUint16(b, uint16(len(vs)))
		for _, v := range vs {
			b = binary.BigEndian.AppendUint16(b, v)
		}
	}
	if len(ch.alpn) > 0 {
		b = append(b, ch.alpn[0]...)
	}
	return b
}

// appendJA4 computes the fingerprint. The lists are filtered, sorted and
// printed in stack buffers, which hold any real hello (append moves to
// the heap past them).
func appendJA4(out []byte, ch *clientHello) []byte {
	var list [128]uint16
	var hexBuf [5 * 128]byte
	exts := ch.exts.values()
	nExts, sni := 0, byte('i')
	for _, v := range exts {
		if !isGREASE(v) {
			nExts++
		}
		if v == 0x0000 {
			sni = 'd'
		}
	}
	ciphers := appendWithoutGREASE(list[:0], ch.ciphers.values(), false)
	out = append(out, 't')
	out = append(out, ja4Version(ch)...)
	out = append(out, sni)
	out = append2d(out, min(len(ciphers), 99))
	out = append2d(out, min(nExts, 99))
	alpn := ja4ALPN(ch.alpn)
	out = append(out, alpn[:]...)

	slices.Sort(ciphers)
	out = append(out, '_')
	out = appendJA4Hash(out, appendHexList(hexBuf[:0], ciphers))

	sorted := appendWithoutGREASE(list[:0], exts, true)
	slices.Sort(sorted)
	out = append(out, '_')
	if len(sorted) == 0 {
		out = append(out, "000000000000"...)
	} else {
		s := appendHexList(hexBuf[:0], sorted)
		// sorted is printed: list is free for the signature algorithms.
		if sigs := appendWithoutGREASE(list[:0], ch.sigAlgs.values(), false); len(sigs) > 0 {
			s = appendHexList(append(s, '_'), sigs)
		}
		out = appendJA4Hash(out, s)
	}
	return out
}

func append2d(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }

// appendWithoutGREASE appends vs to dst but for GREASE values and, when
// noSNIALPN is set, the server_name and ALPN extensions.
func appendWithoutGREASE(dst, vs []uint16, noSNIALPN bool) []uint16 {
	for _, v := range vs {
		if isGREASE(v) || noSNIALPN && (v == 0x0000 || v == 0x0010) {
			continue
		}
		dst = append(dst, v)
	}
	return dst
}

// ja4Version is the highest supported_versions entry when the extension
// is there, else the legacy version.
func ja4Version(ch *clientHello) string {
	v := ch.version
	if slices.Contains(ch.exts.values(), 0x002b) {
		v = 0
		for _, sv := range ch.versions.values() {
			if !isGREASE(sv) && sv > v {
				v = sv
			}
		}
	}
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN is the first and last character of the first ALPN value, or of
// its hex form when either is not alphanumeric; "00" when there is none.
func ja4ALPN(alpn []string) [2]byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return [2]byte{'0', '0'}
	}
	v := alpn[0]
	if isAlnum(v[0]) && isAlnum(v[len(v)-1]) {
		return [2]byte{v[0], v[len(v)-1]}
	}
	const digits = "0123456789abcdef" // first and last hex digit of the bytes
	return [2]byte{digits[v[0]>>4], digits[v[len(v)-1]&0xf]}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// hexList is "002f,0035,…": 4 lower-case hex digits per value.
// appendHexList appends vs as 4-digit hex joined by commas.
func appendHexList(b []byte, vs []uint16) []byte {
	const digits = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

// ja4Hash is the first 12 hex digits of the SHA-256 of s, or twelve
// zeros for an empty list.
func ja4Hash(s string) string { return string(appendJA4Hash(nil, []byte(s))) }

// appendJA4Hash appends the first 12 hex digits of s's SHA-256, or
// twelve zeros for an empty list.
func appendJA4Hash(b, s []byte) []byte {
	if len(s) == 0 {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(s)
	return hex.AppendEncode(b, sum[:6])
}
