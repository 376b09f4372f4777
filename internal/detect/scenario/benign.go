package scenario

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// hour writes the benign traffic of [from, to): each device's habits,
// then what the infrastructure and the internet do to them.
func (g *gen) hour(from, to time.Time) {
	for _, d := range g.fleet.devices {
		switch d.role {
		case sensor:
			g.sensor(d, from, to)
		case camera:
			g.camera(d, from, to)
		case plc:
			g.plc(d, from, to)
		case web:
			g.web(d, from, to)
		case app:
			g.app(d, from, to)
		case db:
			g.db(d, from, to)
		case win:
			g.windows(d, from, to)
		}
		if d.role >= web {
			g.vm(d, from, to)
		}
	}
	g.admins(from, to)
	for i, n := range g.fleet.envmons {
		g.envmon(n, i, from, to)
	}
}

// iotCommon: SNTP against the public pool (hourly, the classic periodic
// traffic), DHCP renewals, and for cameras mDNS and SSDP announcements.
func (g *gen) iotCommon(d *device, from, to time.Time) {
	n := &d.node
	g.every(n, "ntp", from, to, time.Hour, 0.02, func(t time.Time) {
		addr, t := g.resolve(n, ntpPool, t, 150*time.Second)
		g.emit(conn{at: t, dur: 30 * time.Millisecond, orig: n, resp: public(addr), sport: 123, dport: 123, udp: true,
			ob: 48, rb: 48, app: "ntp", l7: &schema.L7{By: "content", Confidence: 1, NTP: &schema.NTP{Version: 4, Mode: 3}}})
	})
	g.every(n, "dhcp", from, to, 12*time.Hour, 0.01, func(t time.Time) {
		g.emit(conn{at: t, dur: 5 * time.Millisecond, orig: n, resp: g.fleet.gateway, sport: 68, dport: 67, udp: true,
			ob: 300, rb: 300, app: "dhcp", l7: &schema.L7{By: "content", Confidence: 1,
				DHCP: &schema.DHCP{MsgTypes: []string{"REQUEST", "ACK"}, ClientMAC: n.mac, Hostname: n.name, LeaseSecs: 86400}}})
	})
}

// sensor wakes every few minutes (its own period, a few per cent of
// drift), connects to the broker over TLS, publishes and sleeps; it asks
// for firmware twice a day.
func (g *gen) sensor(d *device, from, to time.Time) {
	n := &d.node
	g.iotCommon(d, from, to)
	period := time.Duration(g.param(n, "period", 60, 300) * float64(time.Second))
	g.every(n, "publish", from, to, period, 0.08, func(t time.Time) {
		addr, t := g.resolve(n, brokerName, t, time.Minute)
		// Mutual TLS 1.2, as AWS IoT authenticates things on 8883: both
		// certificates are in the clear.
		g.emit(conn{at: t, dur: g.jit(800*time.Millisecond, 0.5), orig: n, resp: public(addr), dport: 8883,
			ob: g.between(1800, 2600), rb: g.between(3500, 4500), app: "tls", l7: tls12(brokerName, g.certs.broker, g.certs.device[d])})
	})
	g.every(n, "firmware", from, to, 12*time.Hour, 0.1, func(t time.Time) {
		addr, t := g.resolve(n, fwName, t, 5*time.Minute)
		g.emit(conn{at: t, dur: 400 * time.Millisecond, orig: n, resp: public(addr), dport: 443,
			ob: g.between(500, 800), rb: g.between(800, 1200), app: "tls", l7: tlsL7(fwName)})
	})
}

