package policy

import (
	"net/netip"
	"slices"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// side selects one end of a session. Its keys must all hold; a key's
// list holds when any element does.
type side struct {
	tags, segments, assets []string
	prefixes               []netip.Prefix
	ports                  []portRange
	not                    *side
}

// portRange is an inclusive range; a single port is lo == hi.
type portRange struct{ lo, hi uint16 }

func (sd *side) matches(e *schema.Endpoint, s *schema.Session) bool {
	if sd == nil {
		return true
	}
	if sd.tags != nil && !anyTag(e.Tags, sd.tags) {
		return false
	}
	if sd.segments != nil && !slices.Contains(sd.segments, e.Segment) {
		return false
	}
	if sd.assets != nil && (e.Asset == "" || !slices.Contains(sd.assets, e.Asset)) {
		return false
	}
	if sd.prefixes != nil && !inPrefixes(e.IP, sd.prefixes) {
		return false
	}
	// Ports of ICMP sessions hold its type and code, which a port
	// selector must not mistake for services.
	if sd.ports != nil && ((s.Transport != "tcp" && s.Transport != "udp") || !inPorts(e.Port, sd.ports)) {
		return false
	}
	return sd.not == nil || !sd.not.matches(e, s)
}

func anyTag(have, want []string) bool {
	for _, t := range want {
		if slices.Contains(have, t) {
			return true
		}
	}
	return false
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	// Sessions from IPv4-mapped IPv6 sockets must match IPv4 ranges.
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func inPorts(port uint16, rs []portRange) bool {
	for _, r := range rs {
		if port >= r.lo && port <= r.hi {
			return true
		}
	}
	return false
}

// match selects sessions: both sides, the session-wide keys and the CEL
// condition must all hold; an empty match selects every session.
type match struct {
	from, to              *side
	proto, app, direction []string
	when                  *program
}

func (m *match) matches(s *schema.Session, act *activation) bool {
	if m.proto != nil && !slices.Contains(m.proto, s.Transport) {
		return false
	}
	if m.app != nil && !slices.Contains(m.app, s.App) {
		return false
	}
	if m.direction != nil && !slices.Contains(m.direction, s.Direction) {
		return false
	}
	if !m.from.matches(&s.Orig, s) || !m.to.matches(&s.Resp, s) {
		return false
	}
	// CEL last: it is the dearest test.
	return m.when == nil || m.when.eval(s, act)
}
