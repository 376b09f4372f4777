// Package schema holds Osprey's versioned contracts. A Session is one
// bidirectional conversation as seen by a sensor or collector; its JSON form
// is documented in docs/schema.md and changes only with SessionVersion.
package schema

import (
	"net/netip"
	"time"
)

// SessionVersion is the version of the Session contract written in every
// JSON record ("v"). Bump it on any change that is not purely additive.
const SessionVersion = 1

// Session is the contract every source (packet sensor, flow logs, NetFlow)
// produces. Orig is the endpoint that started the conversation, Resp the
// one that answered, as Zeek orients its conn.log.
type Session struct {
	Version int    `json:"v"`
	UID     string `json:"uid"` // stable across the interim records of one flow
	Seq     uint32 `json:"seq"` // 0,1,2… per record of the same UID; (uid, seq) is the record id
	Final   bool   `json:"final"`
	// EndReason says why this record was written: idle, active (interim),
	// fin, rst, eof, evicted (memory cap) or shutdown.
	EndReason string `json:"end_reason"`

	Tenant string `json:"tenant,omitempty"`
	Sensor string `json:"sensor,omitempty"`
	Source string `json:"source"` // pcap, vxlan, geneve, afpacket, …

	Start time.Time `json:"start"`
	End   time.Time `json:"end"`

	Orig      Endpoint `json:"orig"`
	Resp      Endpoint `json:"resp"`
	Proto     uint8    `json:"ip_proto"`
	Transport string   `json:"transport"` // tcp, udp, icmp, unknown_transport (Zeek's proto)
	// Direction relative to the monitored networks: inbound, outbound,
	// internal, external, or empty when no local networks are configured.
	Direction string `json:"direction,omitempty"`

	ConnState string `json:"conn_state"`
	History   string `json:"history"`

	OrigPkts    uint64 `json:"orig_pkts"`
	RespPkts    uint64 `json:"resp_pkts"`
	OrigBytes   uint64 `json:"orig_bytes"` // transport payload, as Zeek counts it
	RespBytes   uint64 `json:"resp_bytes"`
	OrigIPBytes uint64 `json:"orig_ip_bytes"` // IP total lengths
	RespIPBytes uint64 `json:"resp_ip_bytes"`
	MissedBytes uint64 `json:"missed_bytes"`

	// App is the application protocol ("dns", "http", "vxlan", …); empty when unknown.
	App string `json:"app,omitempty"`
	// L7 is the application metadata behind App (decoded fields, how the
	// label was chosen and with what confidence); nil when nothing was seen.
	L7 *L7 `json:"l7,omitempty"`

	VLANs         []uint16 `json:"vlans,omitempty"` // outer first
	Mirror        *Mirror  `json:"mirror,omitempty"`
	TunnelParents []string `json:"tunnel_parents,omitempty"` // UIDs of the outer tunnel sessions
	CommunityID   string   `json:"community_id,omitempty"`
	// Intel lists the feeds that name a domain the session carried (DNS
	// query, TLS SNI, HTTP host); hits on addresses are on the endpoints.
	Intel []IntelHit `json:"intel,omitempty"`
	// Flow is what a flow record (cloud flow log, NetFlow, IPFIX, sFlow)
	// says beyond addresses and counters; nil for sessions metered from
	// packets.
	Flow *Flow `json:"flow,omitempty"`
}

