package devices

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Inventory is the device inventory. Its methods are safe for concurrent
// use; Observe takes one mutex for a few map look-ups and counter updates.
type Inventory struct {
	cfg          Config
	vendors      VendorLookup
	now          func() time.Time
	defaultLocal bool
	local4       []netip.Prefix
	local6       []netip.Prefix

	mu     sync.Mutex
	devs   map[devKey]*device
	byIP   map[tenantAddr]*device
	macs   map[tenantMAC]*macState
	live   map[flowID]counters
	pinned [2]*device // resolved by the current session; eviction spares them
	st     Stats
}

// Stats counts what the inventory did since it was made.
type Stats struct {
	Sessions uint64 // observed
	Created  uint64 // devices created
	Merged   uint64 // devices folded into another (an IP device into its MAC or asset device, …)
	Moved    uint64 // an address or MAC rebound from one device to another
	Evicted  uint64 // devices forgotten at MaxDevices
	Gateways uint64 // MACs found to be routers'
	// MACsUntracked counts sightings of MACs the MAC table had no room for.
	MACsUntracked uint64
	// FlowsForgotten counts live flows forgotten at MaxLiveFlows (their
	// next interim record counts again from zero).
	FlowsForgotten uint64
}

// New builds an inventory; cfg should have passed Validate (a zero cap
// is replaced by its default). vendors may be nil.
func New(cfg Config, vendors VendorLookup) *Inventory {
	def := DefaultConfig()
	for _, f := range []struct{ v, d *int }{
		{&cfg.MaxDevices, &def.MaxDevices}, {&cfg.MaxIPsPerMAC, &def.MaxIPsPerMAC}, {&cfg.MaxPeers, &def.MaxPeers},
		{&cfg.MaxIPs, &def.MaxIPs}, {&cfg.MaxMACs, &def.MaxMACs}, {&cfg.MaxNames, &def.MaxNames},
		{&cfg.MaxServices, &def.MaxServices}, {&cfg.MaxClientApps, &def.MaxClientApps},
		{&cfg.MaxStrings, &def.MaxStrings}, {&cfg.MaxLiveFlows, &def.MaxLiveFlows},
	} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	if cfg.GatewayWindow <= 0 {
		cfg.GatewayWindow = def.GatewayWindow
	}
	inv := &Inventory{cfg: cfg, vendors: vendors, now: time.Now, defaultLocal: len(cfg.LocalNets) == 0,
		devs: map[devKey]*device{}, byIP: map[tenantAddr]*device{}, macs: map[tenantMAC]*macState{}, live: map[flowID]counters{}}
	for _, p := range cfg.LocalNets {
		p = p.Masked()
		if p.Addr().Is4() {
			inv.local4 = append(inv.local4, p)
		} else {
			inv.local6 = append(inv.local6, p)
		}
	}
	return inv
}

// Stats returns the counters and the number of devices.
func (inv *Inventory) Stats() (Stats, int) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.st, len(inv.devs)
}

type flowID struct{ tenant, uid string }

// counters are what one record adds: packets and bytes each way.
type counters struct{ op, rp, ob, rb uint64 }

