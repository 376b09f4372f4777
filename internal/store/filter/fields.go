package filter

import (
	"sort"
	"strings"
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
// attribute it stands for (docs/schema.md); Column is what a backend
// queries.
type Field struct {
	Name   string
	Kind   Kind
	Column string
	Doc    string
}

// Fields is the catalogue of session fields. "src"/"dst" are the
// originator and responder ("orig"/"resp" are accepted as aliases), and
// bytes/packets without a side are both directions added.
var Fields = func() map[string]*Field {
	m := map[string]*Field{}
	add := func(name string, k Kind, column, doc string) {
		m[name] = &Field{Name: name, Kind: k, Column: column, Doc: doc}
	}
	for _, side := range []struct{ name, col string }{{"src", "orig"}, {"dst", "resp"}} {
		add(side.name+".ip", KindAddr, side.col+"_ip", "address; compare with = or in (…) with addresses and CIDR prefixes")
		add(side.name+".port", KindNumber, side.col+"_port", "TCP/UDP port; ICMP type (src) or code/counterpart (dst)")
		add(side.name+".mac", KindString, side.col+"_mac", "Ethernet address")
		add(side.name+".tag", KindString, side.col+"_tags", "one of the end's tags (enrichment)")
		add(side.name+".segment", KindString, side.col+"_segment", "segment (enrichment)")
		add(side.name+".asset", KindString, side.col+"_asset", "asset id (enrichment)")
		add(side.name+".bytes", KindNumber, side.col+"_bytes", "payload bytes sent by this end")
		add(side.name+".packets", KindNumber, side.col+"_pkts", "packets sent by this end")
	}
	add("bytes", KindNumber, "orig_bytes + resp_bytes", "payload bytes both ways")
	add("packets", KindNumber, "orig_pkts + resp_pkts", "packets both ways")
	add("ip_bytes", KindNumber, "orig_ip_bytes + resp_ip_bytes", "IP bytes both ways")
	add("duration", KindDuration, "duration", "end − start")
	add("proto", KindString, "transport", "tcp, udp, icmp, unknown_transport")
	add("ip_proto", KindNumber, "ip_proto", "IP protocol number")
	add("app", KindString, "app", "application protocol")
	add("conn_state", KindString, "conn_state", "Zeek connection state (S0, SF, REJ, …)")
	add("history", KindString, "history", "Zeek history letters")
	add("direction", KindString, "direction", "inbound, outbound, internal, external")
	add("vni", KindNumber, "mirror_vni", "VXLAN/GENEVE VNI of the mirror session")
	add("mirror", KindAddr, "mirror_source", "outer source of the mirrored packets")
	add("sensor", KindString, "sensor", "sensor name")
	add("source", KindString, "source", "kind of source (pcap, mirror, afpacket, …)")
	add("missed_bytes", KindNumber, "missed_bytes", "TCP bytes never seen")
	add("community_id", KindString, "community_id", "Community ID v1")
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
