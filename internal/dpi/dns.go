// DNS over UDP and TCP (RFC 1035; over TCP each message has a 2-byte
// length prefix). Match walks the header and first question by hand so
// that it allocates nothing on the flows that are not DNS; Decode unpacks
// with github.com/miekg/dns. mDNS, LLMNR and NetBIOS-NS (names.go) share
// both.

package dpi

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Limits on what Decode keeps of a message; a response can hold
// thousands of records.
const (
	maxDNSAnswers = 32
	maxDNSUnpack  = 16 // messages unpacked per side; the rest are only counted
)

// dnsFlavor is which member of the DNS family a message looks like.
type dnsFlavor uint8

const (
	notDNS dnsFlavor = iota
	flavorDNS
	flavorMDNS
	flavorLLMNR
	flavorNetBIOS
)

var dnsAnalyzer = Analyzer{
	App: "dns", Ports: []uint16{53},
	Match: func(f *Flow) float64 {
		switch dnsFlavorOf(f) {
		case flavorDNS:
			return dnsAnswered(f, 0.9, 0.95)
		case flavorMDNS, flavorLLMNR:
			return 0.3 // DNS-shaped, but the markers point at a sibling
		}
		return 0
	},
	Decode: func(f *Flow, l7 *schema.L7) { decodeDNS(f, l7, flavorDNS) },
}

// dnsAnswered returns hi when the responder's first message answers the
// initiator's first one (same id, QR set), lo otherwise.
func dnsAnswered(f *Flow, lo, hi float64) float64 {
	q, _ := firstDNSMsg(f, &f.Orig)
	r, _ := firstDNSMsg(f, &f.Resp)
	if len(q) >= 12 && len(r) >= 12 && q[0] == r[0] && q[1] == r[1] && q[2]&0x80 == 0 && r[2]&0x80 != 0 {
		return hi
	}
	return lo
}

// dnsFlavorOf classifies the first message of the flow, the initiator's
// or, when it sent nothing, the responder's.
func dnsFlavorOf(f *Flow) dnsFlavor {
	s := &f.Orig
	if len(s.Data) == 0 {
		s = &f.Resp
	}
	msg, whole := firstDNSMsg(f, s)
	return dnsShape(msg, whole)
}

// firstDNSMsg returns the first message of a side and whether all of it
// was captured.
func firstDNSMsg(f *Flow, s *Side) ([]byte, bool) {
	if f.Proto == 6 {
		if len(s.Data) < 2 {
			return nil, false
		}
		n := int(binary.BigEndian.Uint16(s.Data))
		if n < 12 {
			return nil, false
		}
		if len(s.Data)-2 < n {
			return s.Data[2:], false
		}
		return s.Data[2 : 2+n], true
	}
	return firstDatagram(s), s.Complete || len(s.Ends) > 1
}

// dnsMsgs calls fn for each message of a side, over TCP the last one
// possibly cut short.
func dnsMsgs(f *Flow, s *Side, fn func(msg []byte) bool) {
	if f.Proto != 6 {
		s.Msgs(fn)
		return
	}
	for b := s.Data; len(b) >= 2; {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		if !fn(b[:n]) {
			return
		}
		b = b[n:]
	}
}

