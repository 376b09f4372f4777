package devices

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var uidSeq atomic.Int64

// sess builds a final, answered session from "ip" or "ip/mac" specs.
func sess(orig, resp string, proto uint8, port uint16, app string, at time.Time, opts ...func(*schema.Session)) *schema.Session {
	seq := uidSeq.Add(1)
	s := &schema.Session{Version: 1, UID: fmt.Sprintf("C%d", seq), Final: true, EndReason: "fin", Source: "pcap",
		Start: at, End: at.Add(2 * time.Second), Orig: endpoint(orig), Resp: endpoint(resp), Proto: proto, App: app,
		OrigPkts: 5, RespPkts: 5, OrigBytes: 400, RespBytes: 1600, OrigIPBytes: 600, RespIPBytes: 1800}
	s.Orig.Port = 40000 + uint16(seq%20000)
	s.Resp.Port = port
	switch proto {
	case 6:
		s.Transport, s.ConnState, s.History = "tcp", "SF", "ShADadFf"
	case 17:
		s.Transport, s.ConnState, s.History = "udp", "SF", "Dd"
	default:
		s.Transport, s.ConnState = "icmp", "OTH"
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func endpoint(spec string) schema.Endpoint {
	ip, mac, _ := strings.Cut(spec, "/")
	return schema.Endpoint{IP: netip.MustParseAddr(ip), MAC: mac}
}

func withL7(l7 *schema.L7) func(*schema.Session) { return func(s *schema.Session) { s.L7 = l7 } }

func withState(state string, respPkts uint64) func(*schema.Session) {
	return func(s *schema.Session) { s.ConnState, s.RespPkts = state, respPkts }
}

func withSYN(origTTL uint8, origSig string, respTTL uint8, respSig string) func(*schema.Session) {
	return func(s *schema.Session) {
		s.Orig.TTL, s.Orig.TCPSig, s.Resp.TTL, s.Resp.TCPSig = origTTL, origSig, respTTL, respSig
	}
}

func withPorts(orig uint16) func(*schema.Session) {
	return func(s *schema.Session) { s.Orig.Port = orig }
}

func withAsset(orig string) func(*schema.Session) {
	return func(s *schema.Session) { s.Orig.Asset = orig }
}

func withMirror(kind string, src string, vni uint32) func(*schema.Session) {
	return func(s *schema.Session) {
		s.Mirror = &schema.Mirror{Kind: kind, Source: netip.MustParseAddr(src), VNI: vni}
		s.Source = kind
	}
}

func withBytes(ob, rb uint64) func(*schema.Session) {
	return func(s *schema.Session) { s.OrigIPBytes, s.RespIPBytes = ob, rb }
}

func dhcpAck(clientMAC, ip, host, prl, vendorClass string, at time.Time) *schema.Session {
	return sess("0.0.0.0/"+clientMAC, "255.255.255.255/ff:ff:ff:ff:ff:ff", 17, 67, "dhcp", at, withPorts(68),
		withState("S0", 0), withL7(&schema.L7{By: "content", Confidence: 1, DHCP: &schema.DHCP{
			MsgTypes: []string{"DISCOVER", "OFFER", "REQUEST", "ACK"}, ClientMAC: clientMAC, Hostname: host,
			ParamList: prl, VendorClass: vendorClass, Assigned: ip, LeaseSecs: 86400}}))
}

func newTestInventory(t testing.TB, mod func(*Config)) (*Inventory, *time.Time) {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	inv := New(cfg, IEEE)
	clock := t0
	inv.now = func() time.Time { return clock }
	return inv, &clock
}

// byID returns the devices and their decoded profiles by id.
func byID(t testing.TB, devs []schema.Device) (map[string]schema.Device, map[string]Profile) {
	t.Helper()
	out, profs := map[string]schema.Device{}, map[string]Profile{}
	for _, d := range devs {
		var p Profile
		if err := json.Unmarshal(d.Attributes, &p); err != nil {
			t.Fatalf("%s: attributes: %v", d.ID, err)
		}
		out[d.ID], profs[d.ID] = d, p
	}
	return out, profs
}

func ids(devs []schema.Device) []string {
	var out []string
	for _, d := range devs {
		out = append(out, d.ID)
	}
	return out
}
