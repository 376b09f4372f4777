package dpi

import (
	"testing"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// bacnetCases are BACnet/IP datagrams (ANSI/ASHRAE 135 Annex J, clauses
// 6, 20, 21). Who-Is and the Distech I-Am (device 30185, vendor 364), the
// second I-Am (device 8, vendor 502) and the ReadProperty exchange with a
// KNX gateway (device 11712, object-name) are bytes published with open
// source BACnet tools; the others are laid out from the standard.
var bacnetCases = []otCase{
	{
		name:  "who-is answered by i-am",
		orig:  "810b000c | 0120ffff00ff | 1008",
		resp:  "810b0019 | 0120ffff00ff | 1000 c4020075e9 2205c4 9100 22016c",
		udp:   true,
		match: 1,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"who-is", "i-am"}, Units: []uint32{30185}, Vendor: "Distech Controls"},
	},
	{
		name:  "i-am with a vendor id outside the table",
		orig:  "810b0019 | 0120ffff00ff | 1000 c402000008 2205c4 9103 2201f6",
		udp:   true,
		match: 0.9,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"i-am"}, Units: []uint32{8}, Vendor: "vendor-502"},
	},
	{
		name:  "read-property object-name of a KNX gateway",
		orig:  "810a0011 | 0104 | 0005010c 0c020004d2 194d",
		resp:  "810a0026 | 0100 | 309d0c 0c02002dc0 194d 3e 7512 00 4b4e58204761746577617920332e657467 3f",
		udp:   true,
		match: 1,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"read-property"}, Units: []uint32{11712}, Name: "KNX Gateway 3.etg"},
	},
	{
		name: "read-property-multiple of the device's identification",
		orig: "810a001c | 0104 | 0005050e 0c02000064 1e 0979 0946 092c 0a0174 094d 1f",
		resp: "810a0071 | 0100 | 30050e 0c02000064 1e" +
			"2979 4e 7517 00 41636d65204275696c64696e6720436f6e74726f6c73 4f" +
			"2946 4e 7518 00 41432d373030204669656c6420436f6e74726f6c6c6572 4f" +
			"292c 4e 7506 00 332e342e31 4f" +
			"2a0174 4e 750b 00 4143372d303030313233 4f" +
			"294d 5e 9102 9120 5f 1f", // object-name: error unknown-property
		udp:   true,
		match: 1,
		want: &schema.Industrial{
			Protocol: "bacnet", Functions: []string{"read-property-multiple"}, Units: []uint32{100},
			Vendor: "Acme Building Controls", Product: "AC-700 Field Controller", Version: "3.4.1", Serial: "AC7-000123",
		},
	},
	{
		name:  "forwarded i-am from a routed network",
		orig:  "8104001e | c0a8010abac0 | 01080005010a | 1000 c40203f7a1 2201e0 9103 2108",
		udp:   true,
		match: 0.9,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"i-am"}, Units: []uint32{260001}, Vendor: "Delta Controls"},
	},
	{
		name:  "read-property refused with an error, then a reject",
		orig:  "810a0011 | 0104 | 0005010c 0c020004d2 194d",
		resp:  "810a000d | 0100 | 50070c 9102 9120, 810a0009 | 0100 | 600802",
		udp:   true,
		match: 1,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"read-property"}, Exceptions: 2},
	},
	{
		name:  "who-is-router-to-network",
		orig:  "810b0007 | 018000",
		udp:   true,
		match: 0.9,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"who-is-router-to-network"}},
	},
	{
		name:  "foreign device registration acknowledged",
		orig:  "81050006 003c",
		resp:  "81000006 0000",
		udp:   true,
		match: 1,
		want:  &schema.Industrial{Protocol: "bacnet", Functions: []string{"register-foreign-device", "bvlc-result"}},
	},
	{name: "BVLC length wrong", orig: "810b000d | 0120ffff00ff | 1008", udp: true},
	{name: "NPDU version 2", orig: "810b000c | 0220ffff00ff | 1008", udp: true},
	{name: "APDU type 9", orig: "810a0008 | 0100 | 9001", udp: true},
	{name: "DNS query", orig: "12340100000100000000000003777777076578616d706c6503636f6d0000010001", udp: true},
	{name: "random bytes", orig: "8f3a1c99e0447b21d5c3a8b7f0e1d2c3b4a59687", udp: true},
}

func TestBACnet(t *testing.T) { otTable(t, bacnetAnalyzer, bacnetCases) }

func TestBACnetCharacterSets(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"00 4148552d31", "AHU-1"},
		{"05 43616ffc", "Cao\u00fc"},         // ISO 8859-1
		{"04 00410048005500b0", "AHU\u00b0"}, // UCS-2
		{"03 00000041", ""},                  // UCS-4: not decoded
	} {
		if got := bacnetString(otHex(t, c.in)); got != c.want {
			t.Errorf("bacnetString(%s) = %q, want %q", c.in, got, c.want)
		}
	}
}

func bacnetSeeds(t testing.TB) []otSeed { return otCaseSeeds(t, bacnetCases) }
