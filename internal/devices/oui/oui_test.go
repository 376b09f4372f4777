package oui

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		mac, want string
		ok        bool
	}{
		{"00:0b:82:1a:2b:3c", "Grandstream Networks, Inc.", true},
		{"90-B1-1C-00-00-01", "Dell Inc.", true},
		{"0011.3201.0203", "Synology Incorporated", true},
		{"70:b3:d5:f2:f0:01", "TELEPLATFORMS", true},               // MA-S 70B3D5F2F
		{"70:b3:d5:1e:c0:01", "IEEE Registration Authority", true}, // no MA-S there: the MA-L parent
		{"20:85:93:b1:23:45", "IOG Products LLC", true},            // MA-M 208593B
		{"00:50:c2:7d:50:00", "DEUTA-WERKE GmbH", true},            // IAB 0050C27D5
		{"08:00:30:00:00:01", "CERN / NETWORK RESEARCH CORPORATION / ROYAL MELBOURNE INST OF TECH", true},
		{"fc:ff:ff:00:00:01", "", false},
		{"01:00:5e:00:00:fb", "", false}, // IPv4 multicast: a group address, not an assignment
		{"00:0b:82:1a:2b", "", false},
		{"00:0b:82-1a:2b:3c", "", false},
		{"00:0g:82:1a:2b:3c", "", false},
	} {
		got, ok := LookupString(c.mac)
		if got != c.want || ok != c.ok {
			t.Errorf("LookupString(%q) = %q, %v; want %q, %v", c.mac, got, ok, c.want, c.ok)
		}
	}
}

func TestKind(t *testing.T) {
	for _, c := range []struct{ mac, want string }{
		{"00:11:32:00:00:01", "universal"},
		{"da:a1:19:00:00:01", "local"}, // a phone's randomised address
		{"01:00:5e:00:00:fb", "multicast"},
		{"33:33:00:00:00:01", "multicast"},
		{"ff:ff:ff:ff:ff:ff", "multicast"},
	} {
		mac, ok := ParseMAC(c.mac)
		if !ok {
			t.Fatalf("ParseMAC(%q) failed", c.mac)
		}
		if got := Kind(mac); got != c.want {
			t.Errorf("Kind(%s) = %q, want %q", c.mac, got, c.want)
		}
	}
}

func TestData(t *testing.T) {
	// ieee-data 20220827.1: 32530 MA-L, 4390 MA-M, 5029 MA-S and 4575 IAB
	// rows; 080030 has three holders and 0001C8 two, one prefix each.
	if n := Len(); n != 46521 {
		t.Errorf("Len() = %d, want 46521", n)
	}
	if s := Source(); !strings.Contains(s, "2022-08-27") || !strings.Contains(s, "20220827.1") {
		t.Errorf("Source() = %q, want the date and package version", s)
	}
	if _, err := parse([]byte("not gzip")); err == nil {
		t.Error("parse accepted bytes that are not gzip")
	}
}

func BenchmarkLookup(b *testing.B) {
	macs := [][6]byte{
		{0x00, 0x11, 0x32, 0x01, 0x02, 0x03},
		{0x70, 0xb3, 0xd5, 0xf2, 0xf0, 0x01},
		{0xfc, 0xff, 0xff, 0x00, 0x00, 0x01},
	}
	Lookup(macs[0]) // load outside the timing
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Lookup(macs[i%len(macs)])
	}
}

func TestLookupAllocs(t *testing.T) {
	mac := [6]byte{0x90, 0xb1, 0x1c, 0, 0, 1}
	Lookup(mac)
	if n := testing.AllocsPerRun(100, func() { Lookup(mac); LookupString("90:b1:1c:00:00:01") }); n != 0 {
		t.Errorf("Lookup allocates %v times", n)
	}
}
