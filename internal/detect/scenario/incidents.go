package scenario

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// incident is a planned attack: the device involved (by index in the
// fleet, which each generation rebuilds), its label, and how to write
// its sessions.
type incident struct {
	dev   int
	label Label
	emit  func(g *gen, d *device) // its sessions, if any
	// adjust alters the device's reported metrics within the label's
	// window (after its start, up to its end), if it shows in them.
	adjust func(m *schema.DeviceMetric, rng *rand.Rand)
}

// attack plans one incident of its kind on device d from at; strong
// ones are well above the default thresholds, the others a little.
type attack struct {
	kind  string
	roles []role // who may be the device involved
	plan  func(p *planner, d *device, at time.Time, strong bool) incident
}

var (
	everyone = []role{sensor, camera, plc, web, app, db, win}
)

// attacks are in the order instances are spread over the second day.
var attacks = []attack{
	{"horizontal_scan", everyone, planHorizontalScan},
	{"vertical_scan", everyone, planVerticalScan},
	{"fan_out", []role{sensor, camera, app, win, web}, planFanOut},
	{"brute_force", everyone, planBruteForce},
	{"beaconing", []role{sensor, camera, plc, app, win}, planBeaconing},
	{"exfiltration", []role{sensor, camera, app, win, db, web}, planExfiltration},
	{"dns_tunnel", everyone, planDNSTunnel},
	{"new_listening_port", everyone, planNewPort},
	{"cleartext_credentials", []role{plc, camera, sensor, app}, planCleartext},
	{"allowlist", append([]role{sensor, camera, plc}, sensor, camera, plc, web, db), planAllowlist},
	{"threat_intel", everyone, planIntel},
	{"policy", []role{web, app, db, sensor, camera, plc}, planPolicy},
	{"profile_listening_port", []role{camera}, planProfilePort},
	{"profile_threshold", []role{camera}, planProfileBytes},
	{"profile_statistical", []role{sensor, camera}, planProfileConns},
	{"profile_ml", []role{sensor, camera}, planProfileML},
	{"device_certificate_shared", []role{sensor, camera}, planSharedCert},
	{"conflicting_client_ids", []role{plc}, planClientID},
	{"weak_tls", everyone, planWeakTLS},
	{"cleartext_management", []role{plc, app, db, web}, planCleartextMgmt},
}

// longestIncident bounds an incident's duration, for placing it.
const longestIncident = 6 * time.Hour

type planner struct {
	cfg Config
	f   *fleet
	rng *rand.Rand
}

// plan places cfg.Incidents instances of every kind after the first
// day, spread in time and over the devices of the roles each kind
// suits, alternating strong and modest.
func plan(cfg Config, f *fleet, rng *rand.Rand) []incident {
	p := &planner{cfg: cfg, f: f, rng: rng}
	span := time.Duration(cfg.Hours)*time.Hour - firstIncident - longestIncident - 30*time.Minute
	slots := float64(len(attacks) * cfg.Incidents)
	var out []incident
	for i := range cfg.Incidents {
		for k, a := range attacks {
			slot := float64(i*len(attacks)+k) + rng.Float64()
			at := cfg.Start.Add(firstIncident + time.Duration(slot/slots*float64(span))).Truncate(time.Second)
			var cands []int
			for j, d := range f.devices {
				for _, r := range a.roles {
					if d.role == r {
						cands = append(cands, j)
						break
					}
				}
			}
			dev := cands[(i*len(cands)/max(cfg.Incidents, 1)+k)%len(cands)]
			strong := i%2 == 0
			in := a.plan(p, f.devices[dev], at, strong)
			in.dev, in.label.Strength = dev, "modest"
			if strong {
				in.label.Strength = "strong"
			}
			out = append(out, in)
		}
	}
	return out
}

func (p *planner) intn(lo, hi int) int { return lo + p.rng.IntN(hi-lo) }

func (p *planner) seconds(lo, hi int) time.Duration {
	return time.Duration(p.intn(lo, hi)) * time.Second
}

