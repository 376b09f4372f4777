// DHCPv4 (RFC 2131/2132) decoded with gopacket's layers.DHCPv4; Match
// checks the BOOTP header by hand so it allocates nothing.

package dpi

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/osprey-ndr/osprey/internal/schema"
)

var dhcpAnalyzer = Analyzer{
	App: "dhcp", Proto: 17, Ports: []uint16{67, 68},
	Match: func(f *Flow) float64 {
		s := &f.Orig
		if len(s.Data) == 0 {
			s = &f.Resp
		}
		if isDHCP(s.Data) {
			return 0.95
		}
		return 0
	},
	Decode: decodeDHCP,
	Enough: dhcpEnough,
}

// dhcpEnough waits for the end of an exchange: an ACK or NAK, or a
// DECLINE or RELEASE, which get no answer.
func dhcpEnough(f *Flow) bool {
	done := false
	for _, s := range []*Side{&f.Orig, &f.Resp} {
		s.Msgs(func(m []byte) bool {
			switch dhcpType(m) {
			case layers.DHCPMsgTypeAck, layers.DHCPMsgTypeNak, layers.DHCPMsgTypeDecline, layers.DHCPMsgTypeRelease:
				done = true
			}
			return !done
		})
	}
	return done
}

// dhcpType walks the options field for the message type (option 53)
// without decoding the message; 0 when there is none.
func dhcpType(b []byte) layers.DHCPMsgType {
	if !isDHCP(b) {
		return 0
	}
	for o := b[240:]; len(o) > 0 && o[0] != 255; {
		if o[0] == 0 { // pad
			o = o[1:]
			continue
		}
		if len(o) < 2 || len(o) < 2+int(o[1]) {
			return 0
		}
		if o[0] == 53 && o[1] == 1 {
			return layers.DHCPMsgType(o[2])
		}
		o = o[2+int(o[1]):]
	}
	return 0
}

// isDHCP checks the BOOTP header of the first datagram: a request or
// reply, a hardware address length that fits chaddr, and the DHCP magic
// cookie at offset 236.
func isDHCP(b []byte) bool {
	return len(b) >= 240 && (b[0] == 1 || b[0] == 2) && b[2] <= 16 &&
		binary.BigEndian.Uint32(b[236:]) == layers.DHCPMagic
}

// decodeDHCP reads every datagram, the two sides interleaved (client
// message, server reply, …) since the capture keeps no order between
// them: that is the order of a DISCOVER/OFFER/REQUEST/ACK exchange.
func decodeDHCP(f *Flow, l7 *schema.L7) {
	d := &schema.DHCP{}
	var orig, resp [][]byte
	f.Orig.Msgs(func(m []byte) bool { orig = append(orig, m); return len(orig) < 32 })
	f.Resp.Msgs(func(m []byte) bool { resp = append(resp, m); return len(resp) < 32 })
	var p layers.DHCPv4
	for i := 0; i < len(orig) || i < len(resp); i++ {
		for _, side := range [][][]byte{orig, resp} {
			if i < len(side) {
				dhcpMessage(&p, side[i], d)
			}
		}
	}
	addName(l7, d.Hostname)
	l7.DHCP = d
}

// dhcpMessage adds one message to d; the options decoded before a
// malformed one still count.
func dhcpMessage(p *layers.DHCPv4, b []byte, d *schema.DHCP) {
	if !isDHCP(b) {
		return
	}
	p.Options = p.Options[:0]
	if err := p.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil && len(p.Options) == 0 {
		return
	}
	if d.ClientMAC == "" && p.HardwareType == layers.LinkTypeEthernet && len(p.ClientHWAddr) == 6 {
		d.ClientMAC = p.ClientHWAddr.String()
	}
	var msgType layers.DHCPMsgType
	for _, o := range p.Options {
		switch o.Type {
		case layers.DHCPOptMessageType:
			if len(o.Data) == 1 {
				msgType = layers.DHCPMsgType(o.Data[0])
			}
		case layers.DHCPOptHostname:
			setOnce(&d.Hostname, strings.TrimRight(string(o.Data), "\x00"))
		case layers.DHCPOptClassID:
			setOnce(&d.VendorClass, strings.TrimRight(string(o.Data), "\x00"))
		case layers.DHCPOptDomainName:
			setOnce(&d.Domain, strings.TrimRight(string(o.Data), "\x00"))
		case layers.DHCPOptParamsRequest:
			if d.ParamList == "" {
				codes := make([]string, len(o.Data))
				for i, c := range o.Data {
					codes[i] = strconv.Itoa(int(c))
				}
				d.ParamList = strings.Join(codes, ",")
			}
		case layers.DHCPOptRequestIP:
			if a, ok := netip.AddrFromSlice(o.Data); ok && d.Requested == "" {
				d.Requested = a.String()
			}
		case layers.DHCPOptLeaseTime:
			if len(o.Data) == 4 {
				d.LeaseSecs = binary.BigEndian.Uint32(o.Data)
			}
		}
	}
	if msgType == 0 {
		return // BOOTP
	}
	d.MsgTypes = append(d.MsgTypes, dhcpTypeName(msgType))
	if msgType == layers.DHCPMsgTypeAck {
		if a, ok := netip.AddrFromSlice(p.YourClientIP); ok && !a.IsUnspecified() {
			d.Assigned = a.String()
		}
	}
}

// dhcpTypeName is the RFC 2132 name in capitals, "TYPE10" past INFORM.
func dhcpTypeName(t layers.DHCPMsgType) string {
	if t >= layers.DHCPMsgTypeDiscover && t <= layers.DHCPMsgTypeInform {
		return strings.ToUpper(t.String())
	}
	return "TYPE" + strconv.Itoa(int(t))
}