// camera keeps an MQTT session to the broker and an RTSP stream to the
// NVR open (interim records every hour), answers the NVR's ONVIF event
// polls, announces itself, and uploads a clip to the vendor's cloud on
// motion — more by day — with the web UI opened by an admin now and
// then.
func (g *gen) camera(d *device, from, to time.Time) {
	n := &d.node
	g.iotCommon(d, from, to)
	g.longFlow(n, "mqtt", from, to, 0.02, func(t time.Time) conn {
		addr, _ := g.resolve(n, brokerName, t, time.Minute)
		return conn{at: t.Add(50 * time.Millisecond), orig: n, resp: public(addr), dport: 8883, app: "tls",
			l7: tls12(brokerName, g.certs.broker, g.certs.device[d])}
	}, func() (uint64, uint64) { return g.between(150_000, 250_000), g.between(40_000, 60_000) })
	g.longFlow(n, "rtsp", from, to, 0.01, func(t time.Time) conn {
		return conn{at: t, orig: g.fleet.nvr, resp: n, dport: 554, app: "rtsp"}
	}, func() (uint64, uint64) { return g.between(20_000, 40_000), g.between(600_000_000, 750_000_000) })
	g.every(n, "onvif", from, to, 2*time.Minute, 0.05, func(t time.Time) {
		g.emit(conn{at: t, dur: 60 * time.Second, orig: g.fleet.nvr, resp: n, dport: 80, ob: 900, rb: g.between(600, 2000),
			app: "http", l7: httpL7("POST", n.ip.String(), "/onvif/event_service", "nvr/4.2", 200)})
	})
	g.every(n, "mdns", from, to, 20*time.Minute, 0.5, func(t time.Time) {
		g.emit(conn{at: t, orig: n, resp: mdnsGroup, sport: 5353, dport: 5353, udp: true, state: "S0", ob: 180, app: "dns",
			l7: &schema.L7{By: "content", Confidence: 1, DNS: &schema.DNS{Query: "_onvif._tcp.local", QType: "PTR"}, Names: []string{n.name + ".local"}}})
	})
	g.every(n, "ssdp", from, to, 30*time.Minute, 0.01, func(t time.Time) {
		g.emit(conn{at: t, orig: n, resp: ssdpGroup, sport: 1900, dport: 1900, udp: true, state: "S0", ob: 320, app: "ssdp"})
	})
	g.poisson(from, to, 4, true, func(t time.Time) {
		addr, t := g.resolve(n, clipsName, t, time.Minute)
		size := uint64(2_000_000 * (1 + 10*g.rng.Float64()*g.rng.Float64()))
		g.emit(conn{at: t, dur: time.Duration(size/2) * time.Microsecond, orig: n, resp: public(addr), dport: 443,
			ob: size, rb: g.between(4000, 8000), app: "tls", l7: tlsL7(clipsName)})
	})
	g.poisson(from, to, 0.02, true, func(t time.Time) {
		ws := g.fleet.workstations[g.rng.IntN(len(g.fleet.workstations))]
		// Browsers send no SNI for an address (RFC 6066).
		g.emit(conn{at: t, dur: 3 * time.Minute, orig: ws, resp: n, dport: 443, ob: 20_000, rb: 900_000, app: "tls", l7: tlsL7("")})
	})
}

// plc is polled by SCADA over Modbus/TCP and publishes to SCADA's MQTT
// broker, both over connections that stay open; it takes time from the
// gateway.
func (g *gen) plc(d *device, from, to time.Time) {
	n := &d.node
	g.longFlow(n, "modbus", from, to, 0.005, func(t time.Time) conn {
		return conn{at: t, orig: g.fleet.scada, resp: n, dport: 502, app: "modbus", l7: &schema.L7{By: "content", Confidence: 1,
			Industrial: &schema.Industrial{Protocol: "modbus", Functions: []string{"read_holding_registers"}, Units: []uint32{1}}}}
	}, func() (uint64, uint64) { return g.between(40_000, 46_000), g.between(90_000, 100_000) })
	g.longFlow(n, "mqtt", from, to, 0.005, func(t time.Time) conn {
		return conn{at: t, orig: n, resp: g.fleet.scada, dport: 1883, app: "mqtt", l7: &schema.L7{By: "content", Confidence: 1,
			MQTT: &schema.MQTT{ClientID: n.asset, ProtocolLevel: 4, Username: "plc"}}}
	}, func() (uint64, uint64) { return g.between(60_000, 80_000), g.between(5000, 8000) })
	g.every(n, "ntp", from, to, 1024*time.Second, 0.01, func(t time.Time) {
		g.emit(conn{at: t, dur: time.Millisecond, orig: n, resp: g.fleet.gateway, sport: 123, dport: 123, udp: true, ob: 48, rb: 48, app: "ntp"})
	})
}

