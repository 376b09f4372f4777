package scenario

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// node is a host as the sensor and enrichment see it: its address and
// what the asset inventory and CIDR map say about it.
type node struct {
	ip      netip.Addr
	asset   string
	name    string
	tags    []string
	segment string
	mac     string
	geo     *schema.Geo
	windows bool // ephemeral ports from 49152, as Windows picks them
}

// role is what a device or VM does; it decides its benign traffic.
type role uint8

const (
	sensor role = iota // battery sensor: wakes, connects to the broker, sleeps
	camera             // persistent MQTT, RTSP to the NVR, clip uploads
	plc                // polled over Modbus/TCP by SCADA, little else
	web                // public web server behind a load balancer
	app                // application server: database pool, outside APIs
	db                 // database: answers the apps, nightly backup
	win                // Windows server: NetBIOS, Windows Update, telemetry
)

var roleNames = [...]string{"sensor", "camera", "plc", "web", "app", "db", "windows"}

func (r role) String() string { return roleNames[r] }

// device is a monitored device or VM and its role.
type device struct {
	node
	role role
}

// fleet is the network: the devices and VMs the scenario counts, and
// the infrastructure and internet services they use.
type fleet struct {
	devices []*device // IoT devices, then VMs
	byRole  map[role][]*device
	byIP    map[netip.Addr]*node

	resolver, gateway, nvr, scada, monitor, bastion, lb *node
	workstations                                        []*node
	// envmons are environment monitors nobody put in the inventory: no
	// asset id, an address from DHCP that changes when a lease lapses.
	envmons []*node
	// services are internet names and the addresses they resolve to.
	services map[string][]netip.Addr
}

// Internet services the fleet uses. Their address pools rotate as CDN
// and cloud endpoints do.
const (
	brokerName  = "a3k7odshaiu3-ats.iot.eu-west-1.amazonaws.com"
	clipsName   = "clips-upload.camvendor.example"
	fwName      = "fw.sensorvendor.example"
	ntpPool     = "pool.ntp.org"
	backupName  = "osprey-backups.s3.eu-west-1.amazonaws.com"
	aptName     = "deb.debian.org"
	metricsName = "monitoring.eu-west-1.amazonaws.com"
	paymentName = "api.payments.example"
	webName     = "shop.example.com"
)

// winNames are what a Windows server reaches over a few days: update,
// telemetry, certificate revocation, time. Later ones are rarer, so new
// names keep appearing after the first day, as they do.
var winNames = []string{
	"settings-win.data.microsoft.com", "v10.events.data.microsoft.com", "fe3.delivery.mp.microsoft.com",
	"download.windowsupdate.com", "ctldl.windowsupdate.com", "slscr.update.microsoft.com",
	"login.live.com", "ocsp.digicert.com", "crl3.digicert.com", "time.windows.com",
	"wdcp.microsoft.com", "smartscreen-prod.microsoft.com", "go.microsoft.com", "arc.msn.com",
	"ris.api.iris.microsoft.com", "watson.telemetry.microsoft.com", "au.download.windowsupdate.com",
	"officecdn.microsoft.com", "crl.microsoft.com", "www.msftconnecttest.com",
}

func newFleet(cfg Config, rng *rand.Rand) *fleet {
	f := &fleet{byRole: map[role][]*device{}, byIP: map[netip.Addr]*node{}, services: map[string][]netip.Addr{}}
	infra := func(last byte, asset string, tags ...string) *node {
		return &node{ip: netip.AddrFrom4([4]byte{10, 0, 0, last}), asset: asset, name: asset,
			tags: tags, segment: "infra", mac: mac(rng)}
	}
	f.resolver = infra(53, "dns-1", "infra")
	f.gateway = infra(1, "gw-1", "infra")
	f.nvr = infra(20, "nvr-1", "infra", "nvr")
	f.scada = infra(30, "scada-1", "ot", "scada")
	f.monitor = infra(40, "mon-1", "infra", "monitoring")
	f.bastion = infra(22, "bastion-1", "bastion")
	f.lb = &node{ip: netip.MustParseAddr("10.20.255.10"), asset: "alb-web", name: "alb-web", tags: []string{"lb"}, segment: "prod"}
	for i := range 3 {
		f.workstations = append(f.workstations, &node{ip: netip.AddrFrom4([4]byte{10, 30, 0, byte(10 + i)}),
			asset: fmt.Sprintf("ws-%d", i+1), name: fmt.Sprintf("admin-ws-%d", i+1), tags: []string{"corp"}, segment: "corp",
			mac: mac(rng), windows: true})
	}
	for i := range 2 {
		f.envmons = append(f.envmons, &node{ip: netip.AddrFrom4([4]byte{10, 10, 1, byte(10 + i)}),
			tags: []string{"iot"}, segment: "iot", mac: mac(rng)})
	}
	for i := range cfg.Devices {
		r := []role{sensor, camera, plc}[i%3]
		d := &device{role: r, node: node{ip: netip.AddrFrom4([4]byte{10, 10, byte(i / 200), byte(10 + i%200)}),
			asset: fmt.Sprintf("iot-%s-%02d", r, i/3+1), tags: []string{"iot", r.String()}, segment: "iot", mac: mac(rng)}}
		d.name = d.asset
		f.add(d)
	}
	for i := range cfg.VMs {
		r := []role{web, app, db, win}[i%4]
		d := &device{role: r, node: node{ip: netip.AddrFrom4([4]byte{10, 20, byte(1 + i/200), byte(10 + i%200)}),
			asset: fmt.Sprintf("i-0%015x", rng.Uint64()>>4), name: fmt.Sprintf("%s-%d", r, i/4+1),
			segment: "prod", mac: mac(rng), windows: r == win}}
		switch r {
		case db:
			d.tags = []string{"datastore", "prod"}
		default:
			d.tags = []string{"prod", "vm", r.String()}
		}
		f.add(d)
	}
	for _, n := range append(append([]*node{f.resolver, f.gateway, f.nvr, f.scada, f.monitor, f.bastion, f.lb}, f.workstations...), f.envmons...) {
		f.byIP[n.ip] = n
	}
	pool := func(name string, n int, a, b byte) {
		for range n {
			f.services[name] = append(f.services[name], netip.AddrFrom4([4]byte{a, b, byte(rng.IntN(256)), byte(1 + rng.IntN(254))}))
		}
	}
	pool(brokerName, 8, 52, 94)
	pool(clipsName, 24, 54, 230)
	pool(fwName, 4, 104, 18)
	pool(backupName, 64, 52, 218)
	pool(aptName, 6, 151, 101)
	pool(metricsName, 6, 52, 46)
	pool(paymentName, 4, 35, 190)
	for _, n := range winNames {
		pool(n, 2+rng.IntN(6), 13, byte(64+rng.IntN(64)))
	}
	// The NTP pool hands out a few of thousands of volunteers' servers.
	for range 3000 {
		f.services[ntpPool] = append(f.services[ntpPool], randomPublic(rng))
	}
	return f
}