// attacker is an internet address of the documentation ranges that no
// feed lists.
func (p *planner) attacker() netip.Addr {
	for {
		ip := netip.AddrFrom4([4]byte{192, 0, 2, byte(p.intn(1, 255))})
		if p.rng.IntN(2) == 0 {
			ip = netip.AddrFrom4([4]byte{198, 51, 100, byte(p.intn(1, 255))})
		}
		if !isListed(ip) {
			return ip
		}
	}
}

func isListed(ip netip.Addr) bool {
	for _, ind := range intelIndicators {
		if ind == ip.String() {
			return true
		}
	}
	return false
}

// otherVM picks a VM other than d, of one of the roles if given.
func (p *planner) otherVM(d *device, roles ...role) *device {
	for {
		c := p.f.devices[p.f.iot()+p.rng.IntN(len(p.f.devices)-p.f.iot())]
		if c == d {
			continue
		}
		if len(roles) == 0 {
			return c
		}
		for _, r := range roles {
			if c.role == r {
				return c
			}
		}
	}
}

func hostEntities(n *node) []string {
	out := []string{"ip:" + n.ip.String()}
	if n.asset != "" {
		out = append(out, "asset:"+n.asset)
	}
	return out
}

func idx(f *fleet, n *node) int {
	for i, d := range f.devices {
		if &d.node == n {
			return i
		}
	}
	return -1
}

// same is, in g's fleet, the host the planner's fleet had at n's
// address: each generation rebuilds the fleet.
func same(g *gen, n *node) *node { return g.fleet.host(n.ip) }

func word(p *planner) string {
	words := []string{"sync", "cdn", "edge", "static", "img", "api", "update", "telemetry", "assets", "push"}
	return words[p.rng.IntN(len(words))] + strconv.Itoa(p.intn(1, 99))
}

func label(kind string, at time.Time, dur time.Duration, note string, entities []string, rules ...string) Label {
	l := NewLabel(kind, at, at.Add(dur), entities, rules...)
	l.Note = note
	return l
}

func planHorizontalScan(p *planner, d *device, at time.Time, strong bool) incident {
	port := []uint16{23, 22, 445, 502, 8080}[p.rng.IntN(5)]
	hosts, dur := p.intn(55, 70), p.seconds(40, 55)
	if strong {
		hosts, dur = p.intn(120, 250), p.seconds(20, 40)
	}
	return incident{
		label: label("horizontal_scan", at, dur, fmt.Sprintf("%s swept %d hosts on %d/tcp in %v", d.name, hosts, port, dur),
			append(hostEntities(&d.node), detect.PortEntity(port))),
		emit: func(g *gen, d *device) {
			b := d.ip.As4()
			for i := range hosts {
				target := g.fleet.host(netip.AddrFrom4([4]byte{b[0], b[1], b[2], byte(1 + i)}))
				if target.ip == d.ip {
					continue
				}
				g.emit(g.probe(at.Add(dur*time.Duration(i)/time.Duration(hosts)), &d.node, target, port))
			}
		},
	}
}

// probe is a connection attempt: answered when the target serves the
// port, refused by a host that is up, unanswered at an unused address.
func (g *gen) probe(at time.Time, orig, target *node, port uint16) conn {
	c := conn{at: at, orig: orig, resp: target, dport: port, state: "S0"}
	switch {
	case g.fleet.listens(target, port):
		c.state, c.dur, c.ob, c.rb = "", 200*time.Millisecond, 0, 60
	case target.asset != "":
		c.state = "REJ"
	}
	return c
}

func planVerticalScan(p *planner, d *device, at time.Time, strong bool) incident {
	victim := &p.otherVM(d).node
	if p.rng.IntN(3) == 0 {
		victim = []*node{p.f.nvr, p.f.scada, p.f.resolver}[p.rng.IntN(3)]
	}
	ports, dur := p.intn(55, 70), p.seconds(40, 55)
	if strong {
		ports, dur = p.intn(300, 1000), p.seconds(30, 60)
	}
	order := p.rng.Perm(1024)[:ports]
	return incident{
		label: label("vertical_scan", at, dur, fmt.Sprintf("%s probed %d ports of %s in %v", d.name, ports, victim.name, dur),
			[]string{"ip:" + d.ip.String(), "ip:" + victim.ip.String()}),
		emit: func(g *gen, d *device) {
			v := same(g, victim)
			for i, port := range order {
				g.emit(g.probe(at.Add(dur*time.Duration(i)/time.Duration(ports)), &d.node, v, uint16(port+1)))
			}
		},
	}
}