// dnsShape checks that msg is a plausible DNS-family message: known
// opcode, section counts that fit its length, a well-formed first name
// followed by a known class. It then tells the siblings apart by their
// markers: NetBIOS by its 32-letter encoded name, mDNS by id 0 with a
// .local name, the QU/cache-flush bit or an unsolicited answer, LLMNR by a
// single-label name without the recursion-desired bit that stub
// resolvers always set.
func dnsShape(msg []byte, whole bool) dnsFlavor {
	if len(msg) < 12 {
		return notDNS
	}
	id := binary.BigEndian.Uint16(msg)
	flags := binary.BigEndian.Uint16(msg[2:])
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	rrs := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	response := flags&0x8000 != 0
	opcode := flags >> 11 & 0xf
	if qd > 4 || qd == 0 && (!response || rrs == 0) {
		return notDNS
	}
	if whole && 12+5*qd+11*rrs > len(msg) {
		return notDNS
	}
	// The first name: a question's or, in an announcement, an answer's.
	off, labels, first, last := 12, 0, [2]int{}, [2]int{}
	for {
		if off >= len(msg) || off-12 > 255 {
			return notDNS
		}
		n := int(msg[off])
		if n == 0 {
			off++
			break
		}
		if n > 63 || off+1+n > len(msg) {
			return notDNS // pointers cannot come first: there is nothing before
		}
		if labels == 0 {
			first = [2]int{off + 1, off + 1 + n}
		}
		last = [2]int{off + 1, off + 1 + n}
		labels++
		off += 1 + n
	}
	if off+4 > len(msg) {
		return notDNS
	}
	class := binary.BigEndian.Uint16(msg[off+2:]) & 0x7fff
	switch class {
	case 1, 3, 4, 254, 255:
	default:
		return notDNS
	}
	if first[1]-first[0] == 32 && isNetBIOSEncoded(msg[first[0]:first[1]]) {
		switch opcode {
		case 0, 5, 6, 7, 8, 9: // query, registration, release, WACK, refresh
			return flavorNetBIOS
		}
		return notDNS
	}
	switch opcode {
	case 0, 2, 4, 5: // query, status, notify, update
	default:
		return notDNS
	}
	if flags&0x0040 != 0 { // Z
		return notDNS
	}
	local := labels > 0 && bytes.EqualFold(msg[last[0]:last[1]], []byte("local"))
	if id == 0 && (local || qd == 0 || binary.BigEndian.Uint16(msg[off+2:])&0x8000 != 0) {
		return flavorMDNS
	}
	if labels == 1 && opcode == 0 && flags&0x0100 == 0 && class == 1 {
		return flavorLLMNR
	}
	return flavorDNS
}

// decodeDNS fills l7.DNS from every message of the flow: the first query
// and the first response that answers it. For the siblings it also adds
// the names the responder announced for itself.
func decodeDNS(f *Flow, l7 *schema.L7, flavor dnsFlavor) {
	d := &schema.DNS{}
	haveQuery, answered := false, false
	each := func(msg []byte) bool {
		if len(msg) < 12 {
			return true
		}
		if msg[2]&0x80 == 0 {
			d.Queries++
		}
		if haveQuery && answered && flavor == flavorDNS {
			return true // only counting now; the siblings go on for names
		}
		m := unpackDNS(msg)
		if m == nil {
			return true
		}
		if flavor == flavorNetBIOS {
			netbiosNames(msg, l7)
		} else if flavor != flavorDNS && m.Response {
			dnsNames(m, l7)
		}
		switch {
		case !m.Response && !haveQuery:
			haveQuery = true
			d.ID = m.Id
			setDNSQuestion(d, m, flavor)
		case m.Response && !answered && (!haveQuery || m.Id == d.ID):
			answered = true
			if !haveQuery {
				d.ID = m.Id
				setDNSQuestion(d, m, flavor)
			}
			d.RCode = rcodeName(m.Rcode)
			d.Answers = dnsAnswers(m, msg, flavor)
		}
		return true
	}
	for _, s := range []*Side{&f.Orig, &f.Resp} {
		n := 0
		dnsMsgs(f, s, func(msg []byte) bool {
			n++
			if n > maxDNSUnpack {
				if len(msg) >= 12 && msg[2]&0x80 == 0 {
					d.Queries++
				}
				return true
			}
			return each(msg)
		})
	}
	l7.DNS = d
}

// unpackDNS unpacks msg, keeping what comes before a record that does not
// unpack (a message cut short, a NetBIOS NBSTAT record): miekg/dns drops a
// whole section on the first bad record. Its header is set by then.
func unpackDNS(msg []byte) *dns.Msg {
	if len(msg) < 12 {
		return nil
	}
	m := new(dns.Msg)
	if err := m.Unpack(msg); err == nil {
		return m
	}
	m.Question, m.Answer, m.Ns, m.Extra = nil, nil, nil, nil
	off := 12
	for i := binary.BigEndian.Uint16(msg[4:]); i > 0; i-- {
		name, next, err := dns.UnpackDomainName(msg, off)
		if err != nil || next+4 > len(msg) {
			return m
		}
		m.Question = append(m.Question, dns.Question{Name: name,
			Qtype: binary.BigEndian.Uint16(msg[next:]), Qclass: binary.BigEndian.Uint16(msg[next+2:])})
		off = next + 4
	}
	for i := binary.BigEndian.Uint16(msg[6:]); i > 0 && len(m.Answer) < maxDNSAnswers; i-- {
		rr, next, err := dns.UnpackRR(msg, off)
		if err != nil || next <= off {
			break
		}
		m.Answer = append(m.Answer, rr)
		off = next
	}
	return m
}

