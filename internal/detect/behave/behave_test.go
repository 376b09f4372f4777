package behave

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/detect"
)

func TestNew(t *testing.T) {
	ds, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range ds {
		names[d.Name()] = true
	}
	if len(ds) != 11 || len(names) != 11 {
		t.Errorf("%d detectors, %d names; want 11 distinct", len(ds), len(names))
	}
	cfg := DefaultConfig()
	cfg.Beaconing.Enabled, cfg.Intel.Enabled = false, false
	if ds, _ := New(cfg); len(ds) != 9 {
		t.Errorf("%d detectors with two disabled, want 9", len(ds))
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		change     func(*Config)
	}{
		{"scan threshold", "horizontal_scan: threshold", func(c *Config) { c.HorizontalScan.Threshold = 1 }},
		{"beacon samples", "beaconing: max_samples", func(c *Config) { c.Beaconing.MaxSamples = 5 }},
		{"exfil alpha", "exfiltration: alpha", func(c *Config) { c.Exfiltration.Alpha = 2 }},
		{"dns ratio", "dns_tunnel: min_ratio", func(c *Config) { c.DNSTunnel.MinRatio = -1 }},
		{"brute ports", "brute_force: ports", func(c *Config) { c.BruteForce.Ports = nil }},
		{"fan-out caps", "fan_out: max_sources", func(c *Config) { c.FanOut.MaxDestinations = 10 }},
		{"new port", "new_listening_port: learning", func(c *Config) { c.NewPort.Learning = 0 }},
		{"allowlist", "allowlist: max_destinations", func(c *Config) { c.Allowlist.MaxDevices = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			_, err := New(c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
	t.Run("disabled detectors are not checked", func(t *testing.T) {
		c := DefaultConfig()
		c.Beaconing = BeaconConfig{}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestConfigYAML(t *testing.T) {
	c := DefaultConfig()
	src := "horizontal_scan: {threshold: 100, window: 2m}\nexfiltration: {min_bytes: 1000000}\nthreat_intel: {enabled: false}\n"
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.HorizontalScan.Threshold != 100 || c.HorizontalScan.Window.Minutes() != 2 || c.HorizontalScan.MaxKeys != 100000 ||
		c.Exfiltration.MinBytes != 1000000 || c.Intel.Enabled {
		t.Errorf("decoded %+v", c)
	}
}

// Every detector with state reports its evictions, so that a cap being
// hit is visible as a metric.
func TestEvictors(t *testing.T) {
	ds, _ := New(DefaultConfig())
	for _, d := range ds {
		_, evicts := d.(detect.Evictor)
		_, ticks := d.(detect.Ticker)
		stateless := d.Name() == "threat-intel" || d.Name() == "cleartext-credentials"
		if evicts == stateless || ticks && !evicts {
			t.Errorf("%s: evictor %v ticker %v", d.Name(), evicts, ticks)
		}
	}
}

// Reading the same sessions twice gives the same reports: nothing
// depends on the wall clock or on map order below the caps.
func TestDeterministic(t *testing.T) {
	ss := mix(20000)
	pass := func() []detect.Report {
		ds, _ := New(DefaultConfig())
		var out []detect.Report
		for i := range ss {
			for _, d := range ds {
				d.Session(&ss[i], func(r detect.Report) { out = append(out, r) })
			}
		}
		return out
	}
	first := pass()
	if len(first) == 0 {
		t.Fatal("the mix raised nothing")
	}
	if diff := cmp.Diff(first, pass()); diff != "" {
		t.Errorf("second pass differs (-first +second):\n%s", diff)
	}
}