// Flow is the record-level metadata of a session that a collector built
// from flow records rather than packets. A flow record covers an
// aggregation window (Start–End), not necessarily a whole conversation:
// Seq numbers the windows of one UID, and Final is set only when the
// exporter said the flow ended (docs/collectors.md).
type Flow struct {
	// Action is accept or reject (security groups, network ACLs, NSG
	// rules, firewall rules); empty when the record does not say.
	Action string `json:"action,omitempty"`
	// Status is the record's log status when it is not a plain record:
	// nodata (no traffic in the window) or skipdata (records lost).
	Status string `json:"status,omitempty"`
	// Direction is the exporter's own view: ingress or egress of the
	// interface that logged the record.
	Direction string `json:"direction,omitempty"`
	// TCPFlags is the OR of the TCP flags seen in the window.
	TCPFlags uint8 `json:"tcp_flags,omitempty"`

	// Cloud: where the record was logged.
	Account   string `json:"account,omitempty"`
	Region    string `json:"region,omitempty"`
	Zone      string `json:"zone,omitempty"` // availability zone, or its id
	VPC       string `json:"vpc,omitempty"`
	Subnet    string `json:"subnet,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Interface string `json:"interface,omitempty"` // eni-…, a NIC's MAC or resource id
	// Rule is the NSG or firewall rule that decided (Azure, GCP).
	Rule string `json:"rule,omitempty"`
	// Packet addresses when they differ from the session's (AWS
	// pkt-srcaddr/pkt-dstaddr: a NAT gateway, an EKS pod, a middlebox),
	// and the AWS services their ranges belong to.
	PktSrc        netip.Addr `json:"pkt_src,omitzero"`
	PktDst        netip.Addr `json:"pkt_dst,omitzero"`
	PktSrcService string     `json:"pkt_src_service,omitempty"`
	PktDstService string     `json:"pkt_dst_service,omitempty"`
	// Extra holds the fields of a source that have no column here (AWS
	// traffic-path, sublocation, the ECS fields of version 7, Azure's
	// encryption state, GCP's instance details), under the source's own
	// field names.
	Extra map[string]string `json:"extra,omitempty"`

	// Exporters (NetFlow, IPFIX, sFlow): who sent the record and through
	// which interfaces the flow passed. SamplingRate is 1 in N; counters
	// on the session are already scaled by it.
	Exporter     netip.Addr `json:"exporter,omitzero"`
	Domain       uint32     `json:"domain,omitempty"` // observation domain or source id
	InIf         uint32     `json:"in_if,omitempty"`
	OutIf        uint32     `json:"out_if,omitempty"`
	SamplingRate uint64     `json:"sampling_rate,omitempty"`
}

// Endpoint is one end of a session. Enrichment (asset, tags, geo, intel)
// is added here by later stages.
type Endpoint struct {
	IP   netip.Addr `json:"ip"`
	Port uint16     `json:"port"` // ICMP: type for orig, code for resp, as Zeek does
	MAC  string     `json:"mac,omitempty"`
	// TTL is the IP TTL (hop limit) of this end's SYN or SYN-ACK, and
	// TCPSig that segment's shape, "window:mss:wscale:options"
	// with options in order (mss, sok, ts, nop, ws, eol, or the kind
	// number), as p0f and others fingerprint operating systems.
	TTL    uint8  `json:"ttl,omitempty"`
	TCPSig string `json:"tcp_sig,omitempty"`

	// Enrichment (internal/enrich, docs/enrichment.md): what the asset
	// inventory, the CIDR map, the GeoIP/ASN databases and the threat
	// intelligence feeds say about this end.
	Asset     string `json:"asset,omitempty"`      // asset id: EC2 instance id, inventory id
	AssetName string `json:"asset_name,omitempty"` // its Name tag or host name
	Account   string `json:"account,omitempty"`    // cloud account (AWS account id) or owner
	// Tags are the asset's tags and those of every CIDR range holding
	// the address, sorted and unique.
	Tags []string `json:"tags,omitempty"`
	// Segment is the most specific CIDR range's segment; unmatched public
	// space is "internet", unmatched private space "unknown-private".
	Segment string     `json:"segment,omitempty"`
	Geo     *Geo       `json:"geo,omitempty"`
	Intel   []IntelHit `json:"intel,omitempty"` // feeds that list this address
}

// Geo is what GeoIP and ASN databases say about a public address.
type Geo struct {
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
	City    string `json:"city,omitempty"`
	ASN     uint32 `json:"asn,omitempty"`
	ASOrg   string `json:"as_org,omitempty"`
}

// IntelHit is a threat-intelligence indicator that matched.
type IntelHit struct {
	Feed      string `json:"feed"`
	Indicator string `json:"indicator"` // as the feed wrote it: 203.0.113.7, 198.51.100.0/24, evil.example
	// Field is what matched it: "ip" for an endpoint's address, or
	// "dns.query", "tls.sni", "http.host" for a name in the session.
	Field string `json:"field"`
}

// Mirror is the encapsulation that delivered the packets: for AWS Traffic
// Mirroring the outer source is the mirrored ENI's primary address and the
// VNI is the mirror session's VXLAN id.
type Mirror struct {
	Kind   string     `json:"kind"` // vxlan, geneve, erspan2, erspan3, gre
	Source netip.Addr `json:"source"`
	VNI    uint32     `json:"vni"`
	// From the asset inventory: the mirror session, the mirrored network
	// interface and the asset it belongs to.
	Session   string `json:"session,omitempty"`   // tmms-…
	Interface string `json:"interface,omitempty"` // eni-…
	Asset     string `json:"asset,omitempty"`     // i-…
}

// Transport is Zeek's name for an IP protocol, as Session.Transport holds
// it.
func Transport(proto uint8) string {
	switch proto {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1, 58:
		return "icmp"
	}
	return "unknown_transport"
}

// MAC formats an Ethernet address as Endpoint.MAC holds it
// ("90:b1:1c:99:49:29"), with one allocation.
func MAC(m [6]byte) string {
	const hex = "0123456789abcdef"
	var b [17]byte
	for i, v := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i], b[3*i+1] = hex[v>>4], hex[v&0xf]
	}
	return string(b[:])
}
