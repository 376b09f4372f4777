package devices

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// idKind is how a device is identified, strongest last.
type idKind uint8

const (
	kindIP idKind = iota + 1
	kindMAC
	kindAsset
)

// devKey identifies a device without building its string id on the hot
// path; only the field of its kind is set.
type devKey struct {
	tenant string
	kind   idKind
	mac    [6]byte
	ip     netip.Addr
	asset  string
}

// id is the device id: "asset:i-0abc…", "mac:90:b1:1c:99:49:29" or
// "ip:10.0.0.5".
func (k devKey) id() string {
	switch k.kind {
	case kindAsset:
		return "asset:" + k.asset
	case kindMAC:
		return "mac:" + schema.MAC(k.mac)
	}
	return "ip:" + k.ip.String()
}

// drop names a per-device cap; the profile counts what each turned away.
type drop uint8

const (
	dropMACs drop = iota
	dropIPs
	dropNames
	dropServices
	dropPeers
	dropClientApps
	dropJA4
	dropSNI
	dropDNS
	dropHTTPHosts
	dropUserAgents
	dropSSH
	dropHTTPServers
	dropTCPSigs
	dropMQTT
	dropOT
	dropOTFunctions
	dropHints
	dropTags
	nDrops
)

var dropLabels = [nDrops]string{"macs", "ips", "names", "services", "peers", "client_apps", "ja4", "sni",
	"dns_queries", "http_hosts", "user_agents", "ssh", "http_servers", "tcp_sigs", "mqtt_client_ids", "ot",
	"ot_functions", "hints", "tags"}

// Fixed caps of the small lists that Config does not expose.
const (
	maxTCPSigs     = 8
	maxUserAgents  = 8
	maxSSH         = 4
	maxHTTPServers = 4
	maxOT          = 8
	maxOTFunctions = 32
	maxHints       = 16
	maxTags        = 16
)

// device is one inventory entry. Maps and lists are allocated when first
// needed, so a device that is only ever a DNS client stays small.
type device struct {
	key         devKey
	first, last time.Time // by session time
	modified    time.Time // by wall clock, for Changed

	asset, segment string
	tags           []string
	mergedFrom     []Merge

	macs  []macSeen
	ips   []addrSeen
	names []nameSeen

	industrial Industrial
	ttl        [4]uint32 // sessions by initial TTL 32, 64, 128, 255
	tcpSigs    []sigSeen
	dhcp       DHCPSeen

	userAgents, ssh, httpServers strList
	ja4, sni, dnsQueries         strList
	httpHosts, mqttIDs           strList

	services map[svcKey]*service
	peers    map[netip.Addr]peerStat
	apps     map[appKey]appStat
	ot       []*otUse
	hints    []Hint

	gateway *gatewayInfo
	mirror  Mirror
	traffic Traffic
	dropped [nDrops]uint64
}

type macSeen struct {
	mac         [6]byte
	vendor      string
	first, last time.Time
}

type addrSeen struct {
	ip          netip.Addr
	first, last time.Time
}

type nameSeen struct {
	name, source string
	first, last  time.Time
}

type sigSeen struct {
	sig    string
	synAck bool
	n      uint32
}

type svcKey struct {
	proto uint8
	port  uint16
}

type service struct {
	app         string
	first, last time.Time
	sessions    uint64
	clients     distinct
}

type peerStat struct {
	sessions uint64
	bytes    uint64
	last     time.Time
}

// appKey is a protocol used as a client; the port is kept only when
// the application is unknown.
type appKey struct {
	app   string
	proto uint8
	port  uint16
}

type appStat struct {
	sessions, bytes uint64
}

type otUse struct {
	protocol  string
	server    bool
	sessions  uint64
	peers     distinct
	functions []string
}

type gatewayInfo struct {
	since  time.Time
	behind distinct
}

func (d *device) touch(t, now time.Time) {
	if d.first.IsZero() || (!t.IsZero() && t.Before(d.first)) {
		d.first = t
	}
	if t.After(d.last) {
		d.last = t
	}
	d.modified = now
}

// strList is a small bounded set of strings, in order of first sight.
type strList struct {
	items []string
}

