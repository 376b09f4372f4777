// DNS over UDP and TCP (RFC 1035; over TCP each message has a 2-byte
// length prefix). Match walks the header and first question by hand so
// that it allocates nothing on the flows that are not DNS; Decode walks
// the messages with golang.org/x/net/dns/dnsmessage's Parser, which
// allocates nothing either, so that only the strings kept cost memory.
// mDNS, LLMNR and NetBIOS-NS (names.go) share both.

package dpi

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/dns/dnsmessage"

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
	NewL7:  newDNSL7,
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
	if f.flavor == 0 {
		s := &f.Orig
		if len(s.Data) == 0 {
			s = &f.Resp
		}
		msg, whole := firstDNSMsg(f, s)
		f.flavor = dnsShape(msg, whole) + 1
	}
	return f.flavor - 1
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
	d := record(l7.DNS)
	haveQuery, answered := false, false
	each := func(msg []byte) bool {
		if len(msg) < 12 {
			return true
		}
		response := msg[2]&0x80 != 0
		if !response {
			d.Queries++
		}
		if haveQuery && answered && flavor == flavorDNS {
			return true // only counting now; the siblings go on for names
		}
		if flavor == flavorNetBIOS {
			netbiosNames(msg, l7)
		} else if flavor != flavorDNS && response {
			dnsNames(msg, l7, f.strs)
		}
		id := binary.BigEndian.Uint16(msg)
		switch {
		case !response && !haveQuery:
			haveQuery = true
			d.ID = id
			setDNSQuestion(d, msg, flavor, f.strs)
		case response && !answered && (!haveQuery || id == d.ID):
			answered = true
			if !haveQuery {
				d.ID = id
				setDNSQuestion(d, msg, flavor, f.strs)
			}
			d.RCode, d.Answers = dnsAnswers(msg, flavor, f.strs, d.Answers[:0])
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
	d.Answers = orNil(d.Answers)
	l7.DNS = d
}

// DNS message sections after the questions, as nextRR and skipRR number them.
const (
	secAnswers = iota + 1
	secAuthorities
	secAdditionals
)

// startRRs starts p on msg and skips the questions; false when they do
// not parse.
func startRRs(p *dnsmessage.Parser, msg []byte) bool {
	if _, err := p.Start(msg); err != nil {
		return false
	}
	return p.SkipAllQuestions() == nil
}

// nextRR reads the header of the next record of section sec:
// dnsmessage.ErrSectionDone at the end of the section, another error when
// the message was cut short or is malformed (what came before stays
// good). A record whose names dnsmessage refuses but can step over (a dot
// inside a label, more than 10 compression pointers) is skipped.
func nextRR(p *dnsmessage.Parser, sec int) (dnsmessage.ResourceHeader, error) {
	for {
		var h dnsmessage.ResourceHeader
		var err error
		switch sec {
		case secAnswers:
			h, err = p.AnswerHeader()
		case secAuthorities:
			h, err = p.AuthorityHeader()
		default:
			h, err = p.AdditionalHeader()
		}
		if err == nil {
			// dnsmessage checks that the record's data lies within the
			// message only when it skips it: try on a copy of the parser,
			// so that a record cut short is not read past its end.
			probe := *p
			err = skipRR(&probe, sec)
			return h, err
		}
		if err == dnsmessage.ErrSectionDone || skipRR(p, sec) != nil {
			return h, err
		}
	}
}

// skipRR steps over the record of section sec whose header was read, or
// the next one.
func skipRR(p *dnsmessage.Parser, sec int) error {
	switch sec {
	case secAnswers:
		return p.SkipAnswer()
	case secAuthorities:
		return p.SkipAuthority()
	}
	return p.SkipAdditional()
}

// setDNSQuestion sets the query name and type from the first question
// or, in an mDNS announcement (answers only), the first answer.
func setDNSQuestion(d *schema.DNS, msg []byte, flavor dnsFlavor, strs *strTable) {
	var p dnsmessage.Parser
	if _, err := p.Start(msg); err != nil {
		return
	}
	q, err := p.Question()
	switch {
	case err == nil:
		d.QType = qtypeName(uint16(q.Type), flavor)
		if flavor == flavorNetBIOS {
			d.Query = dnsName(&q.Name, flavor, strs)
			return
		}
		// Names are case-insensitive; lower case, as Zeek logs them,
		// lets intel and filters match without folding.
		d.Query = lowerName(&q.Name, strs)
	case err == dnsmessage.ErrSectionDone:
		if h, err := nextRR(&p, secAnswers); err == nil {
			d.Query, d.QType = dnsName(&h.Name, flavor, strs), qtypeName(uint16(h.Type), flavor)
		}
	}
}

// nameBytes is a dnsmessage name as it came, labels joined by dots,
// without the root's final dot ("." for the root itself).
func nameBytes(n *dnsmessage.Name) []byte {
	b := n.Data[:n.Length]
	if len(b) > 1 {
		b = bytes.TrimSuffix(b, []byte("."))
	}
	return b
}

// dnsName is a name as logged: its bytes without the root dot, or for
// NetBIOS the decoded NetBIOS name.
func dnsName(n *dnsmessage.Name, flavor dnsFlavor, strs *strTable) string {
	if flavor == flavorNetBIOS {
		return netbiosNameBytes(n.Data[:n.Length])
	}
	return strings.ToValidUTF8(strs.str(nameBytes(n)), "?")
}

// lowerName is dnsName in lower case, lowered in place when it is ASCII
// (every name but a few) so that at most the result is allocated.
func lowerName(n *dnsmessage.Name, strs *strTable) string {
	b := nameBytes(n)
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return strings.ToLower(strings.ToValidUTF8(string(b), "?"))
		}
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return strs.str(b)
}

