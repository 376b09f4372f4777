package scenario

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/osprey-ndr/osprey/internal/collect/defender"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// Incidents of the Device Defender profiles (ProfilesJSON). The
// listening port shows in sessions and is derived from them; the others
// show in the metrics the device's agent and AWS IoT report.

func thingEntities(d *device) []string { return []string{"thing:" + d.name, "asset:" + d.asset} }

// planProfilePort: a camera starts serving telnet (a dropper opened a
// shell), used by an admin's workstation or, strong, by an infected
// peer several times.
func planProfilePort(p *planner, d *device, at time.Time, strong bool) incident {
	n, dur := 1, time.Duration(0)
	client := p.f.workstations[p.rng.IntN(len(p.f.workstations))]
	if strong {
		n, dur = p.intn(3, 6), p.seconds(600, 1800)
		client = &p.f.devices[(idx(p.f, &d.node)+1)%p.f.iot()].node
	}
	return incident{
		label: label("profile_listening_port", at, dur, fmt.Sprintf("%s answered telnet to %s (%d sessions)", d.name, client.ip, n),
			[]string{"asset:" + d.asset, "ip:" + d.ip.String()}),
		emit: func(g *gen, d *device) {
			c := same(g, client)
			for i := range n {
				g.emit(conn{at: at.Add(dur * time.Duration(i) / time.Duration(n)), dur: g.jit(time.Minute, 0.5), orig: c, resp: &d.node,
					dport: 23, ob: g.between(100, 2000), rb: g.between(500, 20_000), app: "telnet", l7: &schema.L7{By: "content", Confidence: 1}})
			}
		},
	}
}

// metricIncident alters one metric of the device's reports.
func metricIncident(kind string, d *device, at time.Time, dur time.Duration, note, metric string, set func(v float64, rng *rand.Rand) float64) incident {
	return incident{
		label: label(kind, at, dur, note, thingEntities(d)),
		adjust: func(m *schema.DeviceMetric, rng *rand.Rand) {
			if m.Name == metric {
				m.Value = set(m.Value, rng)
			}
		},
	}
}

// planProfileBytes: a camera's reported bytes out jump over the bound
// (150 MB in five minutes): 3.5–5 times its stream, or 1–3 GB.
func planProfileBytes(p *planner, d *device, at time.Time, strong bool) incident {
	dur, lo, hi := p.seconds(900, 1800), 3.5, 5.0
	set := func(v float64, rng *rand.Rand) float64 { return v * (lo + (hi-lo)*rng.Float64()) }
	if strong {
		set = func(_ float64, rng *rand.Rand) float64 { return 1e9 + 2e9*rng.Float64() }
	}
	return metricIncident("profile_threshold", d, at, dur, fmt.Sprintf("%s reported bytes out far over its bound for %v", d.name, dur),
		defender.MetricBytesOut, set)
}

// planProfileConns: a device holds many connections open (a proxy for
// someone else's traffic): 6–10, or 30–60, where the fleet's p90 is 3.
func planProfileConns(p *planner, d *device, at time.Time, strong bool) incident {
	dur, lo, hi := p.seconds(1800, 3600), 6, 11
	if strong {
		lo, hi = 30, 61
	}
	return metricIncident("profile_statistical", d, at, dur, fmt.Sprintf("%s held %d–%d connections for %v", d.name, lo, hi-1, dur),
		defender.MetricNumEstablishedTCP, func(_ float64, rng *rand.Rand) float64 { return float64(lo + rng.IntN(hi-lo)) })
}

// planProfileML: a device publishes far more messages than it learnt
// to (a hijacked client flooding a topic): 12–16 times, or 30–60.
func planProfileML(p *planner, d *device, at time.Time, strong bool) incident {
	dur, lo, hi := p.seconds(1800, 2700), 12.0, 16.0
	if strong {
		lo, hi = 30, 60
	}
	return metricIncident("profile_ml", d, at, dur, fmt.Sprintf("%s sent %.0f–%.0f times its messages for %v", d.name, lo, hi, dur),
		defender.MetricMessagesSent, func(v float64, rng *rand.Rand) float64 { return float64(int(max(v, 1) * (lo + (hi-lo)*rng.Float64()))) })
}