// add reports false when v was new but the list was full.
func (l *strList) add(v string, limit int) bool {
	if v == "" {
		return true
	}
	for _, s := range l.items {
		if s == v {
			return true
		}
	}
	if len(l.items) >= limit {
		return false
	}
	l.items = append(l.items, v)
	return true
}

func (d *device) addStr(l *strList, v string, limit int, what drop) {
	if !l.add(v, limit) {
		d.dropped[what]++
	}
}

func (d *device) addIP(ip netip.Addr, t time.Time, limit int) {
	for i := range d.ips {
		if d.ips[i].ip == ip {
			e := &d.ips[i]
			if t.After(e.last) {
				e.last = t
			}
			if t.Before(e.first) {
				e.first = t
			}
			return
		}
	}
	if len(d.ips) >= limit {
		// Forget the address seen least recently: the current ones matter.
		old := 0
		for i := range d.ips {
			if d.ips[i].last.Before(d.ips[old].last) {
				old = i
			}
		}
		d.ips = slices.Delete(d.ips, old, old+1)
		d.dropped[dropIPs]++
	}
	d.ips = append(d.ips, addrSeen{ip: ip, first: t, last: t})
}

func (d *device) hasMAC(m [6]byte) bool {
	for i := range d.macs {
		if d.macs[i].mac == m {
			return true
		}
	}
	return false
}

// seeMAC updates when a MAC of the device was last seen.
func (d *device) seeMAC(m [6]byte, t time.Time) {
	for i := range d.macs {
		if d.macs[i].mac == m {
			if t.After(d.macs[i].last) {
				d.macs[i].last = t
			}
			return
		}
	}
}

func (d *device) addMAC(m [6]byte, vendor string, t time.Time, limit int) {
	for i := range d.macs {
		if d.macs[i].mac == m {
			e := &d.macs[i]
			if t.After(e.last) {
				e.last = t
			}
			return
		}
	}
	if len(d.macs) >= limit {
		d.dropped[dropMACs]++
		return
	}
	d.macs = append(d.macs, macSeen{mac: m, vendor: vendor, first: t, last: t})
}

func (d *device) addName(name, source string, t time.Time, limit int) {
	if name == "" {
		return
	}
	for i := range d.names {
		if d.names[i].name == name {
			if t.After(d.names[i].last) {
				d.names[i].last = t
			}
			return
		}
	}
	if len(d.names) >= limit {
		d.dropped[dropNames]++
		return
	}
	d.names = append(d.names, nameSeen{name: name, source: source, first: t, last: t})
}

func (d *device) addSig(sig string, synAck bool) {
	if sig == "" {
		return
	}
	for i := range d.tcpSigs {
		if d.tcpSigs[i].sig == sig && d.tcpSigs[i].synAck == synAck {
			d.tcpSigs[i].n++
			return
		}
	}
	if len(d.tcpSigs) >= maxTCPSigs {
		d.dropped[dropTCPSigs]++
		return
	}
	d.tcpSigs = append(d.tcpSigs, sigSeen{sig: sig, synAck: synAck, n: 1})
}

// ttlBucket is the index of the initial TTL an observed TTL came from:
// the smallest of 32, 64, 128 and 255 not below it (stacks start from
// one of those and each router takes one off).
func ttlBucket(ttl uint8) int {
	switch {
	case ttl <= 32:
		return 0
	case ttl <= 64:
		return 1
	case ttl <= 128:
		return 2
	}
	return 3
}

var initialTTLs = [4]int{32, 64, 128, 255}

func (d *device) addHint(tag string) {
	for i := range d.hints {
		if d.hints[i].Tag == tag {
			d.hints[i].Count++
			return
		}
	}
	if len(d.hints) >= maxHints {
		d.dropped[dropHints]++
		return
	}
	d.hints = append(d.hints, Hint{Tag: tag, Count: 1})
}

func (d *device) setTags(tags []string) {
	if slices.Equal(d.tags, tags) {
		return
	}
	if len(tags) > maxTags {
		d.dropped[dropTags]++
		tags = tags[:maxTags]
	}
	d.tags = slices.Clone(tags)
}

func (d *device) addPeer(ip netip.Addr, sessions, bytes uint64, t time.Time, limit int) {
	if d.peers == nil {
		d.peers = make(map[netip.Addr]peerStat, 8)
	}
	p, ok := d.peers[ip]
	if !ok && len(d.peers) >= 2*limit {
		d.trimPeers(limit)
	}
	p.sessions += sessions
	p.bytes += bytes
	if t.After(p.last) {
		p.last = t
	}
	d.peers[ip] = p
}