func planFanOut(p *planner, d *device, at time.Time, strong bool) incident {
	n, dur := p.intn(55, 70), p.seconds(180, 240)
	if strong {
		n, dur = p.intn(150, 300), p.seconds(120, 240)
	}
	return incident{
		label: label("fan_out", at, dur, fmt.Sprintf("%s reached %d new internet hosts in %v", d.name, n, dur), hostEntities(&d.node)),
		emit: func(g *gen, d *device) {
			for i := range n {
				c := conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: g.jit(2*time.Second, 0.5), orig: &d.node,
					resp: public(randomPublic(g.rng)), dport: 443, ob: g.between(300, 2000), rb: g.between(500, 20000)}
				if g.rng.IntN(3) == 0 {
					c.dport = 80
				}
				if g.rng.IntN(5) == 0 {
					c.state, c.dur = "S0", 0
				}
				g.emit(c)
			}
		},
	}
}

func planBruteForce(p *planner, d *device, at time.Time, strong bool) incident {
	n, dur := p.intn(22, 30), p.seconds(120, 240)
	if strong {
		n, dur = p.intn(100, 300), p.seconds(180, 300)
	}
	attacker, victim, port := &d.node, (*node)(nil), uint16(22)
	switch {
	case d.role == web: // SSH left open to the internet
		attacker, victim = public(p.attacker()), &d.node
	case d.role == win:
		victim, port = &p.otherVM(d, win).node, 3389
	case d.role < web && p.rng.IntN(2) == 0:
		victim, port = p.f.scada, 1883
	default:
		victim = &p.otherVM(d, web, app, db).node
	}
	return incident{
		label: label("brute_force", at, dur, fmt.Sprintf("%s tried %d logins on %s:%d in %v", attacker.ip, n, victim.ip, port, dur),
			[]string{"ip:" + attacker.ip.String(), "ip:" + victim.ip.String(), detect.PortEntity(port)}),
		emit: func(g *gen, d *device) {
			a, v := same(g, attacker), same(g, victim)
			for i := range n {
				g.emit(conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: g.jit(2*time.Second, 0.5), orig: a, resp: v,
					dport: port, ob: g.between(1500, 2500), rb: g.between(2000, 3500)})
			}
		},
	}
}

func planBeaconing(p *planner, d *device, at time.Time, strong bool) incident {
	period, jitter, count := p.seconds(300, 600), 0.25+0.1*p.rng.Float64(), p.intn(20, 30)
	if strong {
		period, jitter, count = p.seconds(60, 300), 0.05, p.intn(40, 60)
	}
	c2 := p.attacker()
	name, port := fmt.Sprintf("%s.%s-cdn.example", word(p), word(p)), uint16(443)
	target := "domain:" + name
	if p.rng.IntN(2) == 0 {
		name, port, target = "", 8443, "ip:"+c2.String()
	}
	dur := period * time.Duration(count)
	return incident{
		label: label("beaconing", at, dur, fmt.Sprintf("%s called %s every %v ±%.0f%% %d times", d.name, target, period, 100*jitter, count),
			[]string{"ip:" + d.ip.String(), target, detect.PortEntity(port)}),
		emit: func(g *gen, d *device) {
			size := g.between(250, 600)
			for t, i := at, 0; i < count; i++ {
				c := conn{at: t, dur: g.jit(300*time.Millisecond, 0.5), orig: &d.node, resp: public(c2), dport: port,
					ob: size * g.between(95, 105) / 100, rb: g.between(200, 900)}
				if i%10 == 9 {
					c.ob *= 4 // a command's output
				}
				if name != "" {
					g.fleet.services[name] = []netip.Addr{c2}
					_, c.at = g.resolve(&d.node, name, t, 5*time.Minute)
					c.app, c.l7 = "tls", tlsL7(name)
				}
				g.emit(c)
				t = t.Add(g.jit(period, jitter))
			}
		},
	}
}

