package devices

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Devices returns every device, sorted by tenant and id, with its
// profile, OS guess and category.
func (inv *Inventory) Devices() []schema.Device {
	return inv.collect(func(*device) bool { return true })
}

// Changed returns the devices modified at or after since (by the wall
// clock), for incremental upserts: take the time before the call and
// pass it to the next one.
func (inv *Inventory) Changed(since time.Time) []schema.Device {
	return inv.collect(func(d *device) bool { return !d.modified.Before(since) })
}

type snap struct {
	tenant string
	id     string
	first  time.Time
	last   time.Time
	prof   Profile
}

// collect copies the selected devices under the lock, a batch at a time
// so that ingest never waits long, and does the rest (classification,
// JSON) outside it.
func (inv *Inventory) collect(keep func(*device) bool) []schema.Device {
	const batch = 256
	inv.mu.Lock()
	devs := make([]*device, 0, len(inv.devs))
	for _, d := range inv.devs {
		devs = append(devs, d)
	}
	inv.mu.Unlock()
	snaps := make([]snap, 0, len(devs))
	for len(devs) > 0 {
		n := min(batch, len(devs))
		inv.mu.Lock()
		for _, d := range devs[:n] {
			if inv.devs[d.key] == d && keep(d) { // not merged or evicted meanwhile
				snaps = append(snaps, snap{tenant: d.key.tenant, id: d.key.id(), first: d.first, last: d.last, prof: inv.profile(d)})
			}
		}
		inv.mu.Unlock()
		devs = devs[n:]
	}
	slices.SortFunc(snaps, func(a, b snap) int {
		if c := cmp.Compare(a.tenant, b.tenant); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]schema.Device, len(snaps))
	for i := range snaps {
		out[i] = snaps[i].device()
	}
	return out
}

func (s *snap) device() schema.Device {
	p := &s.prof
	p.OS = GuessOS(p)
	p.Category = Classify(p)
	d := schema.Device{ID: s.id, Tenant: s.tenant, FirstSeen: s.first, LastSeen: s.last, Category: p.Category.Name}
	for _, m := range p.MACs {
		d.MACs = append(d.MACs, m.MAC)
	}
	for _, a := range p.IPs {
		d.IPs = append(d.IPs, a.IP.String())
	}
	b, err := json.Marshal(p)
	if err != nil { // only plain types: cannot happen
		panic(fmt.Sprintf("devices: marshal profile of %s: %v", s.id, err))
	}
	d.Attributes = b
	return d
}

