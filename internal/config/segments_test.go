package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/segment"
)

func TestSegmentation(t *testing.T) {
	got, err := Load(write(t, `
segmentation:
  warn_utilisation: 0.7
  links:
    - {name: dc-uplink, src: dc, dst: internet, bandwidth: 1Gbps}
    - name: plant
      src: [plant-a, plant-b]
      dst: [dc]
      bandwidth: 2.5Mbps
    - {name: raw, src: x, dst: y, bandwidth: 9600}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := segment.Config{WarnUtilisation: 0.7, MinSessions: 3, Links: []segment.Link{
		{Name: "dc-uplink", Src: []string{"dc"}, Dst: []string{"internet"}, BandwidthBps: 1e9},
		{Name: "plant", Src: []string{"plant-a", "plant-b"}, Dst: []string{"dc"}, BandwidthBps: 2.5e6},
		{Name: "raw", Src: []string{"x"}, Dst: []string{"y"}, BandwidthBps: 9600},
	}}
	if diff := cmp.Diff(want, got.Segmentation.Config()); diff != "" {
		t.Errorf("segmentation (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ name, body, want string }{
		{"unknown link key", "segmentation:\n  links:\n    - {name: a, src: x, dst: y, bandwith: 1Gbps}\n", "line 3: segmentation.links[0].bandwith: unknown key (known: bandwidth, dst, name, src)"},
		{"bad bandwidth", "segmentation:\n  links:\n    - {name: a, src: x, dst: y, bandwidth: fast}\n", "segmentation.links[0].bandwidth: invalid bandwidth"},
		{"no bandwidth", "segmentation:\n  links:\n    - {name: a, src: x, dst: y}\n", "segmentation.links[0].bandwidth: must be a positive bit rate"},
		{"no dst", "segmentation:\n  links:\n    - {name: a, src: x, bandwidth: 1Gbps}\n", "segmentation.links[0].dst: must name"},
		{"threshold", "segmentation: {warn_utilisation: 60}\n", "segmentation.warn_utilisation: must be within (0, 1]"},
		{"min sessions", "segmentation: {min_sessions: 0}\n", "segmentation.min_sessions: must be at least 1"},
		{"links not a list", "segmentation: {links: dc}\n", "segmentation.links: expected a list of links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseBandwidth(t *testing.T) {
	for in, want := range map[string]Bandwidth{"1Gbps": 1e9, "2.5 Gbps": 2.5e9, "500Mbps": 5e8, "10kbps": 1e4, "64Kbps": 64e3, "1Tbps": 1e12, "9600": 9600, "100bps": 100} {
		if got, err := ParseBandwidth(in); err != nil || got != want {
			t.Errorf("ParseBandwidth(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1Gbps", "1GB", "fast"} {
		if _, err := ParseBandwidth(bad); err == nil {
			t.Errorf("ParseBandwidth(%q) accepted", bad)
		}
	}
}
