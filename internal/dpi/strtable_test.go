package dpi

import (
	"strconv"
	"testing"
	"unsafe"
)

func TestStrTable(t *testing.T) {
	var tab strTable
	a, b := tab.str([]byte("example.com")), tab.str([]byte("example.com"))
	if a != "example.com" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("equal bytes gave %q and %q, not one string", a, b)
	}
	var none *strTable
	if s := none.str([]byte("x")); s != "x" {
		t.Errorf("nil table: %q", s)
	}
	for i := range 3 * maxInterned {
		tab.str([]byte(strconv.Itoa(i)))
	}
	if n := len(tab.m); n > maxInterned {
		t.Errorf("%d strings interned, bound %d", n, maxInterned)
	}

	key := []byte{1, 2, 3}
	if _, ok := tab.lookup(key); ok {
		t.Error("lookup found a key never stored")
	}
	if s := tab.store(key, []byte("fp")); s != "fp" {
		t.Errorf("store returned %q", s)
	}
	if s, ok := tab.lookup(key); !ok || s != "fp" {
		t.Errorf("lookup = %q, %v", s, ok)
	}
}

func TestU16ListSpills(t *testing.T) {
	var l u16List
	var want []uint16
	for i := range 3 * len(l.fix) {
		l.add(uint16(i))
		want = append(want, uint16(i))
		if got := l.values(); len(got) != len(want) || got[len(got)-1] != want[len(want)-1] || got[0] != 0 {
			t.Fatalf("after %d values: %v", i+1, got)
		}
	}
}

// TestJA4Memo checks that a fingerprint found by its inputs is the one
// computed, for hellos whose lists fit u16List and ones that spill.
func TestJA4Memo(t *testing.T) {
	tab := &strTable{}
	for _, hello := range [][]byte{
		specHello(true, true, []uint16{0x0403, 0x0804}),
		specHello(false, false, nil),
		manyCiphersHello(200),
	} {
		want := decodeTLSFlow(t, tcpFlow(hello, nil)).TLS.JA4
		for range 2 { // computed, then from the table
			f := tcpFlow(hello, nil)
			f.strs = tab
			l7 := newTLSL7()
			decodeTLS(f, l7)
			if l7.TLS.JA4 != want {
				t.Errorf("JA4 %s with the table, %s without", l7.TLS.JA4, want)
			}
		}
	}
}

// manyCiphersHello is a ClientHello offering n cipher suites, more than
// u16List holds in place, and no extensions.
func manyCiphersHello(n int) []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0, byte(2*n>>8), byte(2*n))
	for i := range n {
		body = append(body, byte(0x10+i>>8), byte(i))
	}
	body = append(body, 1, 0)
	msg := append([]byte{tlsClientHello, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}
