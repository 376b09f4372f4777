package dpi

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var clientMAC = net.HardwareAddr{0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56}

// dhcpMsg serialises a DHCPv4 message with gopacket.
func dhcpMsg(t testing.TB, op layers.DHCPOp, typ layers.DHCPMsgType, yiaddr net.IP, opts ...layers.DHCPOption) []byte {
	t.Helper()
	d := &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0xdeadbeef,
		ClientIP: net.IPv4zero, YourClientIP: yiaddr, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero, ClientHWAddr: clientMAC,
		Options: append([]layers.DHCPOption{layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)})}, opts...)}
	buf := gopacket.NewSerializeBuffer()
	if err := d.SerializeTo(buf, gopacket.SerializeOptions{FixLengths: true}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func dhcpFlows(t testing.TB) map[string]*Flow {
	params := layers.NewDHCPOption(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252})
	host := layers.NewDHCPOption(layers.DHCPOptHostname, []byte("DESKTOP-7\x00"))
	vendor := layers.NewDHCPOption(layers.DHCPOptClassID, []byte("MSFT 5.0"))
	ip := net.IPv4(192, 168, 1, 50).To4()
	server := []layers.DHCPOption{
		layers.NewDHCPOption(layers.DHCPOptServerID, []byte{192, 168, 1, 1}),
		layers.NewDHCPOption(layers.DHCPOptLeaseTime, u32(86400)),
		layers.NewDHCPOption(layers.DHCPOptDomainName, []byte("home.lan")),
	}
	return map[string]*Flow{
		"dora": udpFlow(
			[][]byte{
				dhcpMsg(t, layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover, net.IPv4zero, host, vendor, params),
				dhcpMsg(t, layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, net.IPv4zero, host, vendor, params,
					layers.NewDHCPOption(layers.DHCPOptRequestIP, ip)),
			},
			[][]byte{
				dhcpMsg(t, layers.DHCPOpReply, layers.DHCPMsgTypeOffer, ip, server...),
				dhcpMsg(t, layers.DHCPOpReply, layers.DHCPMsgTypeAck, ip, server...),
			}),
		"inform": udpFlow([][]byte{dhcpMsg(t, layers.DHCPOpRequest, layers.DHCPMsgTypeInform, net.IPv4zero, vendor)}, nil),
	}
}

func TestDHCPDecode(t *testing.T) {
	flows := dhcpFlows(t)
	discover := flows["dora"].Orig.Data[:flows["dora"].Orig.Ends[0]]
	tests := []struct {
		name  string
		f     *Flow
		want  *schema.DHCP
		names []string
	}{
		{"dora", flows["dora"], &schema.DHCP{MsgTypes: []string{"DISCOVER", "OFFER", "REQUEST", "ACK"}, ClientMAC: "3c:22:fb:12:34:56",
			Hostname: "DESKTOP-7", VendorClass: "MSFT 5.0", ParamList: "1,3,6,15,31,33,43,44,46,47,119,121,249,252",
			Requested: "192.168.1.50", Assigned: "192.168.1.50", Domain: "home.lan", LeaseSecs: 86400}, []string{"DESKTOP-7"}},
		{"inform", flows["inform"], &schema.DHCP{MsgTypes: []string{"INFORM"}, ClientMAC: "3c:22:fb:12:34:56", VendorClass: "MSFT 5.0"}, nil},
		// Cut inside the parameter list: the options before it are kept.
		{"options cut short", udpFlow([][]byte{discover[:240+3+12+10+5]}, nil), &schema.DHCP{MsgTypes: []string{"DISCOVER"},
			ClientMAC: "3c:22:fb:12:34:56", Hostname: "DESKTOP-7", VendorClass: "MSFT 5.0"}, []string{"DESKTOP-7"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			score, l7 := run(dhcpAnalyzer, tc.f)
			if score != 0.95 {
				t.Fatalf("Match %v", score)
			}
			if diff := cmp.Diff(tc.want, l7.DHCP); diff != "" {
				t.Errorf("DHCP (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.names, l7.Names); diff != "" {
				t.Errorf("Names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDHCPMatch(t *testing.T) {
	good := dhcpMsg(t, layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover, net.IPv4zero)
	badCookie := append([]byte(nil), good...)
	badCookie[236] = 0
	badOp := append([]byte(nil), good...)
	badOp[0] = 3
	tests := []struct {
		name string
		msg  []byte
		want float64
	}{
		{"discover", good, 0.95},
		{"no magic cookie (BOOTP or noise)", badCookie, 0},
		{"unknown op", badOp, 0},
		{"short", good[:200], 0},
	}
	for _, tc := range tests {
		if got := dhcpAnalyzer.Match(udpFlow([][]byte{tc.msg}, nil)); got != tc.want {
			t.Errorf("%s: Match %v, want %v", tc.name, got, tc.want)
		}
	}
}
