package config

import (
	"errors"
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
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
}

func defaultDetect() Detect {
	return Detect{Enabled: true, Config: detect.DefaultConfig(), Behaviours: behave.DefaultConfig()}
}

func (d Detect) validate() error {
	if !d.Enabled {
		return nil
	}
	errs := []error{
		under("detect.", d.Config.Validate()),
		under("detect.behaviours.", d.Behaviours.Validate()),
	}
	for i, p := range d.Policies {
		if p == "" {
			errs = append(errs, fmt.Errorf("detect.policies[%d]: empty path", i))
		}
	}
	return errors.Join(errs...)
}
