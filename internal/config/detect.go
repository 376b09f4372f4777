package config

import (
	"errors"
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/audit"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/detect/profile"
)

// Detect configures detection (docs/findings.md): the engine's own keys
// inline, the policy files and the behavioural detectors. osprey run and
// osprey sensor store what it finds; osprey read runs it for --findings
// and --store.
type Detect struct {
	Enabled       bool `yaml:"enabled"`
	detect.Config `yaml:",inline"`
	// Policies are baseline and segmentation policy files
	// (docs/policies.md), reloaded when they change.
	Policies []string `yaml:"policies"`
	// Behaviours configures the behavioural detectors (docs/detectors.md).
	Behaviours behave.Config `yaml:"behaviours"`
	// Profiles are AWS IoT Device Defender security profiles, applied to
	// reported and session-derived device metrics (docs/profiles.md); on
	// when files are listed.
	Profiles profile.Config `yaml:"profiles"`
	// Audits are checks inferred from traffic: shared device
	// certificates, conflicting MQTT client ids, weak TLS, cleartext
	// management protocols (docs/audits.md).
	Audits audit.Config `yaml:"audits"`
}

func defaultDetect() Detect {
	return Detect{Enabled: true, Config: detect.DefaultConfig(), Behaviours: behave.DefaultConfig(), Profiles: profile.DefaultConfig(),
		Audits: audit.DefaultConfig()}
}

func (d Detect) validate() error {
	if !d.Enabled {
		return nil
	}
	errs := []error{
		under("detect.", d.Config.Validate()),
		under("detect.behaviours.", d.Behaviours.Validate()),
		under("detect.profiles.", d.Profiles.Validate()),
		under("detect.audits.", d.Audits.Validate()),
	}
	if d.Audits.RepeatEvery >= d.ClearAfter {
		errs = append(errs, fmt.Errorf("detect.audits.repeat_every: %v must be below detect.clear_after (%v), or lasting problems clear between reports",
			d.Audits.RepeatEvery, d.ClearAfter))
	}
	for i, p := range d.Policies {
		if p == "" {
			errs = append(errs, fmt.Errorf("detect.policies[%d]: empty path", i))
		}
	}
	return errors.Join(errs...)
}
