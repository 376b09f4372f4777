package enrich

import (
	"net"
	"net/netip"
	"strings"

	"github.com/osprey-ndr/osprey/internal/enrich/geo"
	"github.com/osprey-ndr/osprey/internal/enrich/intel"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Session fills both endpoints, the mirror and the domain hits of s.
// Tags, Geo and the strings it sets may be shared with other sessions:
// consumers must treat them as read-only.
func (e *Enricher) Session(s *schema.Session) {
	n, db, feeds := e.names.Load(), e.geo.Load(), e.intel.Load()
	endpoint(&s.Orig, n, db, feeds)
	endpoint(&s.Resp, n, db, feeds)
	if m := s.Mirror; m != nil && n.inv != nil {
		if ms, iface, a := n.inv.ByMirror(m.Source, m.VNI); iface != nil || a != nil {
			if ms != nil {
				m.Session = ms.ID
			}
			if iface != nil {
				m.Interface = iface.ID
			}
			if a != nil {
				m.Asset = a.ID
			}
		}
	}
	if feeds != nil && s.L7 != nil {
		s.Intel = domainHits(s.L7, feeds, s.Intel[:0])
	}
}

func endpoint(ep *schema.Endpoint, n *names, db *geo.DB, feeds *intel.Set) {
	if !ep.IP.IsValid() {
		return
	}
	v := n.lookup(ep.IP)
	ep.Asset, ep.AssetName, ep.Account = v.asset, v.assetName, v.account
	ep.Tags, ep.Segment = v.tags, v.segment
	if db != nil {
		ep.Geo = db.Lookup(ep.IP)
	}
	if feeds != nil {
		ep.Intel = feeds.IP(ep.IP, ep.Intel[:0])
	}
}

// union merges two sorted, unique tag lists, sharing either when the
// other is empty.
func union(a, b []string) []string {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		switch {
		case a[0] < b[0]:
			out, a = append(out, a[0]), a[1:]
		case b[0] < a[0]:
			out, b = append(out, b[0]), b[1:]
		default:
			out, a, b = append(out, a[0]), a[1:], b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// domainHits looks up the names a session carried.
func domainHits(l7 *schema.L7, feeds *intel.Set, dst []schema.IntelHit) []schema.IntelHit {
	if d := l7.DNS; d != nil && d.Query != "" {
		dst = feeds.Domain(d.Query, "dns.query", dst)
	}
	if t := l7.TLS; t != nil && t.SNI != "" {
		dst = feeds.Domain(t.SNI, "tls.sni", dst)
	}
	if h := l7.HTTP; h != nil && h.Host != "" {
		dst = feeds.Domain(hostOnly(h.Host), "http.host", dst)
	}
	if len(dst) == 0 {
		return nil
	}
	return dst
}

// hostOnly drops the port from an HTTP Host header ("a.example:8080",
// "[2001:db8::1]:80").
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

// Metric sets a device metric's asset: the device id is an asset's id
// or name, or "ip:<address>" for devices known by address only.
func (e *Enricher) Metric(m *schema.DeviceMetric) {
	inv := e.names.Load().inv
	if inv == nil {
		return
	}
	a := inv.ByID(m.Device)
	if a == nil {
		if ip, err := netip.ParseAddr(strings.TrimPrefix(m.Device, "ip:")); err == nil {
			a = inv.ByIP(ip)
		}
	}
	if a != nil {
		m.Asset = a.ID
	}
}
