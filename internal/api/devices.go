package api

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
	"github.com/osprey-ndr/osprey/internal/store/filter"
)

func (s *Server) devices(c *call) (any, error) {
	n, err := c.q.limit(100, 1000)
	if err != nil {
		return nil, err
	}
	off, err := c.q.offset()
	if err != nil {
		return nil, err
	}
	// The store lists devices without a cursor; an offset is enough for
	// an inventory of at most devices.max_devices entries.
	devs, err := s.d.Store.Devices(c.ctx, store.DeviceQuery{Tenant: c.tenant(), Category: c.q.str("category"), Limit: off + n + 1})
	if err != nil {
		return nil, err
	}
	devs = devs[min(off, len(devs)):]
	next := ""
	if len(devs) > n {
		devs, next = devs[:n], offsetCursor(off+n)
	}
	return list(devs, next), nil
}

// lookupDevice is a device of the caller's tenant, or not found: another
// tenant's id is as unknown as one that never existed.
func (s *Server) lookupDevice(c *call) (schema.Device, error) {
	id := c.r.PathValue("id")
	devs, err := s.d.Store.Devices(c.ctx, store.DeviceQuery{Tenant: c.tenant(), ID: id, Limit: 1})
	if err != nil {
		return schema.Device{}, err
	}
	if len(devs) == 0 {
		return schema.Device{}, notFound("no device %q", id)
	}
	return devs[0], nil
}

func (s *Server) device(c *call) (any, error) { return s.lookupDevice(c) }

// deviceMetrics are the Device Defender counts a timeline shows by
// default.
var deviceMetrics = []string{
	"aws:num-listening-tcp-ports", "aws:num-listening-udp-ports", "aws:num-established-tcp-connections",
	"aws:all-bytes-in", "aws:all-bytes-out", "aws:all-packets-in", "aws:all-packets-out",
	"aws:num-authorization-failures",
}

// Timeline is a device over time.
type Timeline struct {
	Device schema.Device `json:"device"`
	Step   string        `json:"step"`
	Since  time.Time     `json:"since"`
	Until  time.Time     `json:"until,omitzero"`
	// Metrics are its device metrics per step (max), by name.
	Metrics map[string][]TimePoint `json:"metrics"`
	// Peers are the ends it talked with most, by bytes.
	Peers []store.TopRow `json:"peers"`
	// Ports are the ports it answered on (sessions where it was the
	// responder and sent packets back), per step.
	Ports []PortPoint `json:"ports"`
	// Listening is the number of TCP ports it reported listening on
	// (aws:listening-tcp-ports), per step.
	Listening []TimePoint `json:"listening_tcp_ports"`
}

// TimePoint is one value at one time.
type TimePoint struct {
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
}

// PortPoint is how many sessions a port answered in one step.
type PortPoint struct {
	Time     time.Time `json:"time"`
	Port     int       `json:"port"`
	Sessions float64   `json:"sessions"`
}

// deviceFilter selects the sessions of a device at one end (src or dst),
// or at either when end is "": by its asset id, else its addresses.
func deviceFilter(d schema.Device, end string) (filter.Expr, bool) {
	var parts []string
	ends := []string{"src", "dst"}
	if end != "" {
		ends = []string{end}
	}
	if asset, ok := strings.CutPrefix(d.ID, "asset:"); ok {
		for _, e := range ends {
			parts = append(parts, e+".asset = "+strconv.Quote(asset))
		}
	} else {
		var ips []string
		for _, ip := range d.IPs {
			if a, err := netip.ParseAddr(ip); err == nil {
				ips = append(ips, a.String())
			}
		}
		if ip, ok := strings.CutPrefix(d.ID, "ip:"); ok && !slices.Contains(ips, ip) {
			if a, err := netip.ParseAddr(ip); err == nil {
				ips = append(ips, a.String())
			}
		}
		if len(ips) == 0 {
			return nil, false
		}
		for _, e := range ends {
			parts = append(parts, e+".ip in ("+strings.Join(ips, ", ")+")")
		}
	}
	src := strings.Join(parts, " or ")
	if end == "dst" {
		src = "(" + src + ") and dst.packets > 0"
	}
	e, err := filter.Parse(src)
	if err != nil {
		return nil, false
	}
	return e, true
}

