package filter

import (
	"sort"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store/derive"
)

// Kind is the type of a field or literal.
type Kind uint8

const (
	KindString Kind = iota + 1
	KindNumber
	KindAddr
	KindDuration
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindNumber:
		return "number"
	case KindAddr:
		return "address"
	case KindDuration:
		return "duration"
	}
	return "unknown"
}

// Field is a name the language knows, with its type and the Session
// attribute it stands for (docs/schema.md). Column is the SQL expression
// over the store's sessions table; Array marks a list column (tags) that
// matches when any element does; Present, when set, is the SQL condition
// under which the field has a value at all (a mirror field of a session
// that came without a mirror has none). Ends, instead of a column, makes
// a field of either end (country is src.country or dst.country): a
// comparison holds when it holds for either, and != and not in when it
// holds for neither.
type Field struct {
	Name    string
	Kind    Kind
	Column  string
	Array   bool
	Present string
	Ends    []*Field
	Doc     string
	get     func(*schema.Session) fieldValue
}

// Fields is the catalogue of session fields. "src"/"dst" are the
// originator and responder ("orig"/"resp" are accepted as aliases), and
// bytes/packets without a side are both directions added. Each field
// carries how to read it from a Session, for Compile.
var Fields = func() map[string]*Field {
	m := map[string]*Field{}
	add := func(name string, k Kind, column, doc string, get func(*schema.Session) fieldValue) {
		m[name] = &Field{Name: name, Kind: k, Column: column, Doc: doc, get: get}
	}
	str := func(f func(*schema.Session) string) func(*schema.Session) fieldValue {
		return func(s *schema.Session) fieldValue { v := f(s); return fieldValue{str: v, ok: v != ""} }
	}
	num := func(f func(*schema.Session) uint64) func(*schema.Session) fieldValue {
		return func(s *schema.Session) fieldValue { return fieldValue{num: float64(f(s)), ok: true} }
	}
	end := func(orig bool) func(*schema.Session) *schema.Endpoint {
		if orig {
			return func(s *schema.Session) *schema.Endpoint { return &s.Orig }
		}
		return func(s *schema.Session) *schema.Endpoint { return &s.Resp }
	}
	for _, side := range []struct {
		name, col string
		orig      bool
	}{{"src", "orig", true}, {"dst", "resp", false}} {
		ep, orig := end(side.orig), side.orig
		add(side.name+".ip", KindAddr, side.col+"_ip", "address; compare with = or in (…) with addresses and CIDR prefixes",
			func(s *schema.Session) fieldValue { a := ep(s).IP; return fieldValue{addr: a, ok: a.IsValid()} })
		add(side.name+".port", KindNumber, side.col+"_port", "TCP/UDP port; ICMP type (src) or code/counterpart (dst)",
			num(func(s *schema.Session) uint64 { return uint64(ep(s).Port) }))
		add(side.name+".mac", KindString, side.col+"_mac", "Ethernet address", str(func(s *schema.Session) string { return ep(s).MAC }))
		add(side.name+".tag", KindString, side.col+"_tags", "one of the end's tags (enrichment)",
			func(s *schema.Session) fieldValue { t := ep(s).Tags; return fieldValue{strs: t, ok: len(t) > 0} })
		m[side.name+".tag"].Array = true
		add(side.name+".segment", KindString, side.col+"_segment", "segment (enrichment)", str(func(s *schema.Session) string { return ep(s).Segment }))
		add(side.name+".asset", KindString, side.col+"_asset", "asset id (enrichment)", str(func(s *schema.Session) string { return ep(s).Asset }))
		add(side.name+".country", KindString, side.col+"_country", "ISO country code (enrichment)",
			str(func(s *schema.Session) string { return derive.Country(ep(s)) }))
		add(side.name+".asn", KindNumber, side.col+"_asn", "autonomous system number (enrichment)", func(s *schema.Session) fieldValue {
			n := derive.ASN(ep(s))
			return fieldValue{num: float64(n), ok: n != 0}
		})
		m[side.name+".asn"].Present = side.col + "_asn <> 0"
		add(side.name+".bytes", KindNumber, side.col+"_bytes", "payload bytes sent by this end", num(func(s *schema.Session) uint64 {
			if orig {
				return s.OrigBytes
			}
			return s.RespBytes
		}))
		add(side.name+".packets", KindNumber, side.col+"_pkts", "packets sent by this end", num(func(s *schema.Session) uint64 {
			if orig {
				return s.OrigPkts
			}
			return s.RespPkts
		}))
	}
	add("bytes", KindNumber, "orig_bytes + resp_bytes", "payload bytes both ways", num(func(s *schema.Session) uint64 { return s.OrigBytes + s.RespBytes }))
	add("packets", KindNumber, "orig_pkts + resp_pkts", "packets both ways", num(func(s *schema.Session) uint64 { return s.OrigPkts + s.RespPkts }))
	add("ip_bytes", KindNumber, "orig_ip_bytes + resp_ip_bytes", "IP bytes both ways", num(func(s *schema.Session) uint64 { return s.OrigIPBytes + s.RespIPBytes }))
	add("duration", KindDuration, "((end_us - start_us) * 1000)", "end − start", func(s *schema.Session) fieldValue { return fieldValue{dur: s.End.Sub(s.Start), ok: true} })
	add("proto", KindString, "transport", "tcp, udp, icmp, unknown_transport", str(func(s *schema.Session) string { return s.Transport }))
	add("ip_proto", KindNumber, "ip_proto", "IP protocol number", num(func(s *schema.Session) uint64 { return uint64(s.Proto) }))
	add("app", KindString, "app", "application protocol", str(func(s *schema.Session) string { return s.App }))
	add("conn_state", KindString, "conn_state", "Zeek connection state (S0, SF, REJ, …)", str(func(s *schema.Session) string { return s.ConnState }))
	add("history", KindString, "history", "Zeek history letters", str(func(s *schema.Session) string { return s.History }))
	add("direction", KindString, "direction", "inbound, outbound, internal, external", str(func(s *schema.Session) string { return s.Direction }))
	add("vni", KindNumber, "mirror_vni", "VXLAN/GENEVE VNI of the mirror session", func(s *schema.Session) fieldValue {
		if s.Mirror == nil {
			return fieldValue{}
		}
		return fieldValue{num: float64(s.Mirror.VNI), ok: true}
	})
	add("mirror", KindAddr, "mirror_source", "outer source of the mirrored packets", func(s *schema.Session) fieldValue {
		if s.Mirror == nil {
			return fieldValue{}
		}
		return fieldValue{addr: s.Mirror.Source, ok: true}
	})
	m["vni"].Present, m["mirror"].Present = "mirror_kind <> ''", "mirror_kind <> ''"
	add("tenant", KindString, "tenant", "tenant", str(func(s *schema.Session) string { return s.Tenant }))
	add("sensor", KindString, "sensor", "sensor name", str(func(s *schema.Session) string { return s.Sensor }))
	add("source", KindString, "source", "kind of source (pcap, mirror, afpacket, …)", str(func(s *schema.Session) string { return s.Source }))
	add("missed_bytes", KindNumber, "missed_bytes", "TCP bytes never seen", num(func(s *schema.Session) uint64 { return s.MissedBytes }))
	add("community_id", KindString, "community_id", "Community ID v1", str(func(s *schema.Session) string { return s.CommunityID }))
	add("intel", KindString, "intel", "a threat-intelligence feed that listed either end or a name of the session",
		func(s *schema.Session) fieldValue { f := derive.Intel(s); return fieldValue{strs: f, ok: len(f) > 0} })
	m["intel"].Array = true
	add("action", KindString, "flow_action", "accept or reject, as the flow record says",
		str(func(s *schema.Session) string { return derive.FlowAction(s) }))
	add("server_name", KindString, "server_name", "DNS query, else TLS SNI, else HTTP host",
		str(func(s *schema.Session) string { return derive.ServerName(s) }))
	for _, name := range []string{"country", "asn"} {
		src, dst := m["src."+name], m["dst."+name]
		m[name] = &Field{Name: name, Kind: src.Kind, Ends: []*Field{src, dst}, Doc: "either end's " + name}
	}
	return m
}()

// aliases map accepted spellings onto catalogue names.
func canonicalField(name string) string {
	for _, a := range [][2]string{{"orig.", "src."}, {"resp.", "dst."}} {
		if rest, ok := strings.CutPrefix(name, a[0]); ok {
			return a[1] + rest
		}
	}
	return name
}

// fieldNames lists the catalogue, for error messages.
func fieldNames() string {
	names := make([]string, 0, len(Fields))
	for n := range Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