// dnsTypeNames are the mnemonics of record types, as Zeek and miekg/dns
// log them (dnsmessage's Type.String says "TypeA"); others are "TYPE"
// and the number.
var dnsTypeNames = [...]string{
	0: "None", 1: "A", 2: "NS", 3: "MD", 4: "MF", 5: "CNAME", 6: "SOA", 7: "MB", 8: "MG", 9: "MR", 10: "NULL",
	12: "PTR", 13: "HINFO", 14: "MINFO", 15: "MX", 16: "TXT", 17: "RP", 18: "AFSDB", 19: "X25", 20: "ISDN",
	21: "RT", 23: "NSAP-PTR", 24: "SIG", 25: "KEY", 26: "PX", 27: "GPOS", 28: "AAAA", 29: "LOC", 30: "NXT",
	31: "EID", 32: "NIMLOC", 33: "SRV", 34: "ATMA", 35: "NAPTR", 36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT",
	42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID",
	50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA", 53: "SMIMEA", 55: "HIP", 56: "NINFO", 57: "RKEY", 58: "TALINK",
	59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD", 64: "SVCB", 65: "HTTPS",
	99: "SPF", 100: "UINFO", 101: "UID", 102: "GID", 103: "UNSPEC", 104: "NID", 105: "L32", 106: "L64",
	107: "LP", 108: "EUI48", 109: "EUI64", 128: "NXNAME", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
	253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA", 258: "AVC", 260: "AMTRELAY", 261: "RESINFO",
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
	if int(t) < len(dnsTypeNames) && dnsTypeNames[t] != "" {
		return dnsTypeNames[t]
	}
	switch t {
	case 32768:
		return "TA"
	case 32769:
		return "DLV"
	case 65535:
		return "Reserved"
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// dnsRCodeNames are the response codes' mnemonics; 12 to 15 have none.
var dnsRCodeNames = [...]string{
	0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
	7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 11: "DSOTYPENI", 16: "BADSIG", 17: "BADKEY",
	18: "BADTIME", 19: "BADMODE", 20: "BADNAME", 21: "BADALG", 22: "BADTRUNC", 23: "BADCOOKIE",
}

func rcodeName(rc int) string {
	if rc < len(dnsRCodeNames) && dnsRCodeNames[rc] != "" {
		return dnsRCodeNames[rc]
	}
	return "RCODE" + strconv.Itoa(rc)
}

// dnsAnswers returns a response's code, extended by its OPT record
// (RFC 6891), and the addresses and names its answer section carries,
// appended to answers.
func dnsAnswers(msg []byte, flavor dnsFlavor, strs *strTable, answers []string) (string, []string) {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return "", nil
	}
	if flavor == flavorNetBIOS {
		answers = netbiosAnswers(msg)
	}
	ext := 0
	if p.SkipAllQuestions() == nil {
		ext = readAnswers(&p, flavor, strs, &answers)
	}
	return rcodeName(int(h.RCode) | ext<<4), answers
}

// readAnswers appends the answers to out (but for NetBIOS's, which
// netbiosAnswers reads) and returns the upper bits of the response code
// that the last OPT record carries. A message cut short keeps what came
// before the cut.
func readAnswers(p *dnsmessage.Parser, flavor dnsFlavor, strs *strTable, out *[]string) (ext int) {
	for sec := secAnswers; sec <= secAdditionals; sec++ {
		for {
			h, err := nextRR(p, sec)
			if err == dnsmessage.ErrSectionDone {
				break
			}
			if err != nil {
				return ext
			}
			if sec == secAdditionals && h.Type == dnsmessage.TypeOPT {
				ext = int(h.TTL >> 24)
			}
			if sec != secAnswers || flavor == flavorNetBIOS || len(*out) == maxDNSAnswers {
				if skipRR(p, sec) != nil {
					return ext
				}
				continue
			}
			s, ok, err := answerText(p, &h, flavor, strs)
			if err != nil {
				return ext
			}
			if ok {
				*out = append(*out, s)
			}
		}
	}
	return ext
}

// answerText reads an answer's data as logged: an address, a name or the
// strings of a TXT record. ok is false for other types and for records
// that do not parse, which are skipped; err says the message ends there.
func answerText(p *dnsmessage.Parser, h *dnsmessage.ResourceHeader, flavor dnsFlavor, strs *strTable) (s string, ok bool, err error) {
	var addr [len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")]byte
	switch h.Type {
	case dnsmessage.TypeA:
		if h.Length == 4 {
			if r, err := p.AResource(); err == nil {
				return strs.str(netip.AddrFrom4(r.A).AppendTo(addr[:0])), true, nil
			}
		}
	case dnsmessage.TypeAAAA:
		if h.Length == 16 {
			if r, err := p.AAAAResource(); err == nil {
				// ::ffff:a.b.c.d as a.b.c.d, as net.IP prints it.
				return strs.str(netip.AddrFrom16(r.AAAA).Unmap().AppendTo(addr[:0])), true, nil
			}
		}
	case dnsmessage.TypeCNAME:
		if r, err := p.CNAMEResource(); err == nil {
			return dnsName(&r.CNAME, flavor, strs), true, nil
		}
	case dnsmessage.TypePTR:
		if r, err := p.PTRResource(); err == nil {
			return dnsName(&r.PTR, flavor, strs), true, nil
		}
	case dnsmessage.TypeNS:
		if r, err := p.NSResource(); err == nil {
			return dnsName(&r.NS, flavor, strs), true, nil
		}
	case dnsmessage.TypeMX:
		if r, err := p.MXResource(); err == nil {
			return dnsName(&r.MX, flavor, strs), true, nil
		}
	case dnsmessage.TypeSRV:
		if r, err := p.SRVResource(); err == nil {
			return dnsName(&r.Target, flavor, strs), true, nil
		}
	case dnsmessage.TypeTXT:
		if r, err := p.TXTResource(); err == nil {
			return txtText(r.TXT), true, nil
		}
	}
	return "", false, skipRR(p, secAnswers)
}

// txtText joins a TXT record's strings with spaces, escaping quotes,
// backslashes and unprintable bytes as zone files (and miekg/dns) do.
func txtText(txt []string) string {
	plain := true
	for _, t := range txt {
		for i := 0; i < len(t) && plain; i++ {
			plain = t[i] >= ' ' && t[i] <= '~' && t[i] != '"' && t[i] != '\\'
		}
	}
	if plain {
		return strings.Join(txt, " ")
	}
	var b []byte
	for i, t := range txt {
		if i > 0 {
			b = append(b, ' ')
		}
		for j := 0; j < len(t); j++ {
			switch c := t[j]; {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < ' ' || c > '~':
				b = append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
			default:
				b = append(b, c)
			}
		}
	}
	return string(b)
}

// dnsNames adds the names an mDNS or LLMNR responder announced: owners of
// its addresses and services, and PTR targets (the owner of a PTR is a
// service type or a reverse name; its target is the instance or host).
// Names starting with "_" are service types, not devices.
func dnsNames(msg []byte, l7 *schema.L7, strs *strTable) {
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
			if sec != secAuthorities && announcedNames(&p, &h, l7, strs) {
				continue
			}
			if skipRR(&p, sec) != nil {
				return
			}
		}
	}
}

