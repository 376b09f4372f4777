package scenario

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// conn is one connection to write as a session record.
type conn struct {
	at           time.Time
	dur          time.Duration
	orig, resp   *node
	sport, dport uint16 // sport 0 picks an ephemeral port
	udp          bool
	// state is Zeek's conn_state: "" (SF, answered and closed), S0 (no
	// answer), REJ (refused).
	state  string
	ob, rb uint64 // payload bytes each way
	app    string
	l7     *schema.L7
}

// localNet is what the sensor's meter.local_nets holds: the site's
// private space. Direction is computed from it as the meter does, so
// multicast and broadcast leave "outbound".
var localNet = netip.MustParsePrefix("10.0.0.0/8")

var (
	mdnsGroup = &node{ip: netip.MustParseAddr("224.0.0.251"), segment: "unknown-private"}
	ssdpGroup = &node{ip: netip.MustParseAddr("239.255.255.250"), segment: "unknown-private"}
	nbBcast   = &node{ip: netip.MustParseAddr("10.20.255.255"), segment: "prod"}
)

// emit writes c as a final record and returns it.
func (g *gen) emit(c conn) *schema.Session {
	s := g.record(c, g.uid(), c.at.Add(c.dur))
	s.Final, s.EndReason = true, "fin"
	if c.udp || c.state != "" {
		s.EndReason = "idle"
	}
	return s
}

// record builds the session of c ending at end, without Final; the
// caller sets the record's place in its flow.
func (g *gen) record(c conn, uid string, end time.Time) *schema.Session {
	if c.sport == 0 {
		c.sport = g.ephemeral(c.orig)
	}
	g.out = append(g.out, schema.Session{
		Version: schema.SessionVersion, UID: uid, Tenant: g.cfg.Tenant, Sensor: "sensor-1", Source: "vxlan",
		Start: c.at, End: end, Orig: endpoint(c.orig, c.sport), Resp: endpoint(c.resp, c.dport),
		App: c.app, L7: c.l7,
	})
	s := &g.out[len(g.out)-1]
	s.Proto, s.Transport = 6, "tcp"
	if c.udp {
		s.Proto, s.Transport = 17, "udp"
	}
	s.Direction = direction(c.orig.ip, c.resp.ip)
	g.counters(s, c)
	g.enrichIntel(s)
	return s
}

// counters fills state, history, packets and bytes as the meter would.
func (g *gen) counters(s *schema.Session, c conn) {
	hdr := uint64(52)
	if c.udp {
		hdr = 28
	}
	switch {
	case c.state == "S0":
		s.ConnState, s.History, s.OrigPkts = "S0", "S", 1+uint64(g.rng.IntN(2))
		if c.udp {
			s.History, s.OrigBytes = "D", c.ob
		}
	case c.state == "REJ":
		s.ConnState, s.History, s.OrigPkts, s.RespPkts = "REJ", "Sr", 1, 1
	case c.udp:
		s.ConnState, s.History = "SF", "Dd"
		s.OrigPkts, s.RespPkts = 1+c.ob/1400, 1+c.rb/1400
		s.OrigBytes, s.RespBytes = c.ob, c.rb
	default:
		s.ConnState, s.History = "SF", "ShADadFf"
		s.OrigPkts, s.RespPkts = 4+c.ob/1400, 3+c.rb/1400
		s.OrigBytes, s.RespBytes = c.ob, c.rb
	}
	s.OrigIPBytes, s.RespIPBytes = s.OrigBytes+s.OrigPkts*hdr, s.RespBytes+s.RespPkts*hdr
}

func direction(orig, resp netip.Addr) string {
	lo, lr := localNet.Contains(orig), localNet.Contains(resp)
	switch {
	case lo && lr:
		return "internal"
	case lo:
		return "outbound"
	case lr:
		return "inbound"
	}
	return "external"
}

func endpoint(n *node, port uint16) schema.Endpoint {
	return schema.Endpoint{IP: n.ip, Port: port, MAC: n.mac, Asset: n.asset, AssetName: n.name,
		Tags: n.tags, Segment: n.segment, Geo: n.geo}
}

func (g *gen) uid() string {
	g.uids++
	return g.uidPrefix + strconv.FormatUint(g.uids, 36)
}

func (g *gen) ephemeral(n *node) uint16 {
	if n.windows {
		return uint16(49152 + g.rng.IntN(16384))
	}
	return uint16(32768 + g.rng.IntN(28232))
}

// enrichIntel adds the feed's hits as enrichment does: on an endpoint
// whose address is listed, on the session for a listed name it carried.
func (g *gen) enrichIntel(s *schema.Session) {
	for _, e := range []*schema.Endpoint{&s.Orig, &s.Resp} {
		if ind, ok := g.intelIPs[e.IP]; ok {
			e.Intel = []schema.IntelHit{{Feed: intelFeed, Indicator: ind, Field: "ip"}}
		}
	}
	if s.L7 == nil {
		return
	}
	check := func(name, field string) {
		if name != "" && g.intelNames[name] {
			s.Intel = append(s.Intel, schema.IntelHit{Feed: intelFeed, Indicator: name, Field: field})
		}
	}
	if s.L7.DNS != nil {
		check(s.L7.DNS.Query, "dns.query")
	}
	if s.L7.TLS != nil {
		check(s.L7.TLS.SNI, "tls.sni")
	}
	if s.L7.HTTP != nil {
		check(s.L7.HTTP.Host, "http.host")
	}
}

// flow is a long-lived connection written as interim records, as the
// meter's active timeout cuts them, with counters that grow.
type flow struct {
	c      conn
	uid    string
	seq    uint32
	ob, rb uint64
	last   time.Time // of the latest record
	open   bool
}

func (g *gen) openFlow(c conn) *flow {
	c.sport = g.ephemeral(c.orig)
	return &flow{c: c, uid: g.uid(), open: true}
}

// write adds bytes and writes a record at t; final closes the flow.
func (g *gen) write(f *flow, t time.Time, ob, rb uint64, final bool) {
	f.ob += ob
	f.rb += rb
	c := f.c
	c.ob, c.rb = f.ob, f.rb
	s := g.record(c, f.uid, t)
	s.Seq, s.Final, s.EndReason = f.seq, final, "active"
	f.last = t
	if final {
		s.EndReason, f.open = "fin", false
	}
	f.seq++
}

// tls is a TLS connection to name on port, as DPI labels it.
func tlsL7(name string) *schema.L7 {
	return &schema.L7{By: "content", Confidence: 1,
		TLS: &schema.TLS{Version: "TLSv13", SNI: name, ALPN: []string{"h2", "http/1.1"}, Cipher: "TLS_AES_128_GCM_SHA256"}}
}

func httpL7(method, host, uri, ua string, status int) *schema.L7 {
	return &schema.L7{By: "content", Confidence: 1,
		HTTP: &schema.HTTP{Method: method, Host: host, URI: uri, UserAgent: ua, Status: status, Requests: 1}}
}

func dnsL7(id uint16, query, qtype string, answers ...string) *schema.L7 {
	return &schema.L7{By: "content", Confidence: 1,
		DNS: &schema.DNS{ID: id, Query: query, QType: qtype, RCode: "NOERROR", Answers: answers, Queries: 1}}
}