func setDNSQuestion(d *schema.DNS, m *dns.Msg, flavor dnsFlavor) {
	if len(m.Question) > 0 {
		q := m.Question[0]
		d.Query, d.QType = dnsName(q.Name, flavor), qtypeName(q.Qtype, flavor)
		if flavor != flavorNetBIOS {
			// Names are case-insensitive; lower case, as Zeek logs them,
			// lets intel and filters match without folding.
			d.Query = strings.ToLower(d.Query)
		}
		return
	}
	if len(m.Answer) > 0 { // an mDNS announcement has answers only
		h := m.Answer[0].Header()
		d.Query, d.QType = dnsName(h.Name, flavor), qtypeName(h.Rrtype, flavor)
	}
}

// dnsName is a name as logged: without the root dot, or for NetBIOS the
// decoded NetBIOS name.
func dnsName(name string, flavor dnsFlavor) string {
	if flavor == flavorNetBIOS {
		return netbiosName(name)
	}
	if name != "." {
		name = strings.TrimSuffix(name, ".")
	}
	return unescapeName(name)
}

// unescapeName undoes the presentation escapes of miekg/dns ("My\ TV",
// "\195\169") so that logs show the name's bytes.
func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
				if n := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0'); n < 256 {
					b = append(b, byte(n))
					i += 2
					continue
				}
			}
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "?")
}

func qtypeName(t uint16, flavor dnsFlavor) string {
	if flavor == flavorNetBIOS {
		switch t {
		case 0x20:
			return "NB"
		case 0x21:
			return "NBSTAT"
		}
	}
	return dns.Type(t).String()
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rc)
}

// dnsAnswers lists the addresses and names the answer section carries.
func dnsAnswers(m *dns.Msg, msg []byte, flavor dnsFlavor) []string {
	if flavor == flavorNetBIOS {
		return netbiosAnswers(msg)
	}
	var out []string
	for _, rr := range m.Answer {
		if len(out) == maxDNSAnswers {
			break
		}
		var s string
		switch rr := rr.(type) {
		case *dns.A:
			s = rr.A.String()
		case *dns.AAAA:
			s = rr.AAAA.String()
		case *dns.CNAME:
			s = dnsName(rr.Target, flavor)
		case *dns.PTR:
			s = dnsName(rr.Ptr, flavor)
		case *dns.NS:
			s = dnsName(rr.Ns, flavor)
		case *dns.MX:
			s = dnsName(rr.Mx, flavor)
		case *dns.SRV:
			s = dnsName(rr.Target, flavor)
		case *dns.TXT:
			s = strings.Join(rr.Txt, " ")
		default:
			continue
		}
		out = append(out, s)
	}
	return out
}

// dnsNames adds the names an mDNS or LLMNR responder announced: owners of
// its addresses and services, and PTR targets (the owner of a PTR is a
// service type or a reverse name; its target is the instance or host).
// Names starting with "_" are service types, not devices.
func dnsNames(m *dns.Msg, l7 *schema.L7) {
	for _, sec := range [][]dns.RR{m.Answer, m.Extra} {
		for _, rr := range sec {
			switch rr := rr.(type) {
			case *dns.A, *dns.AAAA:
				addName(l7, dnsName(rr.Header().Name, flavorMDNS))
			case *dns.SRV:
				addName(l7, dnsName(rr.Hdr.Name, flavorMDNS))
				addName(l7, dnsName(rr.Target, flavorMDNS))
			case *dns.PTR:
				addName(l7, dnsName(rr.Ptr, flavorMDNS))
			}
		}
	}
}
