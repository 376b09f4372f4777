// JA4, FoxIO's TLS client fingerprint, for TLS over TCP, as specified in
// github.com/FoxIO-LLC/ja4 technical_details/JA4.md:
//
//	t 13 d 15 16 h2 _ sha256(sorted ciphers)[:12] _ sha256(sorted extensions "_" signature algorithms)[:12]
//
// GREASE values (RFC 8701) are ignored everywhere.

package dpi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// clientHello is what JA4 and schema.TLS need of a ClientHello.
type clientHello struct {
	version  uint16 // legacy_version
	ciphers  []uint16
	exts     []uint16 // extension types, in order
	sni      string
	alpn     []string
	versions []uint16 // supported_versions
	sigAlgs  []uint16
}

// isGREASE reports the reserved 0x?a?a values with both bytes equal.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// ja4 computes the fingerprint of a complete ClientHello.
func ja4(ch *clientHello) string {
	ciphers := withoutGREASE(ch.ciphers, false)
	exts := withoutGREASE(ch.exts, false)
	sni := "i"
	if slices.Contains(exts, 0x0000) {
		sni = "d"
	}
	a := fmt.Sprintf("t%s%s%02d%02d%s", ja4Version(ch), sni, min(len(ciphers), 99), min(len(exts), 99), ja4ALPN(ch.alpn))

	slices.Sort(ciphers)
	b := ja4Hash(hexList(ciphers))

	sorted := withoutGREASE(ch.exts, true)
	slices.Sort(sorted)
	c := "000000000000"
	if len(sorted) > 0 {
		s := hexList(sorted)
		if sigs := withoutGREASE(ch.sigAlgs, false); len(sigs) > 0 {
			s += "_" + hexList(sigs)
		}
		c = ja4Hash(s)
	}
	return a + "_" + b + "_" + c
}

// withoutGREASE copies vs less GREASE values and, if noSNIALPN, less the
// SNI (0x0000) and ALPN (0x0010) extensions that part a already shows.
func withoutGREASE(vs []uint16, noSNIALPN bool) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if isGREASE(v) || noSNIALPN && (v == 0x0000 || v == 0x0010) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// ja4Version is the highest supported_versions entry when the extension
// is there, else the legacy version.
func ja4Version(ch *clientHello) string {
	v := ch.version
	if slices.Contains(ch.exts, 0x002b) {
		v = 0
		for _, sv := range ch.versions {
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
func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	v := alpn[0]
	if isAlnum(v[0]) && isAlnum(v[len(v)-1]) {
		return string([]byte{v[0], v[len(v)-1]})
	}
	h := hex.EncodeToString([]byte(v))
	return string([]byte{h[0], h[len(h)-1]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// hexList is "002f,0035,…": 4 lower-case hex digits per value.
func hexList(vs []uint16) string {
	var sb strings.Builder
	sb.Grow(5 * len(vs))
	for i, v := range vs {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "%04x", v)
	}
	return sb.String()
}

// ja4Hash is the first 12 hex digits of the SHA-256 of s, or twelve
// zeros for an empty list.
func ja4Hash(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
