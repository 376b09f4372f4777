// Local name protocols, where devices announce who they are: mDNS (RFC
// 6762), LLMNR (RFC 4795) and NetBIOS name service (RFC 1002) share the
// DNS message format and decoder (dns.go); SSDP (UPnP discovery) is
// HTTP-like text over UDP. NetBIOS record data is read as raw bytes
// because its types 0x20/0x21 collide with DNS NIMLOC/SRV, whose layout
// differs.

package dpi

import (
	"bufio"
	"bytes"
	"net/netip"
	"net/textproto"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// oneWay is the Enough of multicast and broadcast protocols: answers
// come on other flows (to the group, or from the responder's address), so
// waiting for a reply on this one only holds its buffers.
func oneWay(*Flow) bool { return true }

var mdnsAnalyzer = Analyzer{
	App: "mdns", Proto: 17, Ports: []uint16{5353}, Enough: oneWay,
	Match: func(f *Flow) float64 {
		if dnsFlavorOf(f) == flavorMDNS {
			return 0.9
		}
		return 0
	},
	Decode: func(f *Flow, l7 *schema.L7) { decodeDNS(f, l7, flavorMDNS) },
	NewL7:  newDNSL7,
}

var llmnrAnalyzer = Analyzer{
	App: "llmnr", Proto: 17, Ports: []uint16{5355}, Enough: oneWay,
	Match: func(f *Flow) float64 {
		if dnsFlavorOf(f) == flavorLLMNR {
			return dnsAnswered(f, 0.7, 0.8) // the markers are weaker than mDNS's
		}
		return 0
	},
	Decode: func(f *Flow, l7 *schema.L7) { decodeDNS(f, l7, flavorLLMNR) },
	NewL7:  newDNSL7,
}

var netbiosAnalyzer = Analyzer{
	App: "netbios", Proto: 17, Ports: []uint16{137},
	Match: func(f *Flow) float64 {
		if dnsFlavorOf(f) == flavorNetBIOS {
			return 0.95
		}
		return 0
	},
	Decode: func(f *Flow, l7 *schema.L7) { decodeDNS(f, l7, flavorNetBIOS) },
	NewL7:  newDNSL7,
}

// isNetBIOSEncoded reports whether a label is a first-level encoded
// NetBIOS name: 16 bytes as 32 letters 'A' to 'P', a nibble each.
func isNetBIOSEncoded(label []byte) bool {
	for _, c := range label {
		if c < 'A' || c > 'P' {
			return false
		}
	}
	return len(label) == 32
}

// netbiosName decodes the first label of an encoded name ("FEEFFDFE…" →
// "TEST"), dropping the 16th byte (the service suffix) and the padding.
func netbiosName(name string) string { return netbiosNameBytes([]byte(name)) }

// netbiosNameBytes is netbiosName of a name's bytes, labels joined by
// dots; a name that is not encoded comes out as it is, without the root
// dot.
func netbiosNameBytes(name []byte) string {
	label, _, _ := bytes.Cut(name, []byte("."))
	if !isNetBIOSEncoded(label) {
		if len(name) > 1 {
			name = bytes.TrimSuffix(name, []byte("."))
		} else {
			name = nil // the root
		}
		return strings.ToValidUTF8(string(name), "?")
	}
	var b [16]byte
	for i := range b {
		b[i] = (label[2*i]-'A')<<4 | (label[2*i+1] - 'A')
	}
	return strings.ToValidUTF8(string(bytes.TrimRight(b[:15], " \x00")), "?")
}

// netbiosRRs calls fn for each record after the questions with its
// section (1 answer, 2 authority, 3 additional), owner, type and data.
// The data is a copy (dnsmessage hands out no slice of the message), so
// a response costs an allocation per record; NetBIOS is rare enough.
func netbiosRRs(msg []byte, fn func(sec int, owner *dnsmessage.Name, typ uint16, rdata []byte)) {
	var p dnsmessage.Parser
	if !startRRs(&p, msg) {
		return
	}
	for sec := secAnswers; sec <= secAdditionals; sec++ {
		for {
			h, err := nextRR(&p, sec)
			if err == dnsmessage.ErrSectionDone {
				break
			}
			if err != nil {
				return
			}
			r, err := p.UnknownResource() // any type: the data as it is
			if err != nil {
				return // cut short
			}
			fn(sec, &h.Name, uint16(h.Type), r.Data)
		}
	}
}

// netbiosAnswers lists the addresses of NB answers and the names of
// NBSTAT (node status) answers.
func netbiosAnswers(msg []byte) []string {
	var out []string
	netbiosRRs(msg, func(sec int, _ *dnsmessage.Name, typ uint16, rdata []byte) {
		if sec != 1 {
			return
		}
		switch typ {
		case 0x20: // NB: flags(2) address(4), repeated
			for ; len(rdata) >= 6 && len(out) < maxDNSAnswers; rdata = rdata[6:] {
				out = append(out, netip.AddrFrom4([4]byte(rdata[2:6])).String())
			}
		case 0x21:
			for _, n := range nbstatNames(rdata) {
				if len(out) < maxDNSAnswers {
					out = append(out, n)
				}
			}
		}
	})
	return out
}

// nbstatNames lists the names of a node status answer: a count, then
// per name 15 bytes, the suffix and 2 bytes of flags.
func nbstatNames(rdata []byte) []string {
	if len(rdata) == 0 {
		return nil
	}
	var out []string
	n, rdata := int(rdata[0]), rdata[1:]
	for ; n > 0 && len(rdata) >= 18; n-- {
		name := strings.ToValidUTF8(strings.TrimRight(string(rdata[:15]), " \x00"), "?")
		if name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
		rdata = rdata[18:]
	}
	return out
}

// netbiosNames adds the names a host claims: those it registers,
// refreshes or releases, and those in positive answers.
func netbiosNames(msg []byte, l7 *schema.L7) {
	if len(msg) < 12 {
		return
	}
	response := msg[2]&0x80 != 0
	opcode := msg[2] >> 3 & 0xf
	if !response && opcode >= 5 {
		var p dnsmessage.Parser
		if _, err := p.Start(msg); err == nil {
			if q, err := p.Question(); err == nil {
				addName(l7, netbiosNameBytes(q.Name.Data[:q.Name.Length]))
			}
		}
		return
	}
	if !response || msg[3]&0xf != 0 {
		return
	}
	netbiosRRs(msg, func(sec int, owner *dnsmessage.Name, typ uint16, rdata []byte) {
		if sec != 1 {
			return
		}
		if typ == 0x21 {
			for _, n := range nbstatNames(rdata) {
				addName(l7, n)
			}
		} else if n := netbiosNameBytes(owner.Data[:owner.Length]); n != "*" {
			addName(l7, n)
		}
	})
}

// SSDP start lines; a unicast answer to M-SEARCH is a plain HTTP 200.
var (
	ssdpNotify  = []byte("NOTIFY * HTTP/1.")
	ssdpSearch  = []byte("M-SEARCH * HTTP/1.")
	ssdpOK      = []byte("HTTP/1.1 200")
	ssdpUSNLine = []byte("\nusn:")
)

var ssdpAnalyzer = Analyzer{
	App: "ssdp", Proto: 17, Ports: []uint16{1900}, Enough: oneWay,
	Match: func(f *Flow) float64 {
		s := &f.Orig
		if len(s.Data) == 0 {
			s = &f.Resp
		}
		msg := firstDatagram(s)
		switch {
		case bytes.HasPrefix(msg, ssdpNotify), bytes.HasPrefix(msg, ssdpSearch):
			return 0.95
		case bytes.HasPrefix(msg, ssdpOK) && containsFold(msg, ssdpUSNLine):
			return 0.9
		}
		return 0
	},
	Decode: decodeSSDP,
}

// decodeSSDP adds what announcements and answers say of the device: its
// SERVER string, description LOCATION and device type (NT or ST
// "urn:…:device:…"). Searches describe what is sought, not the sender.
func decodeSSDP(f *Flow, l7 *schema.L7) {
	n := 0
	for _, s := range []*Side{&f.Orig, &f.Resp} {
		s.Msgs(func(msg []byte) bool {
			n++
			if n > 64 {
				return false
			}
			if !bytes.HasPrefix(msg, ssdpNotify) && !bytes.HasPrefix(msg, []byte("HTTP/1.")) {
				return true
			}
			tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
			if _, err := tp.ReadLine(); err != nil {
				return true
			}
			h, _ := tp.ReadMIMEHeader() // what was read before an error still counts
			addName(l7, h.Get("Server"))
			addName(l7, h.Get("Location"))
			for _, t := range []string{h.Get("Nt"), h.Get("St")} {
				if strings.Contains(t, ":device:") {
					addName(l7, t)
				}
			}
			return true
		})
	}
}