func protoName(p uint8) string {
	switch p {
	case 1:
		return "icmp"
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 58:
		return "icmp6"
	case 132:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

func protoNumber(s string) (uint8, bool) {
	switch s {
	case "icmp":
		return 1, true
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "icmp6":
		return 58, true
	case "sctp":
		return 132, true
	}
	n, err := strconv.ParseUint(s, 10, 8)
	return uint8(n), err == nil
}

var kindNames = [...]string{kindIP: "ip", kindMAC: "mac", kindAsset: "asset"}

// profile copies a device's state into its Profile (without the OS and
// category, which are derived outside the lock). Called with the lock.
func (inv *Inventory) profile(d *device) Profile {
	p := Profile{Version: ProfileVersion, Identity: kindNames[d.key.kind], Asset: d.asset, Segment: d.segment,
		Tags: slices.Clone(d.tags), MergedFrom: slices.Clone(d.mergedFrom), Traffic: d.traffic}
	if d.key.kind == kindAsset {
		p.Asset = d.key.asset
	}
	for _, m := range d.macs {
		p.MACs = append(p.MACs, MAC{MAC: schema.MAC(m.mac), Kind: macKind(m.mac), Vendor: m.vendor, FirstSeen: m.first, LastSeen: m.last})
	}
	slices.SortStableFunc(p.MACs, func(a, b MAC) int { return b.LastSeen.Compare(a.LastSeen) })
	p.RandomizedMAC = len(p.MACs) > 0
	for _, m := range p.MACs {
		p.RandomizedMAC = p.RandomizedMAC && m.Kind == "local"
	}
	for _, a := range d.ips {
		p.IPs = append(p.IPs, IPSeen{IP: a.ip, FirstSeen: a.first, LastSeen: a.last})
	}
	slices.SortStableFunc(p.IPs, func(a, b IPSeen) int { return b.LastSeen.Compare(a.LastSeen) })
	for _, n := range d.names {
		p.Names = append(p.Names, Name{Name: n.name, Source: n.source, FirstSeen: n.first, LastSeen: n.last})
	}
	switch {
	case d.industrial.Vendor != "":
		p.Vendor = &Vendor{Name: d.industrial.Vendor, Source: "industrial"}
	default:
		for _, m := range p.MACs { // most recent first
			if m.Vendor != "" {
				p.Vendor = &Vendor{Name: m.Vendor, Source: "oui"}
				break
			}
		}
	}
	if d.ttl != [4]uint32{} {
		t := &TTL{Sessions: map[string]uint32{}}
		best := -1
		for i, n := range d.ttl {
			if n > 0 {
				t.Sessions[strconv.Itoa(initialTTLs[i])] = n
				if best < 0 || n > d.ttl[best] {
					best = i
				}
			}
		}
		t.Initial = initialTTLs[best]
		p.TTL = t
	}
	for _, s := range d.tcpSigs {
		p.TCPSigs = append(p.TCPSigs, TCPSig{Sig: s.sig, SynAck: s.synAck, Count: s.n})
	}
	if d.dhcp != (DHCPSeen{}) {
		h := d.dhcp
		p.DHCP = &h
	}
	p.UserAgents = slices.Clone(d.userAgents.items)
	p.SSH = slices.Clone(d.ssh.items)
	p.HTTPServers = slices.Clone(d.httpServers.items)
	p.JA4 = slices.Clone(d.ja4.items)
	p.SNI = slices.Clone(d.sni.items)
	p.DNSQueries = slices.Clone(d.dnsQueries.items)
	p.HTTPHosts = slices.Clone(d.httpHosts.items)
	p.MQTTClientIDs = slices.Clone(d.mqttIDs.items)
	for k, s := range d.services {
		p.Services = append(p.Services, Service{Proto: protoName(k.proto), Port: k.port, App: s.app, FirstSeen: s.first,
			LastSeen: s.last, Sessions: s.sessions, Clients: s.clients.count()})
	}
	slices.SortFunc(p.Services, func(a, b Service) int {
		if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	for ip, s := range d.peers {
		p.Peers = append(p.Peers, Peer{IP: ip, Sessions: s.sessions, Bytes: s.bytes, LastSeen: s.last})
	}
	slices.SortFunc(p.Peers, func(a, b Peer) int {
		if c := cmp.Compare(b.Bytes, a.Bytes); c != 0 {
			return c
		}
		return a.IP.Compare(b.IP)
	})
	if len(p.Peers) > inv.cfg.MaxPeers {
		p.Peers = p.Peers[:inv.cfg.MaxPeers]
	}
	for i := range p.Peers {
		if o := inv.byIP[tenantAddr{d.key.tenant, p.Peers[i].IP}]; o != nil && o != d {
			p.Peers[i].Device = o.key.id()
		}
	}
	for k, a := range d.apps {
		p.ClientApps = append(p.ClientApps, AppUse{App: k.app, Proto: protoName(k.proto), Port: k.port, Sessions: a.sessions, Bytes: a.bytes})
	}
	slices.SortFunc(p.ClientApps, func(a, b AppUse) int {
		if c := cmp.Compare(b.Sessions, a.Sessions); c != 0 {
			return c
		}
		if c := cmp.Compare(a.App, b.App); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Proto, b.Proto); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
	if d.industrial != (Industrial{}) {
		x := d.industrial
		p.Industrial = &x
	}
	for _, u := range d.ot {
		role := "client"
		if u.server {
			role = "server"
		}
		p.OT = append(p.OT, OTUse{Protocol: u.protocol, Role: role, Sessions: u.sessions, Peers: u.peers.count(), Functions: slices.Clone(u.functions)})
	}
	p.Hints = slices.Clone(d.hints)
	if g := d.gateway; g != nil {
		p.Gateway = &Gateway{Since: g.since, Addresses: g.behind.count()}
	}
	if d.mirror.Kind != "" {
		m := d.mirror
		p.Mirror = &m
	}
	for i, n := range d.dropped {
		if n > 0 {
			if p.Dropped == nil {
				p.Dropped = map[string]uint64{}
			}
			p.Dropped[dropLabels[i]] = n
		}
	}
	return p
}

// parseID reads a device id back into its key.
func parseID(tenant, id string) (devKey, error) {
	kind, v, ok := strings.Cut(id, ":")
	if !ok || v == "" {
		return devKey{}, fmt.Errorf("id %q: want asset:…, mac:… or ip:…", id)
	}
	k := devKey{tenant: tenant}
	switch kind {
	case "asset":
		k.kind, k.asset = kindAsset, v
	case "mac":
		m, ok := parseMAC(v)
		if !ok {
			return k, fmt.Errorf("id %q: bad MAC", id)
		}
		k.kind, k.mac = kindMAC, m
	case "ip":
		a, err := netip.ParseAddr(v)
		if err != nil {
			return k, fmt.Errorf("id %q: %w", id, err)
		}
		k.kind, k.ip = kindIP, a
	default:
		return k, fmt.Errorf("id %q: unknown kind %q", id, kind)
	}
	return k, nil
}

// Restore reloads devices saved from Devices or Changed (after a
// restart). A device whose attributes do not parse is restored from its
// other fields and reported in the error, which joins every problem;
// the rest are restored regardless. Client and address counts come back
// as floors: later sightings are counted on top where they are new.
func (inv *Inventory) Restore(devs []schema.Device) error {
	var errs []error
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for i := range devs {
		sd := &devs[i]
		k, err := parseID(sd.Tenant, sd.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("restore device %d: %w", i, err))
			continue
		}
		var p Profile
		if len(sd.Attributes) > 0 {
			if err := json.Unmarshal(sd.Attributes, &p); err != nil {
				errs = append(errs, fmt.Errorf("restore device %s: attributes: %w", sd.ID, err))
				p = Profile{}
			}
		}
		if len(p.MACs) == 0 {
			for _, m := range sd.MACs {
				p.MACs = append(p.MACs, MAC{MAC: m, LastSeen: sd.LastSeen, FirstSeen: sd.FirstSeen})
			}
		}
		if len(p.IPs) == 0 {
			for _, a := range sd.IPs {
				if ip, err := netip.ParseAddr(a); err == nil {
					p.IPs = append(p.IPs, IPSeen{IP: ip, FirstSeen: sd.FirstSeen, LastSeen: sd.LastSeen})
				}
			}
		}
		d := inv.fromProfile(k, &p)
		d.first, d.last = sd.FirstSeen, sd.LastSeen
		if old := inv.devs[k]; old != nil {
			inv.fold(old, d)
			d = old
		} else {
			if len(inv.devs) >= inv.cfg.MaxDevices {
				inv.st.Evicted++
				errs = append(errs, fmt.Errorf("restore device %s: inventory full (devices.MaxDevices %d)", sd.ID, inv.cfg.MaxDevices))
				continue
			}
			inv.devs[k] = d
		}
		inv.index(d, p.Gateway != nil)
	}
	return errors.Join(errs...)
}

// index points the MAC and address tables at a restored device, unless a
// device seen more recently holds the address.
func (inv *Inventory) index(d *device, gateway bool) {
	t := d.key.tenant
	for _, m := range d.macs {
		k := tenantMAC{t, m.mac}
		ms := inv.macs[k]
		if ms == nil {
			ms = &macState{}
			inv.macs[k] = ms
		}
		if gateway && d.key.kind == kindMAC && d.key.mac == m.mac {
			ms.gateway = true
			ms.dev = d
			continue
		}
		if ms.dev == nil || ms.dev.last.Before(d.last) {
			ms.dev = d
		}
	}
	if gateway {
		return
	}
	for _, a := range d.ips {
		k := tenantAddr{t, a.ip}
		if old := inv.byIP[k]; old == nil || old.lastSeenIP(a.ip).Before(a.last) {
			inv.byIP[k] = d
		}
	}
}

func (d *device) lastSeenIP(ip netip.Addr) time.Time {
	for _, a := range d.ips {
		if a.ip == ip {
			return a.last
		}
	}
	return time.Time{}
}

// fromProfile rebuilds a device from its saved profile.
func (inv *Inventory) fromProfile(k devKey, p *Profile) *device {
	c := &inv.cfg
	d := &device{key: k, asset: p.Asset, segment: p.Segment, tags: p.Tags, mergedFrom: p.MergedFrom, traffic: p.Traffic}
	for _, m := range p.MACs {
		if mac, ok := parseMAC(m.MAC); ok {
			d.addMAC(mac, m.Vendor, m.FirstSeen, c.MaxMACs)
			d.addMAC(mac, m.Vendor, m.LastSeen, c.MaxMACs)
		}
	}
	for _, a := range p.IPs {
		if a.IP.IsValid() {
			d.addIP(a.IP, a.FirstSeen, c.MaxIPs)
			d.addIP(a.IP, a.LastSeen, c.MaxIPs)
		}
	}
	for _, n := range p.Names {
		d.addName(n.Name, n.Source, n.FirstSeen, c.MaxNames)
		d.addName(n.Name, n.Source, n.LastSeen, c.MaxNames)
	}
	if p.Industrial != nil {
		d.industrial = *p.Industrial
	}
	if p.TTL != nil {
		for i, ttl := range initialTTLs {
			d.ttl[i] = p.TTL.Sessions[strconv.Itoa(ttl)]
		}
	}
	for _, s := range p.TCPSigs {
		if len(d.tcpSigs) < maxTCPSigs {
			d.tcpSigs = append(d.tcpSigs, sigSeen{sig: s.Sig, synAck: s.SynAck, n: s.Count})
		}
	}
	if p.DHCP != nil {
		d.dhcp = *p.DHCP
	}
	for _, l := range []struct {
		dst   *strList
		src   []string
		limit int
	}{
		{&d.userAgents, p.UserAgents, maxUserAgents}, {&d.ssh, p.SSH, maxSSH}, {&d.httpServers, p.HTTPServers, maxHTTPServers},
		{&d.ja4, p.JA4, c.MaxStrings}, {&d.sni, p.SNI, c.MaxStrings}, {&d.dnsQueries, p.DNSQueries, c.MaxStrings},
		{&d.httpHosts, p.HTTPHosts, c.MaxStrings}, {&d.mqttIDs, p.MQTTClientIDs, c.MaxStrings},
	} {
		for _, v := range l.src {
			l.dst.add(v, l.limit)
		}
	}
	for _, s := range p.Services {
		proto, ok := protoNumber(s.Proto)
		if !ok {
			continue
		}
		if svc := d.service(svcKey{proto, s.Port}, c.MaxServices); svc != nil {
			*svc = service{app: s.App, first: s.FirstSeen, last: s.LastSeen, sessions: s.Sessions, clients: distinct{floor: s.Clients}}
		}
	}
	for _, pe := range p.Peers {
		if pe.IP.IsValid() {
			d.addPeer(pe.IP, pe.Sessions, pe.Bytes, pe.LastSeen, c.MaxPeers)
		}
	}
	for _, a := range p.ClientApps {
		if proto, ok := protoNumber(a.Proto); ok {
			d.addApp(appKey{app: a.App, proto: proto, port: a.Port}, a.Sessions, a.Bytes, c.MaxClientApps)
		}
	}
	for _, o := range p.OT {
		if u := d.otUse(o.Protocol, o.Role == "server"); u != nil {
			u.sessions, u.peers.floor = o.Sessions, o.Peers
			d.addFunctions(u, o.Functions)
		}
	}
	for _, h := range p.Hints {
		if len(d.hints) < maxHints {
			d.hints = append(d.hints, h)
		}
	}
	if p.Gateway != nil {
		d.gateway = &gatewayInfo{since: p.Gateway.Since, behind: distinct{floor: p.Gateway.Addresses}}
	}
	if p.Mirror != nil {
		d.mirror = *p.Mirror
	}
	for i, name := range dropLabels {
		d.dropped[i] = p.Dropped[name]
	}
	return d
}
