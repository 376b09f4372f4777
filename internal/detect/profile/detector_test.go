package profile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

var (
	_ detect.Detector       = (*Detector)(nil)
	_ detect.MetricDetector = (*Detector)(nil)
	_ detect.Ticker         = (*Detector)(nil)
	_ detect.Evictor        = (*Detector)(nil)
)

// TestAlarmStateMachine feeds one device's datapoints, five minutes
// apart, and checks after which of them the behaviour is in alarm.
func TestAlarmStateMachine(t *testing.T) {
	type point struct {
		v    float64
		list []string
	}
	n := func(v float64) point { return point{v: v} }
	l := func(items ...string) point { return point{list: items} }
	for _, tc := range []struct {
		name     string
		behavior string
		points   []point
		alarms   string // one character per datapoint: A in alarm, . not
	}{
		{"less-than-equals", `{"name":"b","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than-equals","value":{"count":10}}}`,
			[]point{n(10), n(11), n(3)}, ".A."},
		{"less-than at the threshold", `{"name":"b","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than","value":{"count":10}}}`,
			[]point{n(9), n(10)}, ".A"},
		{"greater-than-equals", `{"name":"b","metric":"aws:num-disconnects","criteria":{"comparisonOperator":"greater-than-equals","value":{"count":2}}}`,
			[]point{n(2), n(1)}, ".A"},
		{"greater-than", `{"name":"b","metric":"aws:num-listening-tcp-ports","criteria":{"comparisonOperator":"greater-than","value":{"count":0}}}`,
			[]point{n(1), n(0), n(2)}, ".A."},
		{"two to alarm, two to clear", `{"name":"b","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than","value":{"count":10},"consecutiveDatapointsToAlarm":2,"consecutiveDatapointsToClear":2}}`,
			[]point{n(50), n(1), n(50), n(50), n(1), n(50), n(1), n(1), n(1)}, "...AAAA.."},
		{"in-port-set", `{"name":"b","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[22,443]}}}`,
			[]point{l("22", "443"), l("22", "23"), l(), l("443")}, ".A.."},
		{"not-in-port-set", `{"name":"b","metric":"aws:listening-udp-ports","criteria":{"comparisonOperator":"not-in-port-set","value":{"ports":[69]}}}`,
			[]point{l("53"), l("53", "69")}, ".A"},
		{"in-cidr-set", `{"name":"b","metric":"aws:destination-ip-addresses","criteria":{"comparisonOperator":"in-cidr-set","value":{"cidrs":["10.0.0.0/8"]}}}`,
			[]point{l("10.1.2.3"), l("10.1.2.3", "198.51.100.7"), l("10.9.9.9/32"), l("10.0.0.0/7")}, ".A.A"},
		{"not-in-cidr-set", `{"name":"b","metric":"aws:source-ip-address","criteria":{"comparisonOperator":"not-in-cidr-set","value":{"cidrs":["203.0.113.0/24","2001:db8::/32"]}}}`,
			[]point{l("198.51.100.1"), l("2001:db8::1"), l("192.0.2.1")}, ".A."},
		{"custom number", `{"name":"b","metric":"batteryPercentage","criteria":{"comparisonOperator":"greater-than-equals","value":{"number":20.5}}}`,
			[]point{n(80), n(20.4), n(20.5)}, ".A."},
		{"custom strings", `{"name":"b","metric":"firmware","criteria":{"comparisonOperator":"in-set","value":{"strings":["2.4.1"]}}}`,
			[]point{l("2.4.1"), l("2.3.0")}, ".A"},
		{"custom numbers", `{"name":"b","metric":"channels","criteria":{"comparisonOperator":"not-in-set","value":{"numbers":[13,14]}}}`,
			[]point{l("1", "6", "11"), l("1", "13")}, ".A"},
		{"duration sums the trailing window", `{"name":"b","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"less-than-equals","value":{"count":250},"durationSeconds":900}}`,
			[]point{n(100), n(100), n(100), n(100), n(0), n(0)}, "..AA.."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector(t, DefaultConfig(), profileJSON(tc.behavior))
			name := d.rules[0].metric
			var got strings.Builder
			var wasAlarm bool
			for i, p := range tc.points {
				m := metric("cam-1", name, time.Duration(i)*5*time.Minute, p.v, p.list...)
				if p.list != nil && len(p.list) == 0 {
					m.List = []string{}
				}
				switch rs := feed(d, m); {
				case len(rs) > 0 && !rs[0].Clear:
					got.WriteByte('A')
				case len(rs) > 0 && (!wasAlarm || rs[0].DedupeKey == ""):
					t.Errorf("datapoint %d: a Clear report %+v without an alarm to clear", i, rs[0])
				default:
					got.WriteByte('.')
				}
				wasAlarm = strings.HasSuffix(got.String(), "A")
			}
			if got.String() != tc.alarms {
				t.Errorf("alarms %s, want %s", got.String(), tc.alarms)
			}
		})
	}
}

