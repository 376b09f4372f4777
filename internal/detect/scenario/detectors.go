package scenario

import (
	_ "embed"
	"fmt"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/detect/audit"
	"github.com/osprey-ndr/osprey/internal/detect/behave"
	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/detect/profile"
)

// PolicyYAML is the scenario fleet's policy file: no SSH answered from
// the internet, the databases reached only from VMs.
//
//go:embed policy.yaml
var PolicyYAML []byte

// ProfilesJSON are the fleet's Device Defender security profiles, in
// AWS's JSON: what cameras listen on (reported by their agent and
// derived from sessions), a bound on a camera's bytes out, and for every
// agent device a statistical threshold on established connections, ML
// on messages sent and a bound on authorisation failures.
//
//go:embed profiles.json
var ProfilesJSON []byte

// ProfileConfig attaches the profiles to the fleet (AWS attaches them
// to thing groups; Osprey's targets say the same). ML trains for 24
// hours instead of AWS's 14 days: the scenario lasts two days, and a day
// holds a whole daily cycle and 288 datapoints per device, more than
// ml_min_datapoints; incidents start after it.
func ProfileConfig() profile.Config {
	cfg := profile.DefaultConfig()
	cfg.MLTraining = 24 * time.Hour
	cfg.Targets = map[string]profile.Target{
		"Cameras":        {Things: []string{"iot-camera-*"}, Tags: []string{"camera"}},
		"Camera-traffic": {Things: []string{"iot-camera-*"}, Source: "reported"},
		"Fleet-agents":   {Things: []string{"iot-sensor-*", "iot-camera-*"}, Source: "reported"},
	}
	return cfg
}

// Detectors are every detector the scenario scores: the behavioural
// detectors of cfg, the policy detector with PolicyYAML, the audits with
// their defaults and the profile detector with ProfilesJSON and
// ProfileConfig. The quality test and the benchmark run them.
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
	ds = append(ds, policy.NewDetector(set))
	audits, err := audit.New(audit.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("scenario audits: %w", err)
	}
	ds = append(ds, audits...)
	ps, err := profile.Parse("profiles.json", ProfilesJSON)
	if err != nil {
		return nil, err
	}
	pd, err := profile.NewFromProfiles(ProfileConfig(), ps)
	if err != nil {
		return nil, fmt.Errorf("scenario profiles: %w", err)
	}
	return append(ds, pd), nil
}
