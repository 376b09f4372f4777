package devices

import (
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/devices/oui"
	"github.com/osprey-ndr/osprey/internal/schema"
)

type tenantAddr struct {
	tenant string
	ip     netip.Addr
}

type tenantMAC struct {
	tenant string
	mac    [6]byte
}

// macState is what the inventory knows of one unicast MAC: the device it
// identifies, and the addresses it was seen with lately, to tell a host
// (a few addresses of its own) from a router (every address it forwards
// for, local or remote).
type macState struct {
	dev     *device
	gateway bool
	recent  []addrSeen // last is the time seen; at most MaxIPsPerMAC+1
}

// isLocal reports whether an address is in the monitored networks.
func (inv *Inventory) isLocal(ip netip.Addr) bool {
	if inv.defaultLocal {
		return ip.IsPrivate() || ip.IsLinkLocalUnicast()
	}
	nets := inv.local4
	if ip.Is6() {
		nets = inv.local6
	}
	for _, p := range nets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// hostAddr reports whether an address can be one host's: not multicast,
// broadcast, unspecified or loopback.
func hostAddr(ip netip.Addr) bool {
	return ip.IsValid() && !ip.IsMulticast() && !ip.IsUnspecified() && !ip.IsLoopback() && ip != broadcast4
}

// parseMAC reads "90:b1:1c:99:49:29" (or the other forms oui.ParseMAC
// takes) without allocating.
func parseMAC(s string) ([6]byte, bool) { return oui.ParseMAC(s) }

// unicastMAC reports a MAC that can name one interface.
func unicastMAC(m [6]byte) bool {
	return m[0]&1 == 0 && m != [6]byte{}
}

// resolve finds or creates the device behind one end of a session, or
// returns nil for a peer (not in the local networks, or not one host).
// The identity is the asset id if enrichment gave one, else the MAC if it
// is a host's, else whatever the address is bound to (by an earlier
// MAC sighting or a DHCP ACK), else the address itself.
func (inv *Inventory) resolve(tenant string, e *schema.Endpoint, start, t, now time.Time) *device {
	mac, macOK := parseMAC(e.MAC)
	if macOK && !unicastMAC(mac) {
		return nil // sent to broadcast or multicast
	}
	if !hostAddr(e.IP) {
		return nil
	}
	var ms *macState
	if macOK {
		ms = inv.trackMAC(tenant, mac, e.IP, t, now)
	}
	if !inv.isLocal(e.IP) {
		return nil
	}
	hostMAC := macOK && (ms == nil || !ms.gateway)
	var d *device
	switch {
	case e.Asset != "":
		d = inv.device(devKey{tenant: tenant, kind: kindAsset, asset: e.Asset}, t, now)
		if d == nil {
			return nil
		}
		if hostMAC {
			d = inv.bindMAC(d, ms, mac, t)
		}
	case hostMAC && ms != nil && ms.dev != nil:
		d = ms.dev
		d.seeMAC(mac, t)
	case hostMAC:
		d = inv.device(devKey{tenant: tenant, kind: kindMAC, mac: mac}, t, now)
		if d == nil {
			return nil
		}
		d = inv.bindMAC(d, ms, mac, t)
	default:
		if d = inv.byIP[tenantAddr{tenant, e.IP}]; d == nil {
			if d = inv.device(devKey{tenant: tenant, kind: kindIP, ip: e.IP}, t, now); d == nil {
				return nil
			}
		}
	}
	d = inv.bindIP(d, e.IP, t)
	d.touch(t, now)
	if !start.IsZero() && start.Before(d.first) {
		d.first = start
	}
	if e.Asset != "" {
		d.asset = e.Asset
	}
	if e.Segment != "" && e.Segment != d.segment {
		d.segment = e.Segment
	}
	if len(e.Tags) > 0 {
		d.setTags(e.Tags)
	}
	return d
}

// device returns the device of a key, creating it (and making room at
// the cap) when it is new. It returns nil only when the cap is zero.
func (inv *Inventory) device(k devKey, t, now time.Time) *device {
	if d := inv.devs[k]; d != nil {
		return d
	}
	if len(inv.devs) >= inv.cfg.MaxDevices {
		inv.evict()
	}
	d := &device{key: k, first: t, last: t, modified: now}
	inv.devs[k] = d
	inv.st.Created++
	return d
}

// bindMAC makes mac identify d. A device known so far by that MAC or
// only by an address is merged into d (an asset id arrived for it); a
// MAC that moves between assets just moves.
func (inv *Inventory) bindMAC(d *device, ms *macState, mac [6]byte, t time.Time) *device {
	if ms != nil {
		switch old := ms.dev; {
		case old == d:
		case old != nil && old.key.kind < d.key.kind:
			inv.merge(d, old, t)
		default:
			if old != nil {
				inv.st.Moved++
			}
			ms.dev = d
		}
	}
	if !d.hasMAC(mac) {
		vendor := ""
		if inv.vendors != nil && macKind(mac) == "universal" {
			vendor, _ = inv.vendors.Lookup(mac)
		}
		d.addMAC(mac, vendor, t, inv.cfg.MaxMACs)
	} else {
		d.addMAC(mac, "", t, inv.cfg.MaxMACs)
	}
	return d
}

// bindIP records that d holds ip now. A device known only by that
// address is the same host seen before its MAC or asset id: it is merged
// into d. An address held by another MAC or asset device moved (DHCP
// reassigned it, or the host was replaced): the index follows it and the
// old device keeps its history.
func (inv *Inventory) bindIP(d *device, ip netip.Addr, t time.Time) *device {
	k := tenantAddr{d.key.tenant, ip}
	switch old := inv.byIP[k]; {
	case old == d:
	case old == nil:
		inv.byIP[k] = d
	case old.key.kind == kindIP && d.key.kind > kindIP:
		inv.merge(d, old, t)
	default:
		inv.byIP[k] = d
		inv.st.Moved++
	}
	d.addIP(ip, t, inv.cfg.MaxIPs)
	return d
}

// trackMAC notes that mac was seen with ip, whether or not ip is local:
// a MAC seen with many addresses at once is a router's (it also carries
// every remote address), and is then never used as an identity. It
// returns nil when the MAC table is full.
func (inv *Inventory) trackMAC(tenant string, mac [6]byte, ip netip.Addr, t, now time.Time) *macState {
	k := tenantMAC{tenant, mac}
	ms := inv.macs[k]
	if ms == nil {
		if len(inv.macs) >= 2*inv.cfg.MaxDevices {
			inv.st.MACsUntracked++
			return nil
		}
		ms = &macState{}
		inv.macs[k] = ms
	}
	if ms.gateway {
		if g := ms.dev; g != nil && g.gateway != nil {
			g.gateway.behind.add(addrHash(ip))
			g.touch(t, now)
		}
		return ms
	}
	for i := range ms.recent {
		if ms.recent[i].ip == ip {
			if t.After(ms.recent[i].last) {
				ms.recent[i].last = t
			}
			return ms
		}
	}
	// A new address: forget those not seen within the window first.
	ms.recent = slices.DeleteFunc(ms.recent, func(a addrSeen) bool { return t.Sub(a.last) > inv.cfg.GatewayWindow })
	if ms.recent == nil {
		ms.recent = make([]addrSeen, 0, 2)
	}
	ms.recent = append(ms.recent, addrSeen{ip: ip, first: t, last: t})
	if len(ms.recent) > inv.cfg.MaxIPsPerMAC {
		inv.flagGateway(tenant, mac, ms, t, now)
	}
	return ms
}

// flagGateway turns a MAC into a router's. Its device (created if need
// be) becomes the router's entry; the addresses attributed to it so far
// were the routed hosts', so they are unbound and left to devices of
// their own.
func (inv *Inventory) flagGateway(tenant string, mac [6]byte, ms *macState, t, now time.Time) {
	ms.gateway = true
	inv.st.Gateways++
	g := ms.dev
	if g == nil || g.key.kind != kindMAC || g.key.mac != mac {
		if g != nil {
			g.macs = slices.DeleteFunc(g.macs, func(m macSeen) bool { return m.mac == mac })
		}
		if g = inv.device(devKey{tenant: tenant, kind: kindMAC, mac: mac}, t, now); g == nil {
			return
		}
		ms.dev = g
		inv.bindMAC(g, nil, mac, t)
	}
	for _, a := range g.ips {
		if k := (tenantAddr{tenant, a.ip}); inv.byIP[k] == g {
			delete(inv.byIP, k)
		}
	}
	g.ips = nil
	g.gateway = &gatewayInfo{since: t}
	for _, a := range ms.recent {
		g.gateway.behind.add(addrHash(a.ip))
	}
	ms.recent = nil
	g.touch(t, now)
}

// merge folds src into dst (same host, better identity) and forgets src;
// dst remembers src's id in merged_from.
func (inv *Inventory) merge(dst, src *device, t time.Time) {
	if dst == src {
		return
	}
	inv.st.Merged++
	dst.mergedFrom = append(dst.mergedFrom, Merge{ID: src.key.id(), Time: t})
	dst.mergedFrom = append(dst.mergedFrom, src.mergedFrom...)
	if len(dst.mergedFrom) > maxMerged {
		dst.mergedFrom = dst.mergedFrom[len(dst.mergedFrom)-maxMerged:]
	}
	inv.fold(dst, src)
	inv.forget(src, dst)
}

// fold adds src's profile to dst's.
func (inv *Inventory) fold(dst, src *device) {
	if dst.first.IsZero() || (!src.first.IsZero() && src.first.Before(dst.first)) {
		dst.first = src.first
	}
	if src.last.After(dst.last) {
		dst.last = src.last
	}
	if src.modified.After(dst.modified) {
		dst.modified = src.modified
	}
	if dst.asset == "" {
		dst.asset = src.asset
	}
	if dst.segment == "" {
		dst.segment = src.segment
	}
	if dst.tags == nil {
		dst.tags = src.tags
	}
	c := &inv.cfg
	for _, m := range src.macs {
		dst.addMAC(m.mac, m.vendor, m.first, c.MaxMACs)
		dst.addMAC(m.mac, m.vendor, m.last, c.MaxMACs)
	}
	for _, a := range src.ips {
		dst.addIP(a.ip, a.first, c.MaxIPs)
		dst.addIP(a.ip, a.last, c.MaxIPs)
	}
	for _, n := range src.names {
		dst.addName(n.name, n.source, n.first, c.MaxNames)
		dst.addName(n.name, n.source, n.last, c.MaxNames)
	}
	dst.industrial.fill(src.industrial)
	for i := range dst.ttl {
		dst.ttl[i] += src.ttl[i]
	}
	for _, s := range src.tcpSigs {
		dst.addSig(s.sig, s.synAck)
		for i := range dst.tcpSigs {
			if dst.tcpSigs[i].sig == s.sig && dst.tcpSigs[i].synAck == s.synAck {
				dst.tcpSigs[i].n += s.n - 1
			}
		}
	}
	dst.dhcp.fill(src.dhcp)
	for _, l := range []struct {
		dst, src *strList
		limit    int
		what     drop
	}{
		{&dst.userAgents, &src.userAgents, maxUserAgents, dropUserAgents},
		{&dst.ssh, &src.ssh, maxSSH, dropSSH},
		{&dst.httpServers, &src.httpServers, maxHTTPServers, dropHTTPServers},
		{&dst.ja4, &src.ja4, c.MaxStrings, dropJA4},
		{&dst.sni, &src.sni, c.MaxStrings, dropSNI},
		{&dst.dnsQueries, &src.dnsQueries, c.MaxStrings, dropDNS},
		{&dst.httpHosts, &src.httpHosts, c.MaxStrings, dropHTTPHosts},
		{&dst.mqttIDs, &src.mqttIDs, c.MaxStrings, dropMQTT},
	} {
		for _, v := range l.src.items {
			dst.addStr(l.dst, v, l.limit, l.what)
		}
	}
	for k, s := range src.services {
		d := dst.service(k, c.MaxServices)
		if d == nil {
			continue
		}
		if d.app == "" {
			d.app = s.app
		}
		if d.first.IsZero() || (!s.first.IsZero() && s.first.Before(d.first)) {
			d.first = s.first
		}
		if s.last.After(d.last) {
			d.last = s.last
		}
		d.sessions += s.sessions
		d.clients.merge(&s.clients)
	}
	for ip, p := range src.peers {
		dst.addPeer(ip, p.sessions, p.bytes, p.last, c.MaxPeers)
	}
	for k, a := range src.apps {
		dst.addApp(k, a.sessions, a.bytes, c.MaxClientApps)
	}
	for _, u := range src.ot {
		if d := dst.otUse(u.protocol, u.server); d != nil {
			d.sessions += u.sessions
			d.peers.merge(&u.peers)
			dst.addFunctions(d, u.functions)
		}
	}
	for _, h := range src.hints {
		dst.addHint(h.Tag)
		for i := range dst.hints {
			if dst.hints[i].Tag == h.Tag {
				dst.hints[i].Count += h.Count - 1
			}
		}
	}
	if dst.mirror.Kind == "" {
		dst.mirror = src.mirror
	} else {
		dst.mirror.Sessions += src.mirror.Sessions
		dst.mirror.Self = dst.mirror.Self || src.mirror.Self
	}
	dst.traffic.add(src.traffic)
	for i := range dst.dropped {
		dst.dropped[i] += src.dropped[i]
	}
}

// forget removes d and points its index entries at heir (nil: drop them).
func (inv *Inventory) forget(d, heir *device) {
	delete(inv.devs, d.key)
	for _, a := range d.ips {
		k := tenantAddr{d.key.tenant, a.ip}
		if inv.byIP[k] == d {
			if heir != nil {
				inv.byIP[k] = heir
			} else {
				delete(inv.byIP, k)
			}
		}
	}
	for _, m := range d.macs {
		k := tenantMAC{d.key.tenant, m.mac}
		if ms := inv.macs[k]; ms != nil && ms.dev == d {
			ms.dev = heir
			if heir == nil && !ms.gateway {
				delete(inv.macs, k)
			}
		}
	}
	if d.key.kind == kindMAC {
		k := tenantMAC{d.key.tenant, d.key.mac}
		if ms := inv.macs[k]; ms != nil && ms.dev == d {
			ms.dev = heir
		}
	}
}

// evict forgets the least recently seen 1/64 of the devices (at least
// one), so that the scan is paid once per many new devices. The device
// the current session already resolved is spared.
func (inv *Inventory) evict() {
	type entry struct {
		d    *device
		last time.Time
	}
	all := make([]entry, 0, len(inv.devs))
	for _, d := range inv.devs {
		if d != inv.pinned[0] && d != inv.pinned[1] {
			all = append(all, entry{d, d.last})
		}
	}
	n := min(max(len(all)/64, 1), len(all))
	slices.SortFunc(all, func(a, b entry) int { return a.last.Compare(b.last) })
	for _, e := range all[:n] {
		inv.forget(e.d, nil)
		inv.st.Evicted++
	}
}
