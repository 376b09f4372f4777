// Package behave holds Osprey's behavioural detectors on sessions:
// scans, brute force, beaconing, exfiltration, DNS tunnelling, fan-out,
// new listening ports, learned allowlists, cleartext credentials and
// threat-intelligence hits. Each is a detect.Detector fed every session
// in order by the engine. They take time from the sessions, never from
// the clock, so that a capture read offline gives the findings it gave
// live, and each bounds its memory with caps whose evictions it counts
// (detect.Evictor). docs/detectors.md describes what each looks for and how to
// tune it.
package behave

import (
	"fmt"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// Config enables and configures each detector; DefaultConfig enables
// them all.
type Config struct {
	HorizontalScan ScanConfig       `yaml:"horizontal_scan"`
	VerticalScan   ScanConfig       `yaml:"vertical_scan"`
	FanOut         FanOutConfig     `yaml:"fan_out"`
	BruteForce     BruteForceConfig `yaml:"brute_force"`
	Beaconing      BeaconConfig     `yaml:"beaconing"`
	Exfiltration   ExfilConfig      `yaml:"exfiltration"`
	DNSTunnel      DNSTunnelConfig  `yaml:"dns_tunnel"`
	NewPort        NewPortConfig    `yaml:"new_listening_port"`
	Cleartext      CleartextConfig  `yaml:"cleartext_credentials"`
	Allowlist      AllowlistConfig  `yaml:"allowlist"`
	Intel          IntelConfig      `yaml:"threat_intel"`
}

// DefaultConfig enables every detector with the defaults documented in
// docs/detectors.md.
func DefaultConfig() Config {
	return Config{
		HorizontalScan: defaultScanConfig(),
		VerticalScan:   defaultScanConfig(),
		FanOut:         defaultFanOutConfig(),
		BruteForce:     defaultBruteForceConfig(),
		Beaconing:      defaultBeaconConfig(),
		Exfiltration:   defaultExfilConfig(),
		DNSTunnel:      defaultDNSTunnelConfig(),
		NewPort:        defaultNewPortConfig(),
		Cleartext:      CleartextConfig{Enabled: true},
		Allowlist:      defaultAllowlistConfig(),
		Intel:          IntelConfig{Enabled: true},
	}
}

// part is one detector's entry in the table New and Validate walk:
// its key, whether it is on, its validation and its constructor.
type part struct {
	key      string
	enabled  bool
	validate func() error
	build    func() detect.Detector
}

func (c Config) parts() []part {
	return []part{
		{"horizontal_scan", c.HorizontalScan.Enabled, c.HorizontalScan.Validate, func() detect.Detector { return newHorizontalScan(c.HorizontalScan) }},
		{"vertical_scan", c.VerticalScan.Enabled, c.VerticalScan.Validate, func() detect.Detector { return newVerticalScan(c.VerticalScan) }},
		{"fan_out", c.FanOut.Enabled, c.FanOut.Validate, func() detect.Detector { return newFanOut(c.FanOut) }},
		{"brute_force", c.BruteForce.Enabled, c.BruteForce.Validate, func() detect.Detector { return newBruteForce(c.BruteForce) }},
		{"beaconing", c.Beaconing.Enabled, c.Beaconing.Validate, func() detect.Detector { return newBeaconing(c.Beaconing) }},
		{"exfiltration", c.Exfiltration.Enabled, c.Exfiltration.Validate, func() detect.Detector { return newExfiltration(c.Exfiltration) }},
		{"dns_tunnel", c.DNSTunnel.Enabled, c.DNSTunnel.Validate, func() detect.Detector { return newDNSTunnel(c.DNSTunnel) }},
		{"new_listening_port", c.NewPort.Enabled, c.NewPort.Validate, func() detect.Detector { return newNewPort(c.NewPort) }},
		{"cleartext_credentials", c.Cleartext.Enabled, c.Cleartext.Validate, func() detect.Detector { return cleartextCredentials{} }},
		{"allowlist", c.Allowlist.Enabled, c.Allowlist.Validate, func() detect.Detector { return newAllowlist(c.Allowlist) }},
		{"threat_intel", c.Intel.Enabled, c.Intel.Validate, func() detect.Detector { return intelHits{} }},
	}
}

// Validate checks the enabled detectors' settings and names the key at
// fault ("beaconing: threshold: …"); a disabled detector's are not
// checked, so that turning one off never needs fixing it.
func (c Config) Validate() error {
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

// New builds the enabled detectors. It only allocates their empty
// state. Those with memory implement detect.Evictor; those with windows to
// close also detect.Ticker.
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
