package flowlog

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"net/netip"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// v2Lines are default-format lines the fast path takes, lines it leaves
// to the general path, and lines both must reject.
var v2Lines = []string{
	acceptLine,
	strings.Replace(acceptLine, "ACCEPT", "REJECT", 1),
	"2 123456789010 eni-1 0.0.0.0 255.255.255.255 0 65535 255 0 0 0 253402300799 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 17 999999999999999999 999999999999999999 1700000000 1700000000 REJECT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 17 9999999999999999999 1 1700000000 1700000000 REJECT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 17 9223372036854775808 1 1700000000 1700000000 REJECT OK",
	"255 1 e 1.2.3.4 5.6.7.8 1 2 1 1 1 1 1 ACCEPT OK",
	"256 1 e 1.2.3.4 5.6.7.8 1 2 1 1 1 1 1 ACCEPT OK",
	"0002 1 e 1.2.3.4 5.6.7.8 00001 002 06 01 01 01 01 ACCEPT OK",
	"2 123456789010 eni-1 01.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4. 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4.5 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1..3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.256 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.1000 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 2001:db8::1 2001:db8::2 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 ::ffff:1.2.3.4 1.2.3.4 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 65536 6 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 256 1 1 1 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 2 1 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 253402300800 ACCEPT OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ALLOW OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT NODATA",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK ",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OKAY",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPTS OK",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT",
	"2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK extra",
	" 2 123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2  123456789010 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 123456789010\teni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 - eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 - 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 -- 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 e - 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 e 1.2.3.4 5.6.7.8 - - - - - - - - OK",
	"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
	"- 1 e 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 e 1.2.3.4 5.6.7.8 +1 2 6 1 1 1 1 ACCEPT OK",
	"2 1 e 1.2.3.4 5.6.7.8 1 2 6 1 1 1 1 accept OK",
	defaultHeader,
	"",
}

// checkV2 holds vpcV2 to the general path on one line: when it takes the
// line, vpcRecord takes it too and gives the same session and hash.
func checkV2(t *testing.T, r *Reader, line []byte) {
	t.Helper()
	s, h, ok := r.vpcV2(line)
	if !ok {
		return
	}
	fast, fastFlow := *s, *s.Flow
	tok, _ := splitFields(line, nil, maxVPCFields)
	g, gh, err := r.vpcRecord(r.vpcDef, tok)
	if err != nil {
		t.Fatalf("%q: taken by the fast path, rejected by the general one: %v", line, err)
	}
	fast.Flow = &fastFlow
	if diff := cmp.Diff(*g, fast, cmpopts.EquateComparable(netip.Addr{})); diff != "" || gh != h {
		t.Fatalf("%q: fast path differs (hash %x, want %x):\n%s", line, h, gh, diff)
	}
}

func TestVPCv2SameAsGeneral(t *testing.T) {
	r, err := New(DefaultConfig(), &memSink{}, &memRejects{})
	if err != nil {
		t.Fatal(err)
	}
	taken := 0
	for _, line := range append(v2Lines, strings.Split(string(vpcLines(2000, false)), "\n")...) {
		checkV2(t, r, []byte(line))
		if _, _, ok := r.vpcV2([]byte(line)); ok {
			taken++
		}
	}
	if taken < 2000 {
		t.Errorf("the fast path took %d lines", taken)
	}
}

// Reading with and without the fast path gives the same sessions (uid and
// community_id included), the same rejects and the same counts.
func TestVPCv2SameRead(t *testing.T) {
	text := strings.Join(v2Lines, "\n") + "\n" + string(vpcLines(3000, false)[len(defaultHeader)+1:])
	read := func(v2 bool) ([]schema.Session, []collect.BadInput, Stats) {
		sink, rej := &memSink{}, &memRejects{}
		cfg := DefaultConfig()
		cfg.Batch = 100
		r, err := New(cfg, sink, rej)
		if err != nil {
			t.Fatal(err)
		}
		r.vpcDef.v2 = v2 // text has one header, the default one: the fast path stays off after it
		st, err := r.Read(context.Background(), "v2.log", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return sink.got, rej.got, st
	}
	fs, fr, fst := read(true)
	gs, gr, gst := read(false)
	if fst != gst || len(fs) < 3000 {
		t.Fatalf("stats %+v, without the fast path %+v", fst, gst)
	}
	if diff := cmp.Diff(gs, fs, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("sessions differ:\n%s", diff)
	}
	sameText := cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error()) })
	if diff := cmp.Diff(gr, fr, sameText); diff != "" {
		t.Errorf("rejects differ:\n%s", diff)
	}
}

func FuzzVPCv2SameAsGeneral(f *testing.F) {
	for _, line := range v2Lines {
		f.Add([]byte(line))
	}
	r, err := New(DefaultConfig(), &memSink{}, &memRejects{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return // readVPC never passes one on
		}
		checkV2(t, r, line)
	})
}

// v2num reads what parseUint reads, in the 8-byte words and in the tail of
// the line, whatever follows the digits.
func TestV2Num(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		num := make([]byte, rng.IntN(21))
		for i := range num {
			num[i] = '0' + byte(rng.IntN(10))
		}
		if len(num) > 0 && rng.IntN(8) == 0 {
			num[rng.IntN(len(num))] = "/:a \x00\xb0"[rng.IntN(6)]
		}
		after := []string{" ", " 1234567890 ACCEPT OK", "", "x ", ": "}[rng.IntN(5)]
		lead := strings.Repeat("9 ", rng.IntN(3))
		line := []byte(lead + string(num) + after)
		maxDigits := 1 + rng.IntN(18)
		v, next, ok := v2num(line, len(lead), maxDigits)
		tok, _, found := bytes.Cut(line[len(lead):], []byte(" "))
		want, err := parseUint(tok, 1<<63-1)
		wantOK := found && err == nil && len(tok) <= maxDigits
		if ok != wantOK || (ok && (v != want || next != len(lead)+len(tok)+1)) {
			t.Fatalf("v2num(%q, %d, %d) = %d, %d, %v; want %d, %v", line, len(lead), maxDigits, v, next, ok, want, wantOK)
		}
	}
}