// delta turns a record's cumulative counters into what it adds, and
// reports whether it is the first record of its flow. Most records are
// a flow's only one (Seq 0, Final) and touch no map.
func (inv *Inventory) delta(s *schema.Session) (counters, bool) {
	cur := counters{s.OrigPkts, s.RespPkts, ipBytes(s.OrigIPBytes, s.OrigBytes), ipBytes(s.RespIPBytes, s.RespBytes)}
	first := s.Seq == 0
	if first && s.Final {
		return cur, true
	}
	k := flowID{s.Tenant, s.UID}
	prev, ok := inv.live[k]
	if s.Final {
		delete(inv.live, k)
	} else {
		if !ok && len(inv.live) >= inv.cfg.MaxLiveFlows {
			for old := range inv.live {
				delete(inv.live, old)
				inv.st.FlowsForgotten++
				break
			}
		}
		inv.live[k] = cur
	}
	if ok && !first {
		cur = counters{sub(cur.op, prev.op), sub(cur.rp, prev.rp), sub(cur.ob, prev.ob), sub(cur.rb, prev.rb)}
	}
	return cur, first
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// ipBytes prefers IP bytes (what a link carries); flow sources that only
// count payload give that.
func ipBytes(ip, payload uint64) uint64 {
	if ip != 0 {
		return ip
	}
	return payload
}

// WriteSessions observes a batch: the inventory is a session sink
// (pipeline.SessionSink) that keeps nothing of the batch.
func (inv *Inventory) WriteSessions(_ context.Context, batch []schema.Session) error {
	for i := range batch {
		inv.Observe(&batch[i])
	}
	return nil
}

// Close is a no-op: what to keep of the inventory, and where, is the
// caller's (Devices, Changed).
func (inv *Inventory) Close() error { return nil }

// Observe adds one session record (final or interim) to the inventory.
func (inv *Inventory) Observe(s *schema.Session) {
	now := inv.now()
	inv.mu.Lock()
	inv.observe(s, now)
	inv.mu.Unlock()
}

func (inv *Inventory) observe(s *schema.Session, now time.Time) {
	inv.st.Sessions++
	switch {
	case s.App == "vxlan" || s.App == "geneve":
		return // the carrier of mirrored traffic: the sessions inside describe the hosts
	case s.App == "dhcp" && s.Orig.Port == 67 && s.Resp.Port == 68:
		// A server's broadcast OFFER or ACK starts its own flow: the
		// server is the responder of the conversation, not a client.
		sw := swapped(s)
		s = &sw
	}
	t := s.End
	if t.IsZero() {
		t = s.Start
	}
	if t.IsZero() {
		t = now
	}
	c, first := inv.delta(s)
	var n uint64
	if first {
		n = 1
	}
	o := inv.resolve(s.Tenant, &s.Orig, s.Start, t, now)
	inv.pinned[0] = o
	r := inv.resolve(s.Tenant, &s.Resp, s.Start, t, now)
	inv.pinned[1] = r
	if o != nil {
		inv.asClient(o, s, c, n, t)
	}
	if r != nil && r != o {
		inv.asServer(r, s, c, n, t)
	}
	if l7 := s.L7; l7 != nil {
		if l7.DHCP != nil {
			inv.observeDHCP(s.Tenant, l7.DHCP, t, now)
		}
		if len(l7.Names) > 0 && s.App != "dhcp" {
			src := o
			if r != nil && s.RespPkts > 0 {
				src = r // the answer to a unicast query
			}
			if src != nil {
				for _, name := range l7.Names {
					src.addName(name, nameSource(s.App), t, inv.cfg.MaxNames)
				}
			}
		}
		if l7.DNS != nil && l7.DNS.QType == "PTR" && len(l7.DNS.Answers) > 0 && (l7.DNS.RCode == "" || l7.DNS.RCode == "NOERROR") {
			if ip, ok := reverseIPv4(l7.DNS.Query); ok {
				if d := inv.byIP[tenantAddr{s.Tenant, ip}]; d != nil {
					d.addName(strings.TrimSuffix(l7.DNS.Answers[0], "."), "ptr", t, inv.cfg.MaxNames)
					d.modified = now
				}
			}
		}
	}
	if isOTApp(s.App) || (s.L7 != nil && s.L7.Industrial != nil) {
		inv.observeOT(s, o, r, n, t)
	}
	inv.pinned = [2]*device{}
}

// swapped is s seen from the other end.
func swapped(s *schema.Session) schema.Session {
	w := *s
	w.Orig, w.Resp = s.Resp, s.Orig
	w.OrigPkts, w.RespPkts = s.RespPkts, s.OrigPkts
	w.OrigBytes, w.RespBytes = s.RespBytes, s.OrigBytes
	w.OrigIPBytes, w.RespIPBytes = s.RespIPBytes, s.OrigIPBytes
	return w
}

// asClient adds what the originator of s did.
func (inv *Inventory) asClient(d *device, s *schema.Session, c counters, n uint64, t time.Time) {
	cfg := &inv.cfg
	d.traffic.SessionsOut += n
	d.traffic.BytesOut += c.ob
	d.traffic.BytesIn += c.rb
	if n == 1 && s.Orig.TTL != 0 {
		d.ttl[ttlBucket(s.Orig.TTL)]++
		d.addSig(s.Orig.TCPSig, false)
	}
	d.addPeer(s.Resp.IP, n, c.ob+c.rb, t, cfg.MaxPeers)
	k := appKey{app: s.App, proto: s.Proto}
	if s.App == "" {
		k.port = s.Resp.Port
	}
	d.addApp(k, n, c.ob+c.rb, cfg.MaxClientApps)
	d.noteMirror(s, s.Orig.IP, n)
	l7 := s.L7
	if l7 == nil {
		return
	}
	if x := l7.TLS; x != nil {
		d.addStr(&d.ja4, x.JA4, cfg.MaxStrings, dropJA4)
		d.addStr(&d.sni, x.SNI, cfg.MaxStrings, dropSNI)
	}
	if x := l7.HTTP; x != nil {
		d.addStr(&d.userAgents, x.UserAgent, maxUserAgents, dropUserAgents)
		d.addStr(&d.httpHosts, x.Host, cfg.MaxStrings, dropHTTPHosts)
		if tag := uriHint(clientURIHints, x.URI); tag != "" {
			d.addHint(tag)
		}
	}
	if x := l7.SSH; x != nil {
		d.addStr(&d.ssh, x.Client, maxSSH, dropSSH)
	}
	if x := l7.MQTT; x != nil {
		d.addStr(&d.mqttIDs, x.ClientID, cfg.MaxStrings, dropMQTT)
	}
	if x := l7.DNS; x != nil && s.App == "dns" && x.Query != "" && !strings.HasSuffix(x.Query, ".arpa") {
		d.addStr(&d.dnsQueries, strings.TrimSuffix(x.Query, "."), cfg.MaxStrings, dropDNS)
	}
}

// asServer adds what the responder of s did, and the service it offered
// when the connection was accepted.
func (inv *Inventory) asServer(d *device, s *schema.Session, c counters, n uint64, t time.Time) {
	cfg := &inv.cfg
	d.traffic.SessionsIn += n
	d.traffic.BytesOut += c.rb
	d.traffic.BytesIn += c.ob
	if n == 1 && s.Resp.TTL != 0 {
		d.ttl[ttlBucket(s.Resp.TTL)]++
		d.addSig(s.Resp.TCPSig, true)
	}
	d.addPeer(s.Orig.IP, n, c.ob+c.rb, t, cfg.MaxPeers)
	d.noteMirror(s, s.Resp.IP, n)
	if !accepted(s) {
		return
	}
	if svc := d.service(svcKey{s.Proto, s.Resp.Port}, cfg.MaxServices); svc != nil {
		if s.App != "" {
			svc.app = s.App
		}
		if svc.first.IsZero() || s.Start.Before(svc.first) {
			svc.first = s.Start
		}
		if t.After(svc.last) {
			svc.last = t
		}
		svc.sessions += n
		svc.clients.add(addrHash(s.Orig.IP))
	}
	l7 := s.L7
	if l7 == nil {
		return
	}
	if x := l7.HTTP; x != nil {
		d.addStr(&d.httpServers, x.Server, maxHTTPServers, dropHTTPServers)
		if tag := uriHint(serverURIHints, x.URI); tag != "" {
			d.addHint(tag)
		}
	}
	if x := l7.SSH; x != nil {
		d.addStr(&d.ssh, x.Server, maxSSH, dropSSH)
	}
}

// accepted reports whether the responder accepted the conversation:
// a TCP handshake it answered (SF, S1, S2, S3, RSTR, RSTO) or a UDP
// (or other datagram) reply.
func accepted(s *schema.Session) bool {
	if s.RespPkts == 0 {
		return false
	}
	switch s.Transport {
	case "tcp":
		switch s.ConnState {
		case "SF", "S1", "S2", "S3", "RSTR", "RSTO":
			return true
		}
		return false
	case "icmp":
		return false
	}
	return true
}

func (d *device) noteMirror(s *schema.Session, ip netip.Addr, n uint64) {
	m := s.Mirror
	if m == nil {
		return
	}
	d.mirror.Kind, d.mirror.VNI = m.Kind, m.VNI
	d.mirror.Sessions += n
	if m.Source == ip {
		d.mirror.Self = true
	}
}

// observeDHCP binds a DHCP client's MAC to its device (the client may
// have no address yet) and, on an ACK, the assigned address to it: the
// server's word overrides what the address was bound to, and the
// client's previous IPv4 leases are unbound.
func (inv *Inventory) observeDHCP(tenant string, h *schema.DHCP, t, now time.Time) {
	mac, ok := parseMAC(h.ClientMAC)
	if !ok || !unicastMAC(mac) {
		return
	}
	k := tenantMAC{tenant, mac}
	ms := inv.macs[k]
	if ms == nil {
		if len(inv.macs) >= 2*inv.cfg.MaxDevices {
			inv.st.MACsUntracked++
			return
		}
		ms = &macState{}
		inv.macs[k] = ms
	}
	if ms.gateway {
		return
	}
	d := ms.dev
	if d == nil {
		if d = inv.device(devKey{tenant: tenant, kind: kindMAC, mac: mac}, t, now); d == nil {
			return
		}
		d = inv.bindMAC(d, ms, mac, t)
	}
	d.touch(t, now)
	d.dhcp.update(h, t)
	if h.Hostname != "" {
		d.addName(h.Hostname, "dhcp", t, inv.cfg.MaxNames)
	}
	if !slices.Contains(h.MsgTypes, "ACK") {
		return
	}
	ip, err := netip.ParseAddr(h.Assigned)
	if err != nil || !hostAddr(ip) || !inv.isLocal(ip) {
		return
	}
	for _, a := range d.ips {
		if a.ip.Is4() && a.ip != ip {
			if k := (tenantAddr{tenant, a.ip}); inv.byIP[k] == d {
				delete(inv.byIP, k)
			}
		}
	}
	inv.bindIP(d, ip, t)
}

// isOTApp reports the OT protocols whose sessions feed the ot profile
// even when only the port named them.
func isOTApp(app string) bool {
	switch app {
	case "modbus", "s7comm", "s7comm-plus", "dnp3", "bacnet", "ethernetip", "iec104", "opcua":
		return true
	}
	return false
}

// otServerPorts are the ports OT servers listen on, to tell which end of
// a session is the device being polled (BACnet devices also announce
// themselves from that port).
var otServerPorts = map[uint16]bool{502: true, 102: true, 20000: true, 47808: true, 44818: true, 2222: true, 2404: true, 4840: true}

// observeOT records the OT roles of both ends and what a device said it
// is (Modbus device identification, BACnet I-Am, S7 SZL).
func (inv *Inventory) observeOT(s *schema.Session, o, r *device, n uint64, t time.Time) {
	in := (*schema.Industrial)(nil)
	if s.L7 != nil {
		in = s.L7.Industrial
	}
	proto := s.App
	if in != nil && in.Protocol != "" {
		proto = in.Protocol
	}
	if proto == "" {
		return
	}
	srv, cli, srvIP, cliIP := r, o, s.Resp.IP, s.Orig.IP
	respIsServer := otServerPorts[s.Resp.Port]
	if (!respIsServer && otServerPorts[s.Orig.Port]) || (respIsServer && s.Orig.Port == s.Resp.Port && s.RespPkts == 0) {
		srv, cli, srvIP, cliIP = o, r, s.Orig.IP, s.Resp.IP
	}
	if srv != nil {
		if u := srv.otUse(proto, true); u != nil {
			u.sessions += n
			if hostAddr(cliIP) {
				u.peers.add(addrHash(cliIP))
			}
			if in != nil {
				srv.addFunctions(u, in.Functions)
			}
		}
		if in != nil {
			srv.industrial.update(in)
		}
	}
	if cli != nil && hostAddr(srvIP) {
		if u := cli.otUse(proto, false); u != nil {
			u.sessions += n
			u.peers.add(addrHash(srvIP))
			if in != nil {
				cli.addFunctions(u, in.Functions)
			}
		}
	}
}

// nameSource is the profile's name source for an application label.
func nameSource(app string) string {
	switch app {
	case "mdns", "llmnr", "netbios", "ssdp", "dhcp":
		return app
	case "":
		return "announced"
	}
	return app
}

// reverseIPv4 reads "5.0.0.10.in-addr.arpa" as 10.0.0.5 without
// allocating.
func reverseIPv4(q string) (netip.Addr, bool) {
	q = strings.TrimSuffix(q, ".")
	rest, ok := strings.CutSuffix(q, ".in-addr.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i := 3; i >= 0; i-- {
		part := rest
		if i > 0 {
			j := strings.IndexByte(rest, '.')
			if j < 0 {
				return netip.Addr{}, false
			}
			part, rest = rest[:j], rest[j+1:]
		} else if strings.IndexByte(rest, '.') >= 0 {
			return netip.Addr{}, false
		}
		v := 0
		if part == "" || len(part) > 3 {
			return netip.Addr{}, false
		}
		for _, c := range []byte(part) {
			if c < '0' || c > '9' {
				return netip.Addr{}, false
			}
			v = v*10 + int(c-'0')
		}
		if v > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// URI prefixes that say what a device is: those it serves, and the
// connectivity checks operating systems make as clients.
var serverURIHints = []struct{ prefix, tag string }{
	{"/onvif/", "onvif"},
	{"/ISAPI/", "hikvision-isapi"},
	{"/Streaming/Channels", "hikvision-isapi"},
	{"/axis-cgi/", "axis-cgi"},
	{"/cgi-bin/magicBox.cgi", "dahua-cgi"},
	{"/cgi-bin/snapshot.cgi", "camera-snapshot"},
	{"/ipp", "ipp"},
	{"/hp/device/", "hp-printer"},
	{"/DevMgmt/", "hp-printer"},
}

var clientURIHints = []struct{ prefix, tag string }{
	{"/connecttest.txt", "windows-ncsi"},
	{"/ncsi.txt", "windows-ncsi"},
	{"/generate_204", "android-connectivity"},
	{"/hotspot-detect.html", "apple-captive"},
	{"/library/test/success.html", "apple-captive"},
}

func uriHint(list []struct{ prefix, tag string }, uri string) string {
	if uri == "" {
		return ""
	}
	for _, h := range list {
		if strings.HasPrefix(uri, h.prefix) {
			return h.tag
		}
	}
	return ""
}
