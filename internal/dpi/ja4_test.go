package dpi

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// specHello builds the ClientHello of FoxIO's JA4 example
// (technical_details/JA4.md): its ciphers and extensions in their
// original order, with GREASE values added that JA4 must ignore.
func specHello(sni, alpn bool, sigAlgs []uint16) []byte {
	ciphers := []uint16{0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	exts := []uint16{0x1a1a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x2a2a}
	var b cryptobyte.Builder
	b.AddUint8(tlsClientHello)
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0x0303)
		b.AddBytes(make([]byte, 32))
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range ciphers {
				b.AddUint16(c)
			}
		})
		b.AddUint8(1)
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range exts {
				if e == 0x0000 && !sni || e == 0x0010 && !alpn {
					continue
				}
				b.AddUint16(e)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { specExtension(b, e, sigAlgs) })
			}
		})
	})
	return tlsRecords(b.BytesOrPanic(), 1<<14)
}

func specExtension(b *cryptobyte.Builder, typ uint16, sigAlgs []uint16) {
	switch typ {
	case 0x0000:
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8(0)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("example.com")) })
		})
	case 0x0010:
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, p := range []string{"h2", "http/1.1"} {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(p)) })
			}
		})
	case 0x002b:
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, v := range []uint16{0x5a5a, 0x0304, 0x0303} {
				b.AddUint16(v)
			}
		})
	case 0x000d:
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, v := range sigAlgs {
				b.AddUint16(v)
			}
		})
	}
}

// tlsRecords wraps handshake messages in records of at most n bytes.
func tlsRecords(hs []byte, n int) []byte {
	var out []byte
	for len(hs) > 0 {
		c := min(n, len(hs))
		out = append(out, 22, 3, 1, byte(c>>8), byte(c))
		out = append(out, hs[:c]...)
		hs = hs[c:]
	}
	return out
}

// TestJA4Spec checks the values published in FoxIO's JA4.md.
func TestJA4Spec(t *testing.T) {
	sigs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	tests := []struct {
		name  string
		hello []byte
		want  string
	}{
		{"example", specHello(true, true, sigs), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"GREASE in the signature algorithms", specHello(true, true, append([]uint16{0x6a6a}, sigs...)), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
		{"no signature algorithms", specHello(true, true, nil), "t13d1516h2_8daaf6152771_6d807ffa2a79"},
		{"no SNI: to an address", specHello(false, true, sigs), "t13i1515h2_8daaf6152771_e5627efa2ab1"},
		{"no ALPN", specHello(true, false, sigs), "t13d151500_8daaf6152771_e5627efa2ab1"},
		{"split over records", tlsRecords(specHello(true, true, sigs)[5:], 100), "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l7 := decodeTLSFlow(t, tcpFlow(tc.hello, nil))
			if l7.TLS.JA4 != tc.want {
				t.Errorf("JA4 %s, want %s", l7.TLS.JA4, tc.want)
			}
		})
	}
}

func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		name string
		alpn []string
		want string
	}{
		{"h2", []string{"h2", "http/1.1"}, "h2"},
		{"http/1.1", []string{"http/1.1"}, "h1"},
		{"none", nil, "00"},
		{"empty first", []string{""}, "00"},
		{"one character", []string{"x"}, "xx"},
		// The hex examples of JA4.md.
		{"0xAB", []string{"\xab"}, "ab"},
		{"0x20", []string{"\x20"}, "20"},
		{"0x20 0x61", []string{"\x20\x61"}, "21"},
		{"0x61 0x20", []string{"\x61\x20"}, "60"},
		{"0xAB 0xCD", []string{"\xab\xcd"}, "ad"},
		{"0x30 0xAB", []string{"\x30\xab"}, "3b"},
		{"0x30 0x31 0xAB 0xCD", []string{"\x30\x31\xab\xcd"}, "3d"},
		{"0x30 0xAB 0xCD 0x31", []string{"\x30\xab\xcd\x31"}, "01"},
	}
	for _, tc := range tests {
		if got := ja4ALPN(tc.alpn); string(got[:]) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestJA4Hashes(t *testing.T) {
	// The cipher list of JA4.md, sorted, and its published hash.
	if got := ja4Hash("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"); got != "8daaf6152771" {
		t.Errorf("cipher hash %s", got)
	}
	if got := ja4Hash(""); got != "000000000000" {
		t.Errorf("empty list hash %s", got)
	}
	for v, want := range map[uint16]bool{0x0a0a: true, 0xfafa: true, 0x1a2a: false, 0x0303: false, 0xaaaa: true} {
		if isGREASE(v) != want {
			t.Errorf("isGREASE(%#04x) = %v", v, !want)
		}
	}
}