// metricKey is what the device's metrics are filed under by default.
func metricKey(d schema.Device) string {
	for _, p := range []string{"asset:", "ip:", "mac:"} {
		if k, ok := strings.CutPrefix(d.ID, p); ok {
			return k
		}
	}
	return d.ID
}

func (s *Server) timeline(c *call) (any, error) {
	sc, err := c.q.scopeOf(c.tenant(), defaultSince)
	if err != nil {
		return nil, err
	}
	sc = minutes(sc)
	step, err := c.q.step(sc)
	if err != nil {
		return nil, err
	}
	names := deviceMetrics
	if m := c.q.str("metric"); m != "" {
		names = strings.Split(m, ",")
		if len(names) > 20 {
			return nil, badParam("metric", "at most 20 metrics")
		}
	}
	peers := 10
	if p := c.q.str("peers"); p != "" {
		if peers, err = strconv.Atoi(p); err != nil || peers < 1 || peers > 100 {
			return nil, badParam("peers", "%q is not a whole number within 1..100", p)
		}
	}
	d, err := s.lookupDevice(c)
	if err != nil {
		return nil, err
	}
	key := c.q.str("metric_device")
	if key == "" {
		key = metricKey(d)
	}
	t := Timeline{Device: d, Step: step.String(), Since: sc.Since, Until: sc.Until, Metrics: map[string][]TimePoint{},
		Peers: []store.TopRow{}, Ports: []PortPoint{}, Listening: []TimePoint{}}
	res := make([][]store.Point, len(names))
	g, ctx := errgroup.WithContext(c.ctx)
	g.SetLimit(4)
	for i, name := range names {
		g.Go(func() error {
			pts, err := s.d.Store.Series(ctx, store.SeriesQuery{Scope: sc, Step: step, Metric: name, Device: key, Agg: "max"})
			res[i] = pts
			return err
		})
	}
	var listening []store.Point
	g.Go(func() error {
		var err error
		listening, err = s.d.Store.Series(ctx, store.SeriesQuery{Scope: sc, Step: step, Metric: "aws:listening-tcp-ports", Device: key, Agg: "max"})
		return err
	})
	either, okEither := deviceFilter(d, "")
	answered, okAnswered := deviceFilter(d, "dst")
	var peerRows []store.TopRow
	var ports []store.Point
	if okEither && okAnswered {
		g.Go(func() error {
			rows, err := s.d.Store.Top(ctx, store.TopQuery{Scope: sc, Filter: either, Dimension: "device", By: store.Bytes, Limit: peers + 1})
			peerRows = rows
			return err
		})
		g.Go(func() error {
			var err error
			ports, err = s.d.Store.Series(ctx, store.SeriesQuery{Scope: sc, Step: step, Filter: answered, Dimension: "dst.port", By: store.Sessions, Limit: 100})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i, name := range names {
		if len(res[i]) > 0 {
			t.Metrics[name] = timePoints(res[i])
		}
	}
	t.Listening = timePoints(listening)
	// The device itself ranks first among the ends of its own sessions.
	self := map[string]bool{metricKey(d): true}
	for _, ip := range d.IPs {
		self[ip] = true
	}
	for _, r := range peerRows {
		if !self[r.Key] && len(t.Peers) < peers {
			t.Peers = append(t.Peers, r)
		}
	}
	for _, p := range ports {
		port, err := strconv.Atoi(p.Key)
		if err != nil {
			return nil, fmt.Errorf("timeline: port %q: %w", p.Key, err)
		}
		t.Ports = append(t.Ports, PortPoint{Time: p.Time, Port: port, Sessions: p.Value})
	}
	return t, nil
}

func timePoints(pts []store.Point) []TimePoint {
	out := make([]TimePoint, len(pts))
	for i, p := range pts {
		out[i] = TimePoint{Time: p.Time, Value: p.Value}
	}
	return out
}