// announcedNames adds the names of one record and reports whether it
// read the record's data (false: the caller skips it).
func announcedNames(p *dnsmessage.Parser, h *dnsmessage.ResourceHeader, l7 *schema.L7, strs *strTable) bool {
	switch h.Type {
	case dnsmessage.TypeA, dnsmessage.TypeAAAA:
		if addressRR(p, h) {
			addName(l7, dnsName(&h.Name, flavorMDNS, strs))
			return true
		}
	case dnsmessage.TypeSRV:
		if r, err := p.SRVResource(); err == nil {
			addName(l7, dnsName(&h.Name, flavorMDNS, strs))
			addName(l7, dnsName(&r.Target, flavorMDNS, strs))
			return true
		}
	case dnsmessage.TypePTR:
		if r, err := p.PTRResource(); err == nil {
			addName(l7, dnsName(&r.PTR, flavorMDNS, strs))
			return true
		}
	}
	return false
}

// addressRR reads an A or AAAA record's data, false (and left for the
// caller to skip) when it is not a whole address.
func addressRR(p *dnsmessage.Parser, h *dnsmessage.ResourceHeader) bool {
	var err error
	switch {
	case h.Type == dnsmessage.TypeA && h.Length == 4:
		_, err = p.AResource()
	case h.Type == dnsmessage.TypeAAAA && h.Length == 16:
		_, err = p.AAAAResource()
	default:
		return false
	}
	return err == nil
}
