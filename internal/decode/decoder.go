package decode

import "slices"

// Config selects which UDP ports carry tunnels.
type Config struct {
	// VXLANPorts and GENEVEPorts are UDP destination ports whose payload
	// is decoded as a tunnel. Linux's historical VXLAN port 8472 (used by
	// flannel and tcpdump's test data) can be added to VXLANPorts.
	// At most maxPorts of each are used.
	VXLANPorts  []uint16
	GENEVEPorts []uint16
	// VerifyChecksums marks TCP and UDP segments whose checksum is wrong
	// (Packet.BadChecksum) as Zeek does without -C. Off by default: mirrored
	// and locally captured traffic often carries checksums the NIC was to
	// fill in.
	VerifyChecksums bool
}

// maxPorts bounds the tunnel port sets: a linear scan of a small array
// beats a map lookup and keeps the Decoder free of pointers to chase.
const maxPorts = 8

// DefaultConfig uses the IANA ports: VXLAN 4789, GENEVE 6081.
func DefaultConfig() Config {
	return Config{VXLANPorts: []uint16{4789}, GENEVEPorts: []uint16{6081}}
}

// Decoder decodes frames into Packets (see the package comment for why it
// is hand-written). It is not safe for concurrent use; give each goroutine
// its own.
type Decoder struct {
	vxlan, geneve [maxPorts]uint16
	nvxlan, ngen  int
	verify        bool
	stats         Stats
	err           Error // returned by fail; reused so that errors do not allocate
}

// NewDecoder builds a decoder for cfg.
func NewDecoder(cfg Config) *Decoder {
	d := &Decoder{verify: cfg.VerifyChecksums}
	d.nvxlan = copy(d.vxlan[:], cfg.VXLANPorts)
	d.ngen = copy(d.geneve[:], cfg.GENEVEPorts)
	return d
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() Stats { return d.stats }

func (d *Decoder) isVXLAN(port uint16) bool  { return slices.Contains(d.vxlan[:d.nvxlan], port) }
func (d *Decoder) isGENEVE(port uint16) bool { return slices.Contains(d.geneve[:d.ngen], port) }

// fail records a decode error in the decoder-owned Error and returns it.
func (d *Decoder) fail(layer string, off int, r Reason) error {
	d.stats.Errors[r]++
	d.err = Error{Layer: layer, Offset: off, Reason: r}
	return &d.err
}

// Decode resets p and fills it from data.
//
// For LinkVXLANPayload and LinkGENEVEPayload (a UDP listener's datagram
// payload; the kernel removed the outer IP/UDP headers) outer supplies the
// outer addresses, ports and, if known, IP length; they become
// p.Tunnels[0]'s outer fields. For other link types outer is ignored.
//
// The returned error, if any, is a *Error owned by the decoder and valid
// only until the next call. What was decoded before the error stays in p:
// the outer tunnels of a bad inner frame, or the addresses and IP length of
// a packet truncated inside its transport header.
func (d *Decoder) Decode(data []byte, link LinkType, outer *Tunnel, p *Packet) error {
	p.Reset()
	p.CaptureLen = len(data)
	d.stats.Packets++
	var err error
	switch link {
	case LinkEthernet:
		err = d.ethernet(data, 0, p)
	case LinkRaw, linkRawDLT12, linkRawDLT14, LinkIPv4, LinkIPv6:
		err = d.ip(data, 0, p)
	case LinkLinuxSLL:
		err = d.sll(data, p)
	case LinkLinuxSLL2:
		err = d.sll2(data, p)
	case LinkNull, linkLoop:
		err = d.null(data, p)
	case LinkVXLANPayload, LinkGENEVEPayload:
		t := Tunnel{IPProto: 17, PayloadLen: len(data)}
		if outer != nil {
			t.Src, t.Dst, t.SrcPort, t.DstPort, t.IPLen = outer.Src, outer.Dst, outer.SrcPort, outer.DstPort, outer.IPLen
		}
		if link == LinkVXLANPayload {
			err = d.vxlanLayer(data, 0, t, true, p)
		} else {
			err = d.geneveLayer(data, 0, t, p)
		}
	default:
		err = d.fail("link", 0, ReasonUnsupportedLink)
	}
	if p.IPVersion == 0 && err == nil {
		d.stats.NonIP++
	}
	if p.Truncated {
		d.stats.Truncated++
	}
	return err
}