// longFlow keeps a connection open: opened by open, written every hour
// of its life (the meter's active timeout) with what bytes adds, closed
// and reopened with probability drop an hour.
func (g *gen) longFlow(n *node, key string, from, to time.Time, drop float64, open func(time.Time) conn, bytes func() (uint64, uint64)) {
	st := g.st(n)
	f := st.flows[key]
	if f == nil || !f.open {
		f = g.openFlow(open(from.Add(time.Duration(g.rng.Float64() * float64(time.Minute)))))
		st.flows[key] = f
	}
	for t := f.c.at.Add(time.Duration(f.seq+1) * time.Hour); t.Before(to); t = t.Add(time.Hour) {
		ob, rb := bytes()
		g.write(f, t, ob, rb, false)
	}
	if g.rng.Float64() < drop {
		last := latest(f.last, f.c.at, from)
		g.write(f, last.Add(time.Duration(g.rng.Float64()*float64(to.Sub(last)))), 1000, 1000, true)
	}
}

func latest(ts ...time.Time) time.Time {
	m := ts[0]
	for _, t := range ts[1:] {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// web is a public web server behind a network load balancer that keeps
// client addresses: clients from everywhere (more by day), the
// balancer's health checks, and the internet's background of scanners
// and SSH bots probing it.
func (g *gen) web(d *device, from, to time.Time) {
	n := &d.node
	g.poisson(from, to, 250, true, func(t time.Time) {
		client := public(g.client())
		// Older clients negotiate TLS 1.2 and see the site's certificate,
		// the same on every web server behind the balancer.
		l7 := tlsL7(webName)
		if g.rng.IntN(5) == 0 {
			l7 = tls12(webName, g.certs.web, nil)
		}
		g.emit(conn{at: t, dur: g.jit(5*time.Second, 0.9), orig: client, resp: n, dport: 443,
			ob: g.between(600, 4000), rb: g.between(5_000, 200_000), app: "tls", l7: l7})
	})
	g.every(n, "health", from, to, 30*time.Second, 0, func(t time.Time) {
		g.emit(conn{at: t, dur: 3 * time.Millisecond, orig: g.fleet.lb, resp: n, dport: 80, ob: 110, rb: 160,
			app: "http", l7: httpL7("GET", n.ip.String(), "/healthz", "ELB-HealthChecker/2.0", 200)})
	})
	g.poisson(from, to, 0.5, false, func(t time.Time) { g.scanner(n, t) })
	g.poisson(from, to, 2, false, func(t time.Time) {
		bot := public(randomPublicFrom(g))
		for i := range 1 + g.rng.IntN(6) {
			g.emit(conn{at: t.Add(time.Duration(i) * 3 * time.Second), orig: bot, resp: n, dport: 22, state: "S0"})
		}
	})
}

// client picks a web client: most are returning visitors.
func (g *gen) client() netip.Addr {
	if g.rng.IntN(3) > 0 {
		r := g.rng.IntN(2000)
		return netip.AddrFrom4([4]byte{byte(80 + r%60), byte(r * 7), byte(r * 13), byte(1 + r%250)})
	}
	return randomPublicFrom(g)
}

func randomPublicFrom(g *gen) netip.Addr { return randomPublic(g.rng) }

// scanner is internet background radiation: a research scanner or a
// bot checking a handful of common ports, or now and then hundreds of
// ports over a few minutes. The security group drops what is not
// served, so those probes go unanswered.
func (g *gen) scanner(n *node, t time.Time) {
	src := public(randomPublicFrom(g))
	ports := []uint16{21, 22, 23, 80, 443, 445, 3389, 8080, 8443}
	if g.rng.IntN(3) == 0 {
		ports = ports[:0]
		for range 100 + g.rng.IntN(900) {
			ports = append(ports, uint16(1+g.rng.IntN(10000)))
		}
	}
	span := time.Duration(len(ports)) * 300 * time.Millisecond
	for _, p := range ports {
		c := conn{at: t.Add(time.Duration(g.rng.Float64() * float64(span))), orig: src, resp: n, dport: p, state: "S0"}
		if p == 443 {
			c.state, c.dur, c.ob, c.rb = "", time.Second, 300, 3000
		}
		g.emit(c)
	}
}

// vm is what every VM does: DHCP renewals, time from the hypervisor,
// metrics to the cloud, scrapes and checks from monitoring, nightly
// package updates on Linux.
func (g *gen) vm(d *device, from, to time.Time) {
	n := &d.node
	g.every(n, "dhcp", from, to, 30*time.Minute, 0.01, func(t time.Time) {
		g.emit(conn{at: t, dur: 2 * time.Millisecond, orig: n, resp: g.fleet.gateway, sport: 68, dport: 67, udp: true, ob: 300, rb: 300, app: "dhcp"})
	})
	g.every(n, "ntp", from, to, 1024*time.Second, 0.01, func(t time.Time) {
		g.emit(conn{at: t, dur: time.Millisecond, orig: n, resp: hypervisorTime, dport: 123, udp: true, ob: 48, rb: 48, app: "ntp"})
	})
	// The agent batches metrics every minute; keep-alive reuses the
	// connection until the endpoint's idle timeout closes it.
	g.every(n, "metrics", from, to, time.Minute, 0.02, func(t time.Time) {
		if g.rng.IntN(3) > 0 {
			return
		}
		addr, t := g.resolve(n, metricsName, t, time.Minute)
		g.emit(conn{at: t, dur: g.jit(65*time.Second, 0.1), orig: n, resp: public(addr), dport: 443,
			ob: g.between(3000, 9000), rb: g.between(4000, 6000), app: "tls", l7: tls12(metricsName, g.certs.metrics, nil)})
	})
	scrape, check := uint16(9100), uint16(22)
	if d.role == win {
		scrape, check = 9182, 3389
	}
	g.longFlow(n, "scrape", from, to, 0.01, func(t time.Time) conn {
		return conn{at: t, orig: g.fleet.monitor, resp: n, dport: scrape, app: "http", l7: httpL7("GET", n.ip.String()+":"+fmt.Sprint(scrape), "/metrics", "Prometheus/2.53", 200)}
	}, func() (uint64, uint64) { return g.between(20_000, 25_000), g.between(2_000_000, 3_000_000) })
	g.every(n, "check", from, to, 5*time.Minute, 0, func(t time.Time) {
		g.emit(conn{at: t, dur: 20 * time.Millisecond, orig: g.fleet.monitor, resp: n, dport: check, ob: 0, rb: 40})
	})
	if d.role != win {
		g.every(n, "apt", from, to, 24*time.Hour, 0.05, func(t time.Time) {
			for range 1 + g.rng.IntN(3) {
				addr, at := g.resolve(n, aptName, t, 5*time.Minute)
				g.emit(conn{at: at, dur: 2 * time.Second, orig: n, resp: public(addr), dport: 80, ob: g.between(1500, 4000),
					rb: g.between(100_000, 30_000_000), app: "http", l7: httpL7("GET", aptName, "/debian/dists/bookworm/InRelease", "Debian APT-HTTP/1.3 (2.6.1)", 200)})
				t = t.Add(3 * time.Second)
			}
		})
	}
}

var hypervisorTime = &node{ip: netip.MustParseAddr("169.254.169.123"), segment: "unknown-private"}

// app holds a connection pool to its database (a connection recycled
// now and then), runs a report job every five minutes, and calls a
// payment API as customers buy.
func (g *gen) app(d *device, from, to time.Time) {
	n := &d.node
	dbs := g.fleet.byRole[db]
	target := &dbs[len(g.fleet.byRole[app])%len(dbs)].node
	for i := range 8 {
		g.longFlow(n, fmt.Sprintf("pool%d", i), from, to, 0.1, func(t time.Time) conn {
			return conn{at: t, orig: n, resp: target, dport: 5432, app: "postgresql"}
		}, func() (uint64, uint64) {
			f := dayFactor(from)
			return uint64(f * float64(g.between(1_000_000, 3_000_000))), uint64(f * float64(g.between(5_000_000, 15_000_000)))
		})
	}
	g.every(n, "report", from, to, 5*time.Minute, 0.01, func(t time.Time) {
		g.emit(conn{at: t, dur: g.jit(2*time.Second, 0.5), orig: n, resp: target, dport: 5432, ob: g.between(2000, 5000), rb: g.between(20_000, 400_000), app: "postgresql"})
	})
	g.poisson(from, to, 30, true, func(t time.Time) {
		addr, t := g.resolve(n, paymentName, t, 5*time.Minute)
		g.emit(conn{at: t, dur: g.jit(600*time.Millisecond, 0.5), orig: n, resp: public(addr), dport: 443,
			ob: g.between(1500, 3000), rb: g.between(1000, 2500), app: "tls", l7: tls12(paymentName, g.certs.payments, nil)})
	})
}

// db backs up to object storage every night at about two: a multipart
// upload of a few gigabytes over eight connections to addresses that
// rotate behind the bucket's name.
func (g *gen) db(d *device, from, to time.Time) {
	n := &d.node
	if from.Hour() != 2 {
		return
	}
	at := from.Add(time.Duration(g.rng.IntN(20)) * time.Minute)
	days := uint64(from.Sub(g.cfg.Start) / (24 * time.Hour))
	total := (3_000_000_000 + days*50_000_000) * g.between(90, 110) / 100
	for range 8 {
		addr, t := g.resolve(n, backupName, at, 5*time.Second)
		part := total / 8
		g.emit(conn{at: t, dur: time.Duration(part/20) * time.Microsecond, orig: n, resp: public(addr), dport: 443,
			ob: part, rb: g.between(20_000, 40_000), app: "tls", l7: tlsL7(backupName)})
		at = t.Add(time.Duration(g.rng.IntN(500)) * time.Millisecond)
	}
}

// windows broadcasts NetBIOS, reaches Microsoft's many services (a few
// often, most rarely, so new names keep appearing) and fetches updates
// from a CDN once a day.
func (g *gen) windows(d *device, from, to time.Time) {
	n := &d.node
	g.every(n, "netbios", from, to, 12*time.Minute, 0.3, func(t time.Time) {
		g.emit(conn{at: t, orig: n, resp: nbBcast, sport: 138, dport: 138, udp: true, state: "S0", ob: 200, app: "netbios-dgm"})
		g.emit(conn{at: t.Add(time.Second), orig: n, resp: nbBcast, sport: 137, dport: 137, udp: true, state: "S0", ob: 68, app: "netbios-ns"})
	})
	g.poisson(from, to, 8, true, func(t time.Time) {
		name := winNames[zipf(g, len(winNames))]
		addr, t := g.resolve(n, name, t, 5*time.Minute)
		g.emit(conn{at: t, dur: g.jit(2*time.Second, 0.8), orig: n, resp: public(addr), dport: 443,
			ob: g.between(800, 6000), rb: g.between(2000, 60_000), app: "tls", l7: tlsL7(name)})
	})
	g.every(n, "wu", from, to, 24*time.Hour, 0.2, func(t time.Time) {
		for range 5 + g.rng.IntN(20) {
			addr, at := g.resolve(n, "download.windowsupdate.com", t, 20*time.Second)
			g.emit(conn{at: at, dur: 10 * time.Second, orig: n, resp: public(addr), dport: 80, ob: 900, rb: g.between(1_000_000, 50_000_000),
				app: "http", l7: httpL7("GET", "download.windowsupdate.com", "/c/msdownload/update/software/", "Microsoft-Delivery-Optimization/10.0", 206)})
			t = t.Add(time.Duration(5+g.rng.IntN(30)) * time.Second)
		}
	})
}

// zipf picks an index below n, 0 the most likely.
func zipf(g *gen, n int) int {
	for {
		i := int(g.rng.ExpFloat64() * float64(n) / 6)
		if i < n {
			return i
		}
	}
}

// admins log in to the VMs over SSH through the bastion, and to the
// Windows servers over RDP, during working hours on weekdays.
func (g *gen) admins(from, to time.Time) {
	if from.Weekday() == time.Saturday || from.Weekday() == time.Sunday || from.Hour() < 8 || from.Hour() >= 19 {
		return
	}
	f := g.fleet
	g.poisson(from, to, 1.5, false, func(t time.Time) {
		ws := f.workstations[g.rng.IntN(len(f.workstations))]
		d := f.devices[len(f.devices)-1-g.rng.IntN(g.cfg.VMs)]
		dur := time.Duration(5+g.rng.IntN(55)) * time.Minute
		if d.role == win {
			g.emit(conn{at: t, dur: dur, orig: ws, resp: &d.node, dport: 3389, ob: g.between(1e6, 2e7), rb: g.between(1e7, 2e8), app: "rdp"})
			return
		}
		ssh := &schema.L7{By: "content", Confidence: 1, SSH: &schema.SSH{Client: "SSH-2.0-OpenSSH_9.6", Server: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"}}
		g.emit(conn{at: t, dur: dur + time.Minute, orig: ws, resp: f.bastion, dport: 22, ob: g.between(5e4, 5e5), rb: g.between(1e5, 5e6), app: "ssh", l7: ssh})
		g.emit(conn{at: t.Add(20 * time.Second), dur: dur, orig: f.bastion, resp: &d.node, dport: 22, ob: g.between(5e4, 5e5), rb: g.between(1e5, 5e6), app: "ssh", l7: ssh})
	})
}
