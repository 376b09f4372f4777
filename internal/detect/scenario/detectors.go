package scenario

import (
	_ "embed"
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/detect/policy"
)

// PolicyYAML is the scenario fleet's policy file: no SSH answered from
// the internet, the databases reached only from VMs.
//
//go:embed policy.yaml
var PolicyYAML []byte

// Detectors are the behavioural detectors of cfg and the policy
// detector with PolicyYAML: what the quality test and the benchmark
// run.
func Detectors(cfg behave.Config) ([]detect.Detector, error) {
	ds, err := behave.New(cfg)
	if err != nil {
		return nil, err
	}
	p, err := policy.Load("scenario.yaml", PolicyYAML)
	if err != nil {
		return nil, err
	}
	set, err := policy.NewSet(p)
	if err != nil {
		return nil, fmt.Errorf("scenario policy: %w", err)
	}
	return append(ds, policy.NewDetector(set)), nil
}
