package scenario

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func planCleartext(p *planner, d *device, at time.Time, strong bool) incident {
	n := 1
	if strong {
		n = p.intn(3, 6)
	}
	ws := p.f.workstations[p.rng.IntN(len(p.f.workstations))]
	client, server, port, proto := ws, &d.node, uint16(23), "telnet"
	switch d.role {
	case camera: // the web UI over plain HTTP with Basic authentication
		port, proto = 80, "http-basic"
	case plc:
	default: // an upload to a partner's FTP server
		client, server, port, proto = &d.node, public(p.attacker()), 21, "ftp"
	}
	dur := time.Duration(n) * 10 * time.Minute
	return incident{
		label: label("cleartext_credentials", at, dur, fmt.Sprintf("%s logged in to %s over %s (%d sessions)", client.ip, server.ip, proto, n),
			[]string{"ip:" + client.ip.String(), "ip:" + server.ip.String()}),
		emit: func(g *gen, d *device) {
			c, s := same(g, client), same(g, server)
			for i := range n {
				app, l7 := proto, &schema.L7{By: "content", Confidence: 1}
				if proto == "http-basic" {
					app, l7 = "http", httpL7("GET", s.ip.String(), "/cgi-bin/config.cgi", "Mozilla/5.0", 200)
				}
				l7.Cleartext = &schema.Cleartext{Protocol: proto, User: "admin", Password: true}
				g.emit(conn{at: at.Add(time.Duration(i) * 10 * time.Minute), dur: g.jit(3*time.Minute, 0.5), orig: c, resp: s, dport: port,
					ob: g.between(500, 50_000), rb: g.between(1000, 20_000), app: app, l7: l7})
			}
		},
	}
}

func planAllowlist(p *planner, d *device, at time.Time, strong bool) incident {
	n := 1
	if strong {
		n = 3
	}
	dst := p.attacker()
	reg := word(p) + "-cloud.example"
	name, target := "api."+reg, "domain:"+reg
	if p.rng.IntN(2) == 0 {
		name, target = "", "ip:"+dst.String()
	}
	dur := time.Duration(n) * 5 * time.Minute
	return incident{
		label: label("allowlist", at, dur, fmt.Sprintf("%s reached %s, new to it (%d sessions)", d.name, target, n),
			append(hostEntities(&d.node), target)),
		emit: func(g *gen, d *device) {
			for i := range n {
				c := conn{at: at.Add(time.Duration(i) * 5 * time.Minute), dur: g.jit(time.Second, 0.5), orig: &d.node,
					resp: public(dst), dport: 443, ob: g.between(500, 3000), rb: g.between(1000, 8000)}
				if name != "" {
					g.fleet.services[name] = []netip.Addr{dst}
					_, c.at = g.resolve(&d.node, name, c.at, time.Minute)
					c.app, c.l7 = "tls", tlsL7(name)
				}
				g.emit(c)
			}
		},
	}
}

func planIntel(p *planner, d *device, at time.Time, strong bool) incident {
	n := 1
	if strong {
		n = 4
	}
	i := p.rng.IntN(len(intelIndicators))
	ind := intelIndicators[i]
	addr, err := netip.ParseAddr(ind)
	target := "ip:" + ind
	if err != nil {
		addr, target = p.attacker(), "domain:"+ind
	}
	dur := time.Duration(n) * 7 * time.Minute
	return incident{
		label: label("threat_intel", at, dur, fmt.Sprintf("%s reached %s, listed by %s (%d sessions)", d.name, ind, intelFeed, n),
			[]string{"ip:" + d.ip.String(), target}),
		emit: func(g *gen, d *device) {
			for i := range n {
				c := conn{at: at.Add(time.Duration(i) * 7 * time.Minute), dur: g.jit(2*time.Second, 0.5), orig: &d.node,
					resp: public(addr), dport: 443, ob: g.between(500, 3000), rb: g.between(1000, 30_000)}
				if target[0] == 'd' {
					g.fleet.services[ind] = []netip.Addr{addr}
					_, c.at = g.resolve(&d.node, ind, c.at, time.Minute)
					c.app, c.l7 = "tls", tlsL7(ind)
				}
				g.emit(c)
			}
		},
	}
}

// planPolicy breaks the scenario's policy: SSH into a VM answered from
// the internet (a security group opened by mistake), or a database
// reached by something that is not a VM.
func planPolicy(p *planner, d *device, at time.Time, strong bool) incident {
	dur := p.seconds(120, 1800)
	if d.role >= web {
		src := public(p.attacker())
		return incident{
			label: label("policy", at, dur, fmt.Sprintf("%s logged in to %s over SSH from the internet", src.ip, d.name),
				[]string{"ip:" + src.ip.String(), "ip:" + d.ip.String(), "asset:" + d.asset}, "ssh-from-internet"),
			emit: func(g *gen, d *device) {
				g.emit(conn{at: at, dur: dur, orig: src, resp: &d.node, dport: 22, ob: g.between(20_000, 200_000), rb: g.between(50_000, 2e6),
					app: "ssh", l7: &schema.L7{By: "content", Confidence: 1, SSH: &schema.SSH{Client: "SSH-2.0-Go", Server: "SSH-2.0-OpenSSH_9.2p1"}}})
			},
		}
	}
	target := &p.f.byRole[db][p.rng.IntN(len(p.f.byRole[db]))].node
	n := 1
	if strong {
		n = 3
	}
	return incident{
		label: label("policy", at, dur, fmt.Sprintf("%s connected to database %s (%d sessions)", d.name, target.name, n),
			[]string{"ip:" + d.ip.String(), "ip:" + target.ip.String()}, "db-ingress"),
		emit: func(g *gen, d *device) {
			t := same(g, target)
			for i := range n {
				g.emit(conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: g.jit(3*time.Second, 0.5), orig: &d.node, resp: t,
					dport: 5432, ob: g.between(300, 3000), rb: g.between(500, 100_000), app: "postgresql"})
			}
		},
	}
}
