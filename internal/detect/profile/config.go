package profile

import (
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// Config configures the profile detector; docs/profiles.md lists the
// keys with their defaults.
type Config struct {
	// Files are the profile JSON files (Load).
	Files []string `yaml:"files"`
	// Targets says which devices each profile applies to, by profile
	// name: AWS attaches a profile to thing groups with a separate call,
	// so the profile JSON stays AWS's own. A profile without an entry
	// applies to every device.
	Targets map[string]Target `yaml:"targets"`
	// Severity of the findings of behaviours that alert; behaviours with
	// suppressAlerts raise info findings.
	Severity detect.Severity `yaml:"severity"`

	// DeriveSessions turns sessions into the same metrics per device
	// and Window (AWS's reporting period), for devices without an agent.
	DeriveSessions bool          `yaml:"derive_sessions"`
	Window         time.Duration `yaml:"window"`
	// MaxDevices bounds the devices with state (alarms, baselines,
	// windows); MaxList the addresses and ports kept per device and
	// window; MaxLive the open metered flows whose cumulative interim
	// counters are turned into deltas.
	MaxDevices int `yaml:"max_devices"`
	MaxList    int `yaml:"max_list"`
	MaxLive    int `yaml:"max_live"`

	// Statistical thresholds: the percentile is taken over the datapoints
	// of the profile's devices in the trailing StatsWindow, from a sample
	// of at most StatsSample values, once StatsMinDevices devices and
	// StatsMinDatapoints datapoints are in it.
	StatsWindow        time.Duration `yaml:"statistics_window"`
	StatsSample        int           `yaml:"statistics_sample"`
	StatsMinDevices    int           `yaml:"statistics_min_devices"`
	StatsMinDatapoints int           `yaml:"statistics_min_datapoints"`

	// ML detection: a device's baseline of a metric is trained for
	// MLTraining and at least MLMinDatapoints datapoints, then follows
	// the metric with weight MLAlpha (0.003: about a day of 5-minute
	// datapoints); deviations are measured in
	// spreads no smaller than MLMinSpread (natural log units).
	MLTraining      time.Duration `yaml:"ml_training"`
	MLMinDatapoints int           `yaml:"ml_min_datapoints"`
	MLAlpha         float64       `yaml:"ml_alpha"`
	MLMinSpread     float64       `yaml:"ml_min_spread"`
}

// Target selects devices: a device is targeted when any listed item
// matches it. Things are thing names or path.Match patterns ("cam-*");
// assets, tags and segments come from enrichment; CIDRs match a
// session-derived device's address. Source limits the profile to
// "reported" metrics or "derived" ones; empty takes both.
type Target struct {
	Things   []string `yaml:"things"`
	Assets   []string `yaml:"assets"`
	Tags     []string `yaml:"tags"`
	Segments []string `yaml:"segments"`
	CIDRs    []string `yaml:"cidrs"`
	Source   string   `yaml:"source"`
}

// DefaultConfig derives metrics from sessions every 5 minutes and
// follows AWS's 14-day ML training.
func DefaultConfig() Config {
	return Config{
		Severity:           detect.Medium,
		DeriveSessions:     true,
		Window:             5 * time.Minute,
		MaxDevices:         100_000,
		MaxList:            256,
		MaxLive:            200_000,
		StatsWindow:        time.Hour,
		StatsSample:        4096,
		StatsMinDevices:    5,
		StatsMinDatapoints: 20,
		MLTraining:         14 * 24 * time.Hour,
		MLMinDatapoints:    100,
		MLAlpha:            0.003,
		MLMinSpread:        0.25,
	}
}

// Validate names the key at fault.
func (c Config) Validate() error {
	switch c.Severity {
	case detect.Info, detect.Low, detect.Medium, detect.High, detect.Critical:
	default:
		return fmt.Errorf("severity: %q is not info, low, medium, high or critical", c.Severity)
	}
	switch {
	case c.Window < time.Second:
		return fmt.Errorf("window: %v, want at least 1s", c.Window)
	case c.MaxDevices < 1:
		return fmt.Errorf("max_devices: %d, want at least 1", c.MaxDevices)
	case c.MaxList < 1:
		return fmt.Errorf("max_list: %d, want at least 1", c.MaxList)
	case c.MaxLive < 1:
		return fmt.Errorf("max_live: %d, want at least 1", c.MaxLive)
	case c.StatsWindow <= 0:
		return fmt.Errorf("statistics_window: %v, want a positive duration", c.StatsWindow)
	case c.StatsSample < statsBuckets:
		return fmt.Errorf("statistics_sample: %d, want at least %d", c.StatsSample, statsBuckets)
	case c.StatsMinDevices < 1 || c.StatsMinDatapoints < 1:
		return fmt.Errorf("statistics_min_devices, statistics_min_datapoints: want at least 1 each")
	case c.MLTraining < 0:
		return fmt.Errorf("ml_training: %v is negative", c.MLTraining)
	case c.MLMinDatapoints < 2:
		return fmt.Errorf("ml_min_datapoints: %d, want at least 2", c.MLMinDatapoints)
	case !(c.MLAlpha > 0 && c.MLAlpha < 1):
		return fmt.Errorf("ml_alpha: %v, want between 0 and 1", c.MLAlpha)
	case !(c.MLMinSpread > 0):
		return fmt.Errorf("ml_min_spread: %v, want a positive number", c.MLMinSpread)
	}
	names := make([]string, 0, len(c.Targets))
	for n := range c.Targets {
		names = append(names, n)
	}
	sort.Strings(names) // the same error on every run
	for _, n := range names {
		if err := c.Targets[n].validate(); err != nil {
			return fmt.Errorf("targets.%s.%w", n, err)
		}
	}
	return nil
}

func (t Target) validate() error {
	for i, p := range t.Things {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("things[%d]: %q: %w", i, p, err)
		}
	}
	for i, s := range t.CIDRs {
		if _, err := parsePrefix(s); err != nil {
			return fmt.Errorf("cidrs[%d]: %w", i, err)
		}
	}
	if t.Source != "" && t.Source != sourceReported && t.Source != sourceDerived {
		return fmt.Errorf("source: %q is not %s or %s", t.Source, sourceReported, sourceDerived)
	}
	return nil
}

const (
	sourceReported = "reported"
	sourceDerived  = "derived"
)