func TestReport(t *testing.T) {
	d := newDetector(t, DefaultConfig(), profileJSON(
		`{"name":"ports","metric":"aws:listening-tcp-ports","criteria":{"comparisonOperator":"in-port-set","value":{"ports":[443]}}},
		 {"name":"auth","metric":"aws:num-authorization-failures","criteria":{"comparisonOperator":"less-than","value":{"count":5}},"suppressAlerts":true}`))
	m := metric("cam-1", "aws:listening-tcp-ports", 0, 0, "23", "443")
	m.Asset = "i-0abc"
	rs := feed(d, m, metric("cam-1", "aws:num-authorization-failures", time.Minute, 9))
	if len(rs) != 2 {
		t.Fatalf("got %d reports: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Rule != "P/ports" || r.Severity != detect.Medium || r.DedupeKey != "P/ports|thing:cam-1" || r.Tenant != "acme" ||
		!slices.Equal(r.Entities, []string{"thing:cam-1", "asset:i-0abc"}) || r.Values["offending"] != 1 || !r.Time.Equal(t0) ||
		!strings.Contains(r.Summary, "[23]") {
		t.Errorf("report %+v", r)
	}
	r = rs[1]
	if r.Severity != detect.Info || r.Values["suppressed"] != 1 || r.Values["value"] != 9 || r.Values["threshold"] != 5 || r.Technique != "T1110" {
		t.Errorf("suppressed report %+v", r)
	}
}

func TestDimension(t *testing.T) {
	d := newDetector(t, DefaultConfig(), profileJSON(
		`{"name":"b","metric":"aws:num-messages-sent","metricDimension":{"dimensionName":"auth","operator":"NOT_IN"},"criteria":{"comparisonOperator":"less-than","value":{"count":5}}}`))
	if rs := feed(d, metric("t", "aws:num-messages-sent", 0, 9), metric("t", "aws:num-messages-sent[auth]", 0, 9)); len(rs) != 0 {
		t.Errorf("other dimensions fired: %+v", rs)
	}
	if rs := feed(d, metric("t", "aws:num-messages-sent[!auth]", 0, 9)); len(rs) != 1 {
		t.Errorf("got %d reports, want 1", len(rs))
	}
}

func TestTargets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Targets = map[string]Target{"P": {Things: []string{"cam-*", "door-7"}, Assets: []string{"i-0abc"}}}
	d := newDetector(t, cfg, profileJSON(`{"name":"b","metric":"aws:num-listening-tcp-ports","criteria":{"comparisonOperator":"less-than","value":{"count":5}}}`))
	withAsset := metric("gw-1", "aws:num-listening-tcp-ports", 0, 9)
	withAsset.Asset = "i-0abc"
	for _, tc := range []struct {
		m    *schema.DeviceMetric
		want int
	}{
		{metric("cam-1", "aws:num-listening-tcp-ports", 0, 9), 1},
		{metric("door-7", "aws:num-listening-tcp-ports", 0, 9), 1},
		{metric("door-8", "aws:num-listening-tcp-ports", 0, 9), 0},
		{withAsset, 1},
	} {
		if rs := feed(d, tc.m); len(rs) != tc.want {
			t.Errorf("%s: %d reports, want %d", tc.m.Device, len(rs), tc.want)
		}
	}

	cfg.Targets = map[string]Target{"P": {Source: sourceDerived}}
	d = newDetector(t, cfg, profileJSON(`{"name":"b","metric":"aws:num-listening-tcp-ports","criteria":{"comparisonOperator":"less-than","value":{"count":5}}}`))
	if rs := feed(d, metric("cam-1", "aws:num-listening-tcp-ports", 0, 9)); len(rs) != 0 {
		t.Errorf("a derived-only profile took a reported metric")
	}

	cfg.Targets = map[string]Target{"Q": {}}
	if _, err := NewFromProfiles(cfg, nil); err == nil || !strings.Contains(err.Error(), "targets.Q") {
		t.Errorf("unknown profile in targets: %v", err)
	}
}

// TestEngineLifecycle runs the detector in the detection engine: the
// finding is raised once, repeats while the alarm lasts, and clears
// once the behaviour is normal again.
func TestEngineLifecycle(t *testing.T) {
	d := newDetector(t, DefaultConfig(), profileJSON(
		`{"name":"conns","metric":"aws:num-established-tcp-connections","criteria":{"comparisonOperator":"less-than","value":{"count":10},"consecutiveDatapointsToAlarm":2,"consecutiveDatapointsToClear":1}}`))
	e, sink := newEngine(t, d)
	ctx := context.Background()
	for i, v := range []float64{50, 50, 50, 1, 1, 1, 1, 1, 1} {
		m := *metric("cam-1", "aws:num-established-tcp-connections", time.Duration(i)*5*time.Minute, v)
		if err := e.WriteMetrics(ctx, []schema.DeviceMetric{m}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	fs := sink.latest()
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1: %+v", len(fs), sink.writes)
	}
	for _, f := range fs {
		if f.Detector != "profile" || f.Rule != "P/conns" || f.State != detect.StateCleared || f.Severity != "medium" ||
			!slices.Equal(f.Entities, []string{"thing:cam-1"}) || !f.Time.Equal(t0.Add(5*time.Minute)) {
			t.Errorf("finding %+v", f)
		}
	}
}

func TestMemoryCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDevices = 10
	d := newDetector(t, cfg, profileJSON(`{"name":"b","metric":"aws:all-bytes-out","criteria":{"comparisonOperator":"less-than","value":{"count":5},"durationSeconds":300}}`))
	for i := range 100 {
		feed(d, metric("t"+strings.Repeat("x", i), "aws:all-bytes-out", time.Duration(i)*time.Second, 1))
	}
	if len(d.devices) > 10 || d.Evictions() != 90 {
		t.Errorf("%d devices, %d evictions", len(d.devices), d.Evictions())
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"severity", func(c *Config) { c.Severity = "urgent" }, "severity"},
		{"window", func(c *Config) { c.Window = 0 }, "window"},
		{"max devices", func(c *Config) { c.MaxDevices = 0 }, "max_devices"},
		{"sample", func(c *Config) { c.StatsSample = 3 }, "statistics_sample"},
		{"alpha", func(c *Config) { c.MLAlpha = 1 }, "ml_alpha"},
		{"glob", func(c *Config) { c.Targets = map[string]Target{"P": {Things: []string{"cam-["}}} }, "targets.P.things[0]"},
		{"cidr", func(c *Config) { c.Targets = map[string]Target{"P": {CIDRs: []string{"10.0.0.0/99"}}} }, "targets.P.cidrs[0]"},
		{"source", func(c *Config) { c.Targets = map[string]Target{"P": {Source: "agent"}} }, "targets.P.source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.edit(&cfg)
			if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, want an error on %s", err, tc.want)
			}
		})
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func TestNewLoadsFiles(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Files = []string{"testdata/cameras.json", "testdata/list.json"}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.rules) != 9 || len(d.targets) != 3 {
		t.Errorf("%d rules, %d profiles", len(d.rules), len(d.targets))
	}
	cfg.Files = []string{"testdata/missing.json"}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("got %v", err)
	}
}
