package scenario

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// Incidents of the audits.

// planSharedCert: a box someone plugged into the IoT segment connects to
// the broker with the certificate of device d (its identity cloned),
// every few minutes, while d goes on as usual.
func planSharedCert(p *planner, d *device, at time.Time, strong bool) incident {
	n, dur := 2, p.seconds(300, 600)
	if strong {
		n, dur = p.intn(6, 12), p.seconds(1200, 2400)
	}
	clone := netip.AddrFrom4([4]byte{10, 10, 2, byte(p.intn(10, 250))})
	sha := deviceCert(p.cfg, d).SHA256
	return incident{
		label: label("device_certificate_shared", at, dur, fmt.Sprintf("%s used the certificate of %s %d times", clone, d.name, n),
			[]string{"cert:" + sha, "ip:" + d.ip.String(), "ip:" + clone.String()}),
		emit: func(g *gen, d *device) {
			c := g.fleet.host(clone)
			for i := range n {
				addr, t := g.resolve(c, brokerName, at.Add(dur*time.Duration(i)/time.Duration(n)), time.Minute)
				g.emit(conn{at: t, dur: g.jit(40*time.Second, 0.5), orig: c, resp: public(addr), dport: 8883,
					ob: g.between(2000, 20_000), rb: g.between(3000, 10_000), app: "tls", l7: tls12(brokerName, g.certs.broker, g.certs.device[d])})
			}
		},
	}
}

// planClientID: another PLC is configured with d's MQTT client id (a
// copied configuration): at SCADA's broker each CONNECT knocks the
// other off, and they take turns.
func planClientID(p *planner, d *device, at time.Time, strong bool) incident {
	plcs := p.f.byRole[plc]
	other := plcs[(indexOf(plcs, d)+1)%len(plcs)]
	turns, dur := 2, p.seconds(300, 600)
	if strong {
		turns, dur = p.intn(5, 10), p.seconds(1200, 2400)
	}
	// The PLC's own connection to the broker is long-lived: the meter
	// writes it every hour, and only then does the detector see that it
	// was open while the other PLC held the id. The label lasts until
	// that record.
	seen := at.Add(dur).Truncate(time.Hour).Add(time.Hour + 2*time.Minute).Sub(at)
	return incident{
		label: label("conflicting_client_ids", at, seen, fmt.Sprintf("%s and %s took turns with client id %s %d times", d.name, other.name, d.asset, turns),
			[]string{"mqtt_client:" + d.asset, "ip:" + d.ip.String(), "ip:" + other.ip.String()}),
		emit: func(g *gen, d *device) {
			o := same(g, &other.node)
			step := dur / time.Duration(2*turns)
			for i := range 2 * turns {
				who := o
				if i%2 == 1 {
					who = &d.node
				}
				g.emit(conn{at: at.Add(step * time.Duration(i)), dur: step + 30*time.Millisecond, orig: who, resp: g.fleet.scada, dport: 1883,
					ob: g.between(2000, 8000), rb: g.between(200, 800), app: "mqtt", l7: &schema.L7{By: "content", Confidence: 1,
						MQTT: &schema.MQTT{ClientID: d.asset, ProtocolLevel: 4, Username: "plc"}}})
			}
		},
	}
}

func indexOf(ds []*device, d *device) int {
	for i, x := range ds {
		if x == d {
			return i
		}
	}
	return 0
}

// planWeakTLS: a device talks to a server with an expired certificate,
// one that negotiates TLS 1.0, or one with a 1024-bit RSA key: a
// vendor's forgotten endpoint, a partner's legacy API.
func planWeakTLS(p *planner, d *device, at time.Time, strong bool) incident {
	n := 1
	if strong {
		n = p.intn(3, 6)
	}
	server := p.attacker()
	name := "api." + word(p) + "-vendor.example"
	c := serverCert(p.cfg, name, "CN=R10 O=Let's Encrypt C=US", 90, "RSA", 2048)
	version, rule, entities := "TLSv12", "", []string{"cert:" + c.SHA256, "ip:" + server.String(), "ip:" + d.ip.String()}
	var note string
	switch p.rng.IntN(3) {
	case 0:
		c.NotAfter = at.Add(-time.Duration(p.intn(3, 200)) * 24 * time.Hour)
		c.NotBefore = c.NotAfter.Add(-90 * 24 * time.Hour)
		rule, note = "server-certificate-expiring", "an expired certificate"
	case 1:
		version, rule, note = "TLSv10", "tls-weak-version", "TLS 1.0"
		entities = []string{"ip:" + server.String(), "ip:" + d.ip.String(), "port:443"}
	default:
		c.KeyBits, rule, note = 1024, "server-certificate-key-quality", "a 1024-bit RSA key"
	}
	dur := time.Duration(n) * 5 * time.Minute
	return incident{
		label: label("weak_tls", at, dur, fmt.Sprintf("%s reached %s (%s) with %s, %d sessions", d.name, name, server, note, n), entities, rule),
		emit: func(g *gen, d *device) {
			g.fleet.services[name] = []netip.Addr{server}
			for i := range n {
				_, t := g.resolve(&d.node, name, at.Add(time.Duration(i)*5*time.Minute), time.Minute)
				l7 := tls12(name, c, nil)
				l7.TLS.Version = version
				g.emit(conn{at: t, dur: g.jit(time.Second, 0.5), orig: &d.node, resp: public(server), dport: 443,
					ob: g.between(500, 3000), rb: g.between(3000, 20_000), app: "tls", l7: l7})
			}
		},
	}
}

// planCleartextMgmt: a PLC serving telnet, or a VM an admin console
// over plain HTTP on 8080, used from a workstation.
func planCleartextMgmt(p *planner, d *device, at time.Time, strong bool) incident {
	n := 1
	if strong {
		n = p.intn(3, 6)
	}
	ws := p.f.workstations[p.rng.IntN(len(p.f.workstations))]
	port, rule := uint16(23), "cleartext-management-telnet"
	if d.role != plc {
		port, rule = 8080, "cleartext-management-http"
	}
	dur := time.Duration(n) * 10 * time.Minute
	return incident{
		label: label("cleartext_management", at, dur, fmt.Sprintf("%s served %s to %s (%d sessions)", d.name, rule, ws.ip, n),
			[]string{"ip:" + d.ip.String(), "ip:" + ws.ip.String(), detect.PortEntity(port)}, rule),
		emit: func(g *gen, d *device) {
			for i := range n {
				c := conn{at: at.Add(time.Duration(i) * 10 * time.Minute), dur: g.jit(2*time.Minute, 0.5), orig: same(g, ws), resp: &d.node,
					dport: port, ob: g.between(500, 5000), rb: g.between(2000, 200_000), app: "telnet", l7: &schema.L7{By: "content", Confidence: 1}}
				if port == 8080 {
					c.app, c.l7 = "http", httpL7("GET", d.ip.String()+":8080", "/manager/html", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", 200)
				}
				g.emit(c)
			}
		},
	}
}