// exfilBase is about the default threshold for each role's baseline:
// the 100 MB floor, more where clips or backups widen the baseline.
var exfilBase = map[role]float64{sensor: 100e6, plc: 100e6, camera: 150e6, web: 100e6, app: 120e6, win: 120e6, db: 4e9}

func planExfiltration(p *planner, d *device, at time.Time, strong bool) incident {
	factor := 1.6 + 0.8*p.rng.Float64()
	if strong {
		factor = 5 + 10*p.rng.Float64()
	}
	total := uint64(exfilBase[d.role] * factor)
	rate := uint64(5e6)
	if d.role >= web {
		rate = 50e6
	}
	dest, parts := p.attacker(), p.intn(2, 6)
	dur := time.Duration(total/rate)*time.Second + time.Duration(parts)*10*time.Second
	name := ""
	if p.rng.IntN(2) == 0 {
		name = "files." + word(p) + "-share.example"
	}
	return incident{
		label: label("exfiltration", at, dur, fmt.Sprintf("%s sent %.0f MB to %s (%s) in %v", d.name, float64(total)/1e6, dest, name, dur),
			append(hostEntities(&d.node), "ip:"+dest.String())),
		emit: func(g *gen, d *device) {
			t := at
			for range parts {
				part := total / uint64(parts)
				c := conn{at: t, dur: time.Duration(part/rate) * time.Second, orig: &d.node, resp: public(dest), dport: 443,
					ob: part, rb: g.between(20_000, 60_000)}
				if name != "" {
					c.app, c.l7 = "tls", tlsL7(name)
				}
				g.emit(c)
				t = t.Add(c.dur + 10*time.Second)
			}
		},
	}
}

func planDNSTunnel(p *planner, d *device, at time.Time, strong bool) incident {
	n, dur, qtype := p.intn(55, 75), p.seconds(180, 240), "A"
	if strong {
		n, dur, qtype = p.intn(300, 800), p.seconds(180, 300), "TXT"
	}
	domain := word(p) + "-relay.example"
	return incident{
		label: label("dns_tunnel", at, dur, fmt.Sprintf("%s asked %d encoded %s names under %s in %v", d.name, n, qtype, domain, dur),
			[]string{"ip:" + d.ip.String(), "domain:" + domain}),
		emit: func(g *gen, d *device) {
			const b32 = "abcdefghijklmnopqrstuvwxyz234567"
			for i := range n {
				sub := make([]byte, 30+g.rng.IntN(30))
				for j := range sub {
					sub[j] = b32[g.rng.IntN(len(b32))]
				}
				q := fmt.Sprintf("%s.%x.t.%s", sub, i, domain)
				g.emit(conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: 40 * time.Millisecond, orig: &d.node,
					resp: g.fleet.resolver, dport: 53, udp: true, ob: uint64(17 + len(q)), rb: uint64(60 + len(q)), app: "dns",
					l7: dnsL7(uint16(g.rng.IntN(65536)), q, qtype, "10.77.0.1")})
			}
		},
	}
}

func planNewPort(p *planner, d *device, at time.Time, strong bool) incident {
	port := []uint16{4444, 2323, 8081, 5555, 31337}[p.rng.IntN(5)]
	n, dur := 1, time.Minute
	if strong {
		n, dur = 5, 30*time.Minute
	}
	var client *node = p.f.workstations[p.rng.IntN(len(p.f.workstations))]
	switch {
	case d.role == web:
		client = public(p.attacker())
	case d.role < web:
		client = &p.f.devices[(idx(p.f, &d.node)+4)%p.f.iot()].node
	}
	return incident{
		label: label("new_listening_port", at, dur, fmt.Sprintf("%s answered on %d/tcp to %s (%d sessions)", d.name, port, client.ip, n),
			append(hostEntities(&d.node), detect.PortEntity(port))),
		emit: func(g *gen, d *device) {
			c := same(g, client)
			for i := range n {
				g.emit(conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: g.jit(20*time.Second, 0.5), orig: c,
					resp: &d.node, dport: port, ob: g.between(200, 2000), rb: g.between(500, 50_000)})
			}
		},
	}
}
