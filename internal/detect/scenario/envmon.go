package scenario

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// envmon is an environment monitor on Wi-Fi: it keeps an MQTT session
// in the clear (1883) to SCADA's broker under its own client id, drops
// and reconnects now and then, and once in the scenario loses power,
// its lease lapses and it comes back at another address. The broker
// still holds the old connection then and closes it when the new
// CONNECT takes the client id over, so the old record ends a few
// milliseconds after the new one starts: the same device, not two.
func (g *gen) envmon(n *node, i int, from, to time.Time) {
	id := "envmon-" + strings.ReplaceAll(n.mac[9:], ":", "")
	open := func(t time.Time) conn {
		return conn{at: t, orig: n, resp: g.fleet.scada, dport: 1883, app: "mqtt", l7: &schema.L7{By: "content", Confidence: 1,
			MQTT: &schema.MQTT{ClientID: id, ProtocolLevel: 4, Username: "envmon"}}}
	}
	bytes := func() (uint64, uint64) { return g.between(8_000, 12_000), g.between(1_000, 2_000) }
	move := g.cfg.Start.Add(time.Duration(14+24*i)*time.Hour + time.Duration(7+13*i)*time.Minute)
	if move.Before(from) || !move.Before(to) {
		g.longFlow(n, "mqtt", from, to, 0.1, open, bytes)
		return
	}
	g.longFlow(n, "mqtt", from, move, 0, open, bytes)
	back := move.Add(g.jit(4*time.Minute, 0.5))
	st := g.st(n)
	if f := st.flows["mqtt"]; f != nil && f.open { // written at the old address
		g.write(f, back.Add(g.jit(20*time.Millisecond, 0.5)), 100, 60, true)
	}
	n.ip = netip.AddrFrom4([4]byte{10, 10, 1, byte(100 + g.rng.IntN(100))})
	g.emit(conn{at: back.Add(-2 * time.Second), dur: 5 * time.Millisecond, orig: n, resp: g.fleet.gateway, sport: 68, dport: 67, udp: true,
		ob: 600, rb: 600, app: "dhcp", l7: &schema.L7{By: "content", Confidence: 1,
			DHCP: &schema.DHCP{MsgTypes: []string{"DISCOVER", "OFFER", "REQUEST", "ACK"}, ClientMAC: n.mac, Hostname: fmt.Sprintf("envmon-%d", i+1), LeaseSecs: 3600}}})
	st.flows["mqtt"] = g.openFlow(open(back))
	g.longFlow(n, "mqtt", back, to, 0.1, open, bytes)
}
