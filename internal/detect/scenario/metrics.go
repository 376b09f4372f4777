package scenario

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/osprey-ndr/osprey/internal/collect/defender"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// reportEvery is the Device Defender agent's reporting period, and
// AWS's for its cloud-side metrics.
const reportEvery = 5 * time.Minute

// metricGen writes the metrics agent devices report: sensors and
// cameras run the Device Defender agent, and AWS IoT adds its
// cloud-side metrics (messages, authorisation failures, disconnects) for
// them. Values follow what the devices do on the wire (a sensor's wake
// period, a camera's stream and clips, more by day), with their own
// random source so that sessions do not depend on them.
type metricGen struct {
	g         *gen // the benign sessions' generator: its devices' habits
	rng       *rand.Rand
	incidents []incident
	out       []schema.DeviceMetric
}

// window writes each agent's datapoints for the five minutes ending at t.
func (mg *metricGen) window(t time.Time) {
	for i, d := range mg.g.fleet.devices {
		switch d.role {
		case sensor:
			mg.sensor(i, d, t)
		case camera:
			mg.camera(i, d, t)
		}
	}
}

// sensor: it wakes every period (drawn by the sessions' generator),
// publishes a reading and now and then a status, and disconnects.
func (mg *metricGen) sensor(i int, d *device, t time.Time) {
	r := mg.rng
	period := mg.g.param(&d.node, "period", 60, 300)
	wakes := int(reportEvery.Seconds()/period + r.Float64()) // rounded at random: the period drifts
	msgs := 0
	for range wakes {
		msgs += 1 + b2i(r.Float64() < 0.3)
	}
	out := float64(wakes) * float64(2000+r.IntN(800))
	mg.emit(i, d, t, defender.MetricBytesOut, out, nil)
	mg.emit(i, d, t, defender.MetricBytesIn, float64(wakes)*float64(3800+r.IntN(900)), nil)
	mg.emit(i, d, t, defender.MetricNumEstablishedTCP, float64(b2i(r.Float64() < 0.8/period)), nil)
	mg.emit(i, d, t, defender.MetricListeningTCPPorts, 0, []string{})
	mg.emit(i, d, t, defender.MetricNumListeningTCP, 0, nil)
	mg.emit(i, d, t, defender.MetricMessagesSent, float64(msgs), nil)
	mg.emit(i, d, t, defender.MetricDisconnects, float64(wakes), nil)
	mg.emit(i, d, t, defender.MetricAuthFailures, float64(b2i(r.Float64() < 0.002)), nil)
}

// camera: the RTSP stream to the NVR (600–750 MB an hour), MQTT
// telemetry every 30 s and motion events, clips of 2–22 MB on motion
// (more by day), the NVR's ONVIF polls (each open a minute of every
// two); it serves ONVIF and its web UI on 80 and 443, RTSP on 554.
func (mg *metricGen) camera(i int, d *device, t time.Time) {
	r := mg.rng
	day := dayFactor(t)
	clips := poisson(r, 4*day/12)
	out := 50e6 + 12.5e6*r.Float64() + float64(10_000+r.IntN(10_000))
	for range clips {
		out += 2e6 * (1 + 10*r.Float64()*r.Float64())
	}
	out *= 1.03 // TCP/IP headers
	established := 2 + b2i(r.Float64() < 0.5) + b2i(r.Float64() < float64(clips)*5/300) + b2i(r.Float64() < 0.002)
	mg.emit(i, d, t, defender.MetricBytesOut, math.Round(out), nil)
	mg.emit(i, d, t, defender.MetricBytesIn, float64(12_000+r.IntN(8_000)+clips*6_000), nil)
	mg.emit(i, d, t, defender.MetricNumEstablishedTCP, float64(established), nil)
	mg.emit(i, d, t, defender.MetricListeningTCPPorts, 3, []string{"80", "443", "554"})
	mg.emit(i, d, t, defender.MetricNumListeningTCP, 3, nil)
	mg.emit(i, d, t, defender.MetricMessagesSent, float64(10+poisson(r, 1.5*day)), nil)
	mg.emit(i, d, t, defender.MetricDisconnects, float64(b2i(r.Float64() < 0.002)), nil)
	mg.emit(i, d, t, defender.MetricAuthFailures, float64(b2i(r.Float64() < 0.001)), nil)
}

// emit writes one datapoint, as an incident on the device alters it.
func (mg *metricGen) emit(i int, d *device, t time.Time, name string, v float64, list []string) {
	m := schema.DeviceMetric{Tenant: mg.g.cfg.Tenant, Device: d.name, Asset: d.asset, Time: t, Name: name, Value: v, List: list}
	for _, in := range mg.incidents {
		if in.adjust != nil && in.dev == i && t.After(in.label.Start) && !t.After(in.label.End) {
			in.adjust(&m, mg.rng)
		}
	}
	mg.out = append(mg.out, m)
}

// poisson draws a Poisson count of mean lambda (Knuth; small means).
func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
