// Package audit holds Osprey's audits inferred from traffic and the
// inventory, the continuous counterpart of AWS IoT Device Defender's
// scheduled audit checks: one device certificate on several devices,
// conflicting MQTT client ids, expired or weak TLS, and devices serving
// cleartext management protocols. Each is a detect.Detector fed every
// session in order; where AWS has a check for the same question the rule
// carries AWS's check name (DEVICE_CERTIFICATE_SHARED_CHECK, …).
//
// Device Defender audits are snapshots taken on a schedule. Here a check
// reports while the sessions show the problem, at most once per
// repeat_every for each finding, and the engine folds the reports by
// dedupe key and clears a finding once they stop. Time comes from the
// sessions, never the clock, and every check bounds its memory with caps
// whose evictions it counts (detect.Evictor). docs/audits.md describes each
// check, its AWS counterpart, its keys and its limits.
package audit

import (
	"errors"
	"fmt"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// Config enables and configures each check; DefaultConfig enables them
// with the defaults documented in docs/audits.md.
type Config struct {
	// RepeatEvery is how often a finding whose problem persists is
	// reported again: often enough to keep it active (the engine clears
	// findings after clear_after, an hour by default, without a report),
	// rarely enough that a busy server with an expired certificate costs
	// one report, not one per session.
	RepeatEvery time.Duration       `yaml:"repeat_every"`
	SharedCert  SharedCertConfig    `yaml:"device_certificate_shared"`
	ClientIDs   ClientIDConfig      `yaml:"conflicting_client_ids"`
	TLS         TLSConfig           `yaml:"tls"`
	Cleartext   CleartextMgmtConfig `yaml:"cleartext_management"`
}

// DefaultConfig enables every check.
func DefaultConfig() Config {
	return Config{
		RepeatEvery: 10 * time.Minute,
		SharedCert:  SharedCertConfig{Enabled: true, Window: time.Hour, MaxDevices: 16, MaxKeys: 100_000},
		ClientIDs:   ClientIDConfig{Enabled: true, Window: time.Hour, MaxDevices: 16, MaxKeys: 100_000},
		TLS:         defaultTLSConfig(),
		Cleartext:   defaultCleartextMgmtConfig(),
	}
}

// part is one check's entry in the table New and Validate walk.
type part struct {
	key      string
	enabled  bool
	validate func() error
	build    func() detect.Detector
}

func (c Config) parts() []part {
	return []part{
		{"device_certificate_shared", c.SharedCert.Enabled, c.SharedCert.Validate, func() detect.Detector { return newSharedCert(c.SharedCert, c.RepeatEvery) }},
		{"conflicting_client_ids", c.ClientIDs.Enabled, c.ClientIDs.Validate, func() detect.Detector { return newClientIDs(c.ClientIDs, c.RepeatEvery) }},
		{"tls", c.TLS.Enabled, c.TLS.Validate, func() detect.Detector { return newWeakTLS(c.TLS, c.RepeatEvery) }},
		{"cleartext_management", c.Cleartext.Enabled, c.Cleartext.Validate, func() detect.Detector { return newCleartextMgmt(c.Cleartext, c.RepeatEvery) }},
	}
}

// Validate checks the enabled checks' settings and names the key at
// fault ("tls: expiring_days: …"); a disabled check's are not checked.
func (c Config) Validate() error {
	if c.RepeatEvery <= 0 {
		return fmt.Errorf("repeat_every: %v, want a positive duration", c.RepeatEvery)
	}
	for _, p := range c.parts() {
		if !p.enabled {
			continue
		}
		if err := p.validate(); err != nil {
			return fmt.Errorf("%s: %w", p.key, err)
		}
	}
	return nil
}

// New builds the enabled checks. It only allocates their empty state.
// All of them implement detect.Evictor and detect.Ticker (to expire what they
// remember).
func New(cfg Config) ([]detect.Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var ds []detect.Detector
	for _, p := range cfg.parts() {
		if p.enabled {
			ds = append(ds, p.build())
		}
	}
	return ds, nil
}

// validateCaps checks the window and caps the two tracking checks share.
func validateCaps(window time.Duration, maxDevices, maxKeys int) error {
	switch {
	case window <= 0:
		return fmt.Errorf("window: %v, want a positive duration", window)
	case maxDevices < 2:
		return fmt.Errorf("max_devices: %d, want at least 2", maxDevices)
	case maxKeys < 1:
		return fmt.Errorf("max_keys: %d, want at least 1", maxKeys)
	}
	return nil
}

var errNoProtocols = errors.New("no protocols: disable the check instead")
