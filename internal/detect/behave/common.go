package behave

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// maxExamples bounds the session ids a report carries.
const maxExamples = 8

// ref is a session record id kept unformatted, so that remembering an
// example costs no allocation until a report needs it.
type ref struct {
	uid string
	seq uint32
}

func refOf(s *schema.Session) ref { return ref{s.UID, s.Seq} }

func (r ref) String() string { return r.uid + "/" + strconv.FormatUint(uint64(r.seq), 10) }

func refStrings(rs []ref) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// addExample keeps the first few examples of a window: the start of an
// incident is what an analyst wants to look at first.
func addExample(rs []ref, s *schema.Session) []ref {
	if len(rs) < maxExamples {
		rs = append(rs, refOf(s))
	}
	return rs
}

// host is a device as the detectors key it: its asset id when the
// inventory knows it (so that a device keeps its history across
// address changes), else its address.
type host struct {
	tenant string
	asset  string
	ip     netip.Addr
}

func hostOf(s *schema.Session, e *schema.Endpoint) host {
	if e.Asset != "" {
		return host{tenant: s.Tenant, asset: e.Asset}
	}
	return host{tenant: s.Tenant, ip: e.IP}
}

// outbound is a session from one of ours to the outside. The meter's
// direction, computed from the configured local networks, wins when set;
// but multicast and broadcast never leave the link, though local_nets
// rarely list them (SSDP and mDNS announcements would look like
// beacons to the internet).
func outbound(s *schema.Session) bool {
	if s.Resp.IP.IsMulticast() || s.Resp.IP == limitedBroadcast {
		return false
	}
	switch s.Direction {
	case "outbound":
		return true
	case "inbound", "internal", "external":
		return false
	}
	return detect.Internal(&s.Orig) && !detect.Internal(&s.Resp)
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// reply recognises the answering direction of a flow record: flow
// records count one direction each, so a server's replies appear with
// the server as originator. Its source port, the service, is then lower
// than the client's ephemeral port. Rejected records are never replies.
func reply(s *schema.Session) bool {
	return s.Flow != nil && s.Flow.Action != "reject" &&
		(s.Proto == 6 || s.Proto == 17) && s.Orig.Port < s.Resp.Port
}

// attempt is a record that starts a connection: the first record of a
// metered flow (interim records repeat it) or a flow record in the
// requesting direction.
func attempt(s *schema.Session) bool { return s.Seq == 0 && !reply(s) }

// unanswered is an attempt the responder refused or ignored: Zeek's
// states for no handshake or a reset before data, an unanswered UDP or
// ICMP exchange, or a flow record a firewall rejected. Flow records
// cannot tell otherwise and count as answered.
func unanswered(s *schema.Session) bool {
	if s.Flow != nil {
		return s.Flow.Action == "reject"
	}
	switch s.ConnState {
	case "S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR":
		return true
	case "RSTO", "RSTR":
		return s.OrigBytes == 0 && s.RespBytes == 0
	}
	return s.Proto != 6 && s.RespPkts == 0
}

// serverName is the name the client asked for (TLS SNI, HTTP Host),
// lower case and without a port; empty when the DPI saw none.
func serverName(s *schema.Session) string {
	if s.L7 == nil {
		return ""
	}
	if s.L7.TLS != nil && s.L7.TLS.SNI != "" {
		return strings.ToLower(s.L7.TLS.SNI)
	}
	if s.L7.HTTP != nil && s.L7.HTTP.Host != "" {
		h := s.L7.HTTP.Host
		if i := strings.LastIndexByte(h, ':'); i > 0 && !strings.Contains(h[i:], "]") {
			h = h[:i]
		}
		return strings.ToLower(h)
	}
	return ""
}

// evictOne drops an arbitrary entry and returns it for reuse. Go
// randomises where map iteration starts, so this is random eviction in
// constant time: no list to keep per entry, and a flood of new keys
// cannot target old ones.
func evictOne[K comparable, V any](m map[K]V) V {
	for k, v := range m {
		delete(m, k)
		return v
	}
	var zero V
	return zero
}

// domains caches registered domains (eTLD+1) by name: the public suffix
// lookup costs more than the rest of a detector's work, and allocates
// for every name, while a network asks for the same names all day.
type domains struct {
	max   int
	cache map[string]string
}

func newDomains(max int) *domains { return &domains{max: max, cache: make(map[string]string)} }

// registered returns name's registered domain, or "" for a name that is
// itself a public suffix or an address.
func (c *domains) registered(name string) string {
	if d, ok := c.cache[name]; ok {
		return d
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		d = ""
	}
	if len(c.cache) >= c.max {
		evictOne(c.cache)
	}
	c.cache[name] = d
	return d
}

// sweeper rate-limits full scans of a detector's state on Tick to once
// per interval of session time.
type sweeper struct {
	every time.Duration
	last  time.Time
}

func (w *sweeper) due(now time.Time) bool {
	if now.Sub(w.last) < w.every {
		return false
	}
	w.last = now
	return true
}

// expire moves the entries of m that are over to free, for reuse, and
// returns free.
func expire[K comparable, V any](m map[K]*V, free []*V, over func(*V) bool) []*V {
	for k, v := range m {
		if over(v) {
			delete(m, k)
			free = append(free, v)
		}
	}
	return free
}

// report fills the fields every behavioural report shares.
func newReport(s *schema.Session, rule string, sev detect.Severity, technique string) detect.Report {
	return detect.Report{Time: s.End, Tenant: s.Tenant, Rule: rule, Severity: sev, Technique: technique}
}
