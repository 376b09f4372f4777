package detect

import (
	"fmt"
	"sort"
	"time"
)

// Config configures the engine. Every duration is measured in session
// time (the sessions' and metrics' own timestamps), so that reading an
// old capture behaves as the live sensor did when it saw the traffic.
type Config struct {
	// TickEvery is how often Ticker detectors are called and findings
	// are checked for clearing and due updates.
	TickEvery time.Duration `yaml:"tick_every"`
	// UpdateEvery bounds how often a repeating finding is written again:
	// repeats only change its count, last_seen and evidence, and writing
	// each one would turn a scan into a million store rows.
	UpdateEvery time.Duration `yaml:"update_every"`
	// ClearAfter is how long a finding stays active without a report;
	// ClearAfterByDetector overrides it for the detectors it names
	// (a slow beaconing detector reports less often than a scan one).
	ClearAfter           time.Duration            `yaml:"clear_after"`
	ClearAfterByDetector map[string]time.Duration `yaml:"clear_after_by_detector"`
	// MaxActive bounds the open findings held in memory; beyond it the
	// least recently reported is cleared early, marked evicted in its
	// evidence (osprey_detect_evicted_total).
	MaxActive int `yaml:"max_active"`
	// MaxSessions bounds the session ids kept in a finding's evidence:
	// the first half and the last half of them.
	MaxSessions int `yaml:"max_sessions"`
	// SuppressFor is how long the suppression made from a false- or
	// benign-positive verdict lasts; 0 means until it is removed.
	SuppressFor time.Duration `yaml:"suppress_for"`
	// SuppressionFile keeps suppressions across restarts (YAML); empty
	// keeps them in memory only.
	SuppressionFile string `yaml:"suppression_file"`
}

// DefaultConfig ticks every 10 s, rewrites a repeating finding at most
// once a minute and clears it after an hour of quiet.
func DefaultConfig() Config {
	return Config{
		TickEvery:   10 * time.Second,
		UpdateEvery: time.Minute,
		ClearAfter:  time.Hour,
		MaxActive:   100_000,
		MaxSessions: 40,
	}
}

// Validate names the field at fault.
func (c Config) Validate() error {
	switch {
	case c.TickEvery <= 0:
		return fmt.Errorf("tick_every: %v, want a positive duration", c.TickEvery)
	case c.UpdateEvery < 0:
		return fmt.Errorf("update_every: %v is negative", c.UpdateEvery)
	case c.ClearAfter <= 0:
		return fmt.Errorf("clear_after: %v, want a positive duration", c.ClearAfter)
	case c.MaxActive < 1:
		return fmt.Errorf("max_active: %d, want at least 1", c.MaxActive)
	case c.MaxSessions < 2:
		return fmt.Errorf("max_sessions: %d, want at least 2", c.MaxSessions)
	case c.SuppressFor < 0:
		return fmt.Errorf("suppress_for: %v is negative", c.SuppressFor)
	}
	names := make([]string, 0, len(c.ClearAfterByDetector))
	for name := range c.ClearAfterByDetector {
		names = append(names, name)
	}
	sort.Strings(names) // the same error on every run
	for _, name := range names {
		if d := c.ClearAfterByDetector[name]; d <= 0 {
			return fmt.Errorf("clear_after_by_detector.%s: %v, want a positive duration", name, d)
		}
	}
	return nil
}

// clearAfter is the quiet time after which a detector's findings clear.
func (c Config) clearAfter(detector string) time.Duration {
	if d, ok := c.ClearAfterByDetector[detector]; ok {
		return d
	}
	return c.ClearAfter
}

// minClearAfter is the shortest quiet time of any detector: the clearing
// walk stops at the first finding touched more recently than that.
func (c Config) minClearAfter() time.Duration {
	m := c.ClearAfter
	for _, d := range c.ClearAfterByDetector {
		m = min(m, d)
	}
	return m
}