func (f *fleet) add(d *device) {
	f.devices = append(f.devices, d)
	f.byRole[d.role] = append(f.byRole[d.role], d)
	f.byIP[d.ip] = &d.node
}

// iot is the number of IoT devices: the first of f.devices.
func (f *fleet) iot() int { return len(f.byRole[sensor]) + len(f.byRole[camera]) + len(f.byRole[plc]) }

// host is the node at ip: a known host, an internet host, or an unused
// address of the segment it falls in.
func (f *fleet) host(ip netip.Addr) *node {
	if n, ok := f.byIP[ip]; ok {
		return n
	}
	if !localNet.Contains(ip) {
		return public(ip)
	}
	seg := "unknown-private"
	switch b := ip.As4(); {
	case b[1] == 0:
		seg = "infra"
	case b[1] == 10:
		seg = "iot"
	case b[1] == 20:
		seg = "prod"
	case b[1] == 30:
		seg = "corp"
	}
	return &node{ip: ip, segment: seg}
}

// served are the ports each role listens on (infrastructure: the ones
// the scenario uses).
var served = map[role][]uint16{
	camera: {80, 443, 554}, plc: {502}, web: {22, 80, 443, 9100}, app: {22, 9100}, db: {22, 5432, 9100},
	win: {135, 139, 445, 3389, 9182},
}

// listens says whether n answers on port.
func (f *fleet) listens(n *node, port uint16) bool {
	for _, d := range f.devices {
		if &d.node == n {
			return slices.Contains(served[d.role], port)
		}
	}
	switch n {
	case f.resolver:
		return port == 53
	case f.bastion:
		return port == 22
	case f.scada:
		return port == 1883
	case f.nvr:
		return port == 443
	}
	return false
}

func mac(rng *rand.Rand) string {
	var m [6]byte
	for i := range m {
		m[i] = byte(rng.IntN(256))
	}
	m[0] = m[0]&^1 | 2 // unicast, locally administered
	return schema.MAC(m)
}

// randomPublic is an internet address outside the ranges the scenario
// keeps for itself (private space, and the documentation ranges its
// attackers use).
func randomPublic(rng *rand.Rand) netip.Addr {
	for {
		a := [4]byte{byte(1 + rng.IntN(222)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}
		ip := netip.AddrFrom4(a)
		if !ip.IsPrivate() && a[0] != 127 && a[0] != 100 && a[0] != 169 && !reserved(ip) {
			return ip
		}
	}
}

var attackerNets = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
}

func reserved(ip netip.Addr) bool {
	for _, p := range attackerNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// asns are the autonomous systems internet addresses are put in.
var asns = []schema.Geo{
	{Country: "US", ASN: 16509, ASOrg: "AMAZON-02"}, {Country: "DE", ASN: 24940, ASOrg: "Hetzner Online GmbH"},
	{Country: "US", ASN: 15169, ASOrg: "GOOGLE"}, {Country: "NL", ASN: 14061, ASOrg: "DIGITALOCEAN-ASN"},
	{Country: "FR", ASN: 3215, ASOrg: "Orange"}, {Country: "CN", ASN: 4134, ASOrg: "Chinanet"},
	{Country: "US", ASN: 7922, ASOrg: "COMCAST-7922"}, {Country: "GB", ASN: 2856, ASOrg: "British Telecommunications PLC"},
}

// public is an internet host as enrichment describes it.
func public(ip netip.Addr) *node {
	b := ip.As4()
	g := asns[int(b[0]^b[1]^b[2])%len(asns)]
	return &node{ip: ip, segment: "internet", geo: &g}
}
