package audit

import (
	"strconv"
	"strings"
)

// Weak cipher classes, worst first when a suite has two (an export RC4
// suite is "export").
const (
	cipherNull   = "null"
	cipherAnon   = "anonymous"
	cipherExport = "export"
	cipherRC4    = "rc4"
	cipherDES    = "des"
	cipher3DES   = "3des"
)

// weakCipherIDs classifies the weak suites crypto/tls has no name for,
// which the DPI writes as "0x0003" (IANA TLS Cipher Suites registry).
var weakCipherIDs = map[uint16]string{
	// NULL encryption.
	0x0000: cipherNull, 0x0001: cipherNull, 0x0002: cipherNull, 0x002C: cipherNull, 0x002D: cipherNull,
	0x002E: cipherNull, 0x003B: cipherNull, 0x00B0: cipherNull, 0x00B1: cipherNull, 0x00B4: cipherNull,
	0x00B5: cipherNull, 0x00B8: cipherNull, 0x00B9: cipherNull, 0xC001: cipherNull, 0xC006: cipherNull,
	0xC00B: cipherNull, 0xC010: cipherNull, 0xC015: cipherNull, 0xC039: cipherNull, 0xC03A: cipherNull,
	0xC03B: cipherNull,
	// Anonymous (no authentication of the server).
	0x0018: cipherAnon, 0x001A: cipherAnon, 0x001B: cipherAnon, 0x0034: cipherAnon, 0x003A: cipherAnon,
	0x0046: cipherAnon, 0x006C: cipherAnon, 0x006D: cipherAnon, 0x0089: cipherAnon, 0x009B: cipherAnon,
	0x00A6: cipherAnon, 0x00A7: cipherAnon, 0xC016: cipherAnon, 0xC017: cipherAnon, 0xC018: cipherAnon,
	0xC019: cipherAnon,
	// Export grade (40- and 56-bit keys).
	0x0003: cipherExport, 0x0006: cipherExport, 0x0008: cipherExport, 0x000B: cipherExport, 0x000E: cipherExport,
	0x0011: cipherExport, 0x0014: cipherExport, 0x0017: cipherExport, 0x0019: cipherExport, 0x0026: cipherExport,
	0x0027: cipherExport, 0x0028: cipherExport, 0x0029: cipherExport, 0x002A: cipherExport, 0x002B: cipherExport,
	0x0060: cipherExport, 0x0061: cipherExport, 0x0062: cipherExport, 0x0063: cipherExport, 0x0064: cipherExport,
	0x0065: cipherExport,
	// RC4.
	0x0004: cipherRC4, 0x0005: cipherRC4, 0x0020: cipherRC4, 0x0024: cipherRC4, 0x0066: cipherRC4,
	0x008A: cipherRC4, 0x008E: cipherRC4, 0x0092: cipherRC4, 0xC002: cipherRC4, 0xC007: cipherRC4,
	0xC00C: cipherRC4, 0xC011: cipherRC4, 0xC033: cipherRC4,
	// Single DES.
	0x0009: cipherDES, 0x000C: cipherDES, 0x000F: cipherDES, 0x0012: cipherDES, 0x0015: cipherDES,
	0x001E: cipherDES, 0x0022: cipherDES,
	// Triple DES (Sweet32).
	0x000A: cipher3DES, 0x000D: cipher3DES, 0x0010: cipher3DES, 0x0013: cipher3DES, 0x0016: cipher3DES,
	0x001F: cipher3DES, 0x0023: cipher3DES, 0x008B: cipher3DES, 0x008F: cipher3DES, 0x0093: cipher3DES,
	0xC003: cipher3DES, 0xC008: cipher3DES, 0xC00D: cipher3DES, 0xC012: cipher3DES, 0xC01A: cipher3DES,
	0xC01B: cipher3DES, 0xC01C: cipher3DES, 0xC034: cipher3DES,
}

// weakCipher returns the class of a weak suite by its name as the DPI
// writes it (crypto/tls's name, or the id in hex), or "".
func weakCipher(name string) string {
	if hex, ok := strings.CutPrefix(name, "0x"); ok {
		id, err := strconv.ParseUint(hex, 16, 16)
		if err != nil {
			return ""
		}
		return weakCipherIDs[uint16(id)]
	}
	switch {
	case strings.Contains(name, "_NULL_"):
		return cipherNull
	case strings.Contains(name, "_anon_"):
		return cipherAnon
	case strings.Contains(name, "EXPORT"):
		return cipherExport
	case strings.Contains(name, "_RC4_"):
		return cipherRC4
	case strings.Contains(name, "_3DES_"):
		return cipher3DES
	case strings.Contains(name, "_DES_") || strings.Contains(name, "_DES40_"):
		return cipherDES
	}
	return ""
}