// trimPeers keeps the limit peers with the most bytes. Peers are let
// grow to twice the limit between trims, so the sort is paid once per
// limit new peers.
func (d *device) trimPeers(limit int) {
	if len(d.peers) <= limit {
		return
	}
	type kv struct {
		ip netip.Addr
		p  peerStat
	}
	all := make([]kv, 0, len(d.peers))
	for ip, p := range d.peers {
		all = append(all, kv{ip, p})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.p.bytes, a.p.bytes); c != 0 {
			return c
		}
		return a.ip.Compare(b.ip)
	})
	for _, e := range all[limit:] {
		delete(d.peers, e.ip)
	}
	d.dropped[dropPeers] += uint64(len(all) - limit)
}

func (d *device) addApp(k appKey, sessions, bytes uint64, limit int) {
	if d.apps == nil {
		d.apps = make(map[appKey]appStat, 4)
	}
	a, ok := d.apps[k]
	if !ok && len(d.apps) >= limit {
		d.dropped[dropClientApps]++
		return
	}
	a.sessions += sessions
	a.bytes += bytes
	d.apps[k] = a
}

func (d *device) service(k svcKey, limit int) *service {
	if svc := d.services[k]; svc != nil {
		return svc
	}
	if len(d.services) >= limit {
		d.dropped[dropServices]++
		return nil
	}
	if d.services == nil {
		d.services = make(map[svcKey]*service, 4)
	}
	svc := &service{}
	d.services[k] = svc
	return svc
}

func (d *device) otUse(protocol string, server bool) *otUse {
	for _, u := range d.ot {
		if u.protocol == protocol && u.server == server {
			return u
		}
	}
	if len(d.ot) >= maxOT {
		d.dropped[dropOT]++
		return nil
	}
	u := &otUse{protocol: protocol, server: server}
	d.ot = append(d.ot, u)
	return u
}

func (d *device) addFunctions(u *otUse, fns []string) {
	for _, f := range fns {
		if slices.Contains(u.functions, f) {
			continue
		}
		if len(u.functions) >= maxOTFunctions {
			d.dropped[dropOTFunctions]++
			continue
		}
		u.functions = append(u.functions, f)
	}
}

// distinct counts distinct 64-bit hashes: exactly up to exactLimit, then
// by linear counting over 512 bits (within ~5 % up to a few thousand).
// floor is a count restored from the store, which has no hashes.
type distinct struct {
	exact []uint64
	bits  *[8]uint64
	floor uint64
}

const exactLimit = 32

func (c *distinct) add(h uint64) {
	if c.bits != nil {
		c.bits[h>>6&7] |= 1 << (h & 63)
		return
	}
	if slices.Contains(c.exact, h) {
		return
	}
	if len(c.exact) < exactLimit {
		c.exact = append(c.exact, h)
		return
	}
	c.bits = new([8]uint64)
	for _, x := range c.exact {
		c.bits[x>>6&7] |= 1 << (x & 63)
	}
	c.bits[h>>6&7] |= 1 << (h & 63)
	c.exact = nil
}

func (c *distinct) count() uint64 {
	n := uint64(len(c.exact))
	if c.bits != nil {
		zeros := 0
		for _, w := range c.bits {
			zeros += 64 - bits.OnesCount64(w)
		}
		if zeros == 0 {
			zeros = 1
		}
		n = uint64(math.Round(-512 * math.Log(float64(zeros)/512)))
	}
	return max(n, c.floor)
}

func (c *distinct) merge(o *distinct) {
	for _, h := range o.exact {
		c.add(h)
	}
	if o.bits != nil {
		if c.bits == nil {
			c.bits = new([8]uint64)
			for _, x := range c.exact {
				c.bits[x>>6&7] |= 1 << (x & 63)
			}
			c.exact = nil
		}
		for i := range c.bits {
			c.bits[i] |= o.bits[i]
		}
	}
	c.floor = max(c.floor, o.floor)
}

// addrHash mixes an address into 64 bits (splitmix64's finaliser).
func addrHash(a netip.Addr) uint64 {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(b[8:])
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}
