package dpi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

type mqttCase struct {
	name       string
	orig, resp string // hex
	cut        bool   // the client side was cut at the buffer limit
	match      float64
	want       *schema.MQTT
}

func mqttCode(v uint8) *uint8 { return &v }

// mqttCases are CONNECT and CONNACK packets laid out as OASIS MQTT 3.1.1
// §3.1–3.2 and MQTT 5.0 §3.1–3.2 describe them; the 3.1.1 connect flags
// 0xCE and keep-alive 10 are the spec's own example (figure 3.6), the 5.0
// properties its session expiry example (§3.1.2.11).
var mqttCases = []mqttCase{
	{
		name:  "3.1.1 connect with will, user and password",
		orig:  "10 3f | 0004 4d515454 | 04 | ce | 000a | 0009 73656e736f722d3137 | 0010 7374617475732f73656e736f722d3137 | 0007 6f66666c696e65 | 0005 706c616e74 | 0006 736563726574",
		resp:  "20 02 00 00",
		match: 1,
		want:  &schema.MQTT{ClientID: "sensor-17", ProtocolLevel: 4, Username: "plant", ConnAck: mqttCode(0)},
	},
	{
		name:  "5.0 connect with session expiry property, refused",
		orig:  "10 1e | 0004 4d515454 | 05 | c2 | 000a | 05 11 0000000a | 0005 6465762d35 | 0002 7535 | 0001 70",
		resp:  "20 03 00 87 00", // reason 0x87 not authorized, no properties
		match: 1,
		want:  &schema.MQTT{ClientID: "dev-5", ProtocolLevel: 5, Username: "u5", ConnAck: mqttCode(0x87)},
	},
	{
		name:  "5.0 connect with will properties",
		orig:  "10 27 | 0004 4d515454 | 05 | 86 | 003c | 00 | 0007 656467652d6777 | 02 0101 | 0003 6c7774 | 0004 676f6e65 | 0003 6f7073",
		match: 1,
		want:  &schema.MQTT{ClientID: "edge-gw", ProtocolLevel: 5, Username: "ops"},
	},
	{
		name:  "3.1 MQIsdp connect",
		orig:  "10 1f | 0006 4d5149736470 | 03 | 02 | 003c | 0011 6d6f73717075622f313233342d686f7374",
		resp:  "20 02 00 00",
		match: 1,
		want:  &schema.MQTT{ClientID: "mosqpub/1234-host", ProtocolLevel: 3, ConnAck: mqttCode(0)},
	},
	{
		name:  "mosquitto bridge sets bit 7 of the level",
		orig:  "10 14 | 0004 4d515454 | 84 | 02 | 003c | 0008 6272696467652d61",
		match: 1,
		want:  &schema.MQTT{ClientID: "bridge-a", ProtocolLevel: 4},
	},
	{
		name:  "connect cut after the keep-alive",
		orig:  "10 3f | 0004 4d515454 | 04 | ce | 000a",
		cut:   true,
		match: 0.9,
		want:  &schema.MQTT{ProtocolLevel: 4},
	},
	{
		name:  "mid-session publishes, subscribe and ping",
		orig:  "30 16 0010 706c616e742f6c696e65312f74656d70 32312e35 | 82 0a 0001 0005 636d642f23 01 | c0 00 | 30 16 0010 706c616e742f6c696e65312f74656d70 32312e35",
		match: 0.3,
	},
	{name: "MQTT name with level 3", orig: "10 14 | 0004 4d515454 | 03 | 02 | 003c | 0008 6272696467652d61"},
	{name: "reserved connect flag set", orig: "10 14 | 0004 4d515454 | 04 | 03 | 003c | 0008 6272696467652d61"},
	{name: "HTTP request", orig: "474554202f20485454502f312e310d0a486f73743a20610d0a0d0a"},
	{name: "TLS client hello start", orig: "16030100a5010000a10303"},
	{name: "random bytes", orig: "8f3a1c99e0447b21d5c3a8b7f0e1d2c3b4a59687"},
	{name: "server bytes only, not a connack", resp: "2002ff00"},
}

func (c mqttCase) flow(t testing.TB) *Flow {
	f := otTCP(otHex(t, c.orig), otHex(t, c.resp))
	f.Orig.Complete = !c.cut
	return f
}

func TestMQTT(t *testing.T) {
	for _, c := range mqttCases {
		t.Run(c.name, func(t *testing.T) {
			m, l7 := otRun(t, mqttAnalyzer, c.flow(t))
			if m != c.match {
				t.Errorf("Match = %v, want %v", m, c.match)
			}
			if c.match == 0 {
				return
			}
			if diff := cmp.Diff(c.want, l7.MQTT); diff != "" {
				t.Errorf("MQTT (-want +got):\n%s", diff)
			}
			if js, _ := json.Marshal(l7); strings.Contains(string(js), "secret") {
				t.Errorf("the password leaked into %s", js)
			}
		})
	}
}

func mqttSeeds(t testing.TB) []otSeed {
	var seeds []otSeed
	for _, c := range mqttCases {
		seeds = append(seeds, otSeed{name: c.name, orig: otHex(t, c.orig), resp: otHex(t, c.resp)})
	}
	return seeds
}
