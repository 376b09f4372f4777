package defender

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
)

func TestAppendMetrics(t *testing.T) {
	r, err := testParser(t).Parse(readTestdata(t, "report-long.json"), FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2023, 11, 14, 22, 18, 20, 0, time.UTC)
	m := func(name string, v float64, list ...string) schema.DeviceMetric {
		return schema.DeviceMetric{Tenant: "acme", Device: "cam-1", Time: at, Name: name, Value: v, List: list}
	}
	want := []schema.DeviceMetric{
		m("aws:listening-tcp-ports", 2, "22", "443"), // port 22 on two interfaces is one port
		m("aws:num-listening-tcp-ports", 3),          // the device's own total
		m("aws:listening-udp-ports", 1, "5353"),
		m("aws:num-listening-udp-ports", 1),
		m("aws:all-bytes-in", 10240),
		m("aws:all-bytes-out", 2048),
		m("aws:all-packets-in", 80),
		m("aws:all-packets-out", 31),
		m("aws:num-established-tcp-connections", 3),
		m("aws:destination-ip-addresses", 2, "2001:db8::7", "203.0.113.9"),
		m("battery_level", 87.5),
		m("cpu_load", 2, "0.25", "0.5"),
		m("dns_servers", 2, "192.0.2.53", "198.51.100.0/24"),
		m("firmware", 1, "v2.1.0"),
	}
	if diff := cmp.Diff(want, r.AppendMetrics(nil, "acme", "cam-1", at)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Without a total, the count is the number of distinct entries; absent
// network counters give no metric.
func TestAppendMetricsCounts(t *testing.T) {
	r, err := testParser(t).Parse([]byte(`{"hed":{"rid":9,"v":"1.0"},"met":{"tp":{"pts":[{"pt":80},{"pt":80}]},"ns":{"bo":7},"tc":{"ec":{"cs":[{"rad":"192.0.2.1:1"},{"rad":"192.0.2.1:2"}]}}}}`), FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, m := range r.AppendMetrics(nil, "", "t", time.Unix(0, 0)) {
		got[m.Name] = m.Value
	}
	want := map[string]float64{"aws:listening-tcp-ports": 1, "aws:num-listening-tcp-ports": 1, "aws:all-bytes-out": 7,
		"aws:num-established-tcp-connections": 2, "aws:destination-ip-addresses": 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
