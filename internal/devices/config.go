package devices

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Config configures an Inventory. Every per-device list is capped; what a
// cap turns away is counted in the profile's "dropped".
type Config struct {
	// LocalNets are the monitored networks: an endpoint in one of them is
	// a device, any other is a peer. Empty means the private ranges
	// (RFC 1918, ULA fc00::/7) and link-local (169.254/16, fe80::/10).
	LocalNets []netip.Prefix
	// MaxDevices caps the inventory; at the cap the least recently seen
	// devices are forgotten (and counted) to make room.
	MaxDevices int
	// MaxIPsPerMAC: a MAC seen with more addresses than this within
	// GatewayWindow belongs to a router (it forwards for others) and is
	// not used as anyone's identity.
	MaxIPsPerMAC  int
	GatewayWindow time.Duration
	// Per-device caps.
	MaxPeers      int // top peers by bytes kept
	MaxIPs        int // addresses over time
	MaxMACs       int
	MaxNames      int // host names and announced names
	MaxServices   int // listening proto/port pairs
	MaxClientApps int // protocols used as a client
	MaxStrings    int // each of: JA4s, SNIs, DNS queries, HTTP hosts, MQTT client ids
	// MaxLiveFlows bounds the flows whose interim records are remembered
	// so that their cumulative counters are not added twice.
	MaxLiveFlows int
}

// DefaultConfig returns caps that keep a device under ~50 KB in the
// worst case; a typical host takes ~4 KB with the indexes.
func DefaultConfig() Config {
	return Config{
		MaxDevices:    100_000,
		MaxIPsPerMAC:  8,
		GatewayWindow: time.Hour,
		MaxPeers:      32,
		MaxIPs:        16,
		MaxMACs:       8,
		MaxNames:      16,
		MaxServices:   64,
		MaxClientApps: 32,
		MaxStrings:    32,
		MaxLiveFlows:  1 << 16,
	}
}

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxDevices", c.MaxDevices}, {"MaxIPsPerMAC", c.MaxIPsPerMAC}, {"MaxPeers", c.MaxPeers},
		{"MaxIPs", c.MaxIPs}, {"MaxMACs", c.MaxMACs}, {"MaxNames", c.MaxNames}, {"MaxServices", c.MaxServices},
		{"MaxClientApps", c.MaxClientApps}, {"MaxStrings", c.MaxStrings}, {"MaxLiveFlows", c.MaxLiveFlows},
	} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("devices.%s: must be ≥ 1, got %d", f.name, f.v))
		}
	}
	if c.MaxIPsPerMAC > 64 {
		errs = append(errs, fmt.Errorf("devices.MaxIPsPerMAC: must be ≤ 64, got %d", c.MaxIPsPerMAC))
	}
	if c.GatewayWindow <= 0 {
		errs = append(errs, fmt.Errorf("devices.GatewayWindow: must be positive, got %v", c.GatewayWindow))
	}
	for i, p := range c.LocalNets {
		if !p.IsValid() {
			errs = append(errs, fmt.Errorf("devices.LocalNets[%d]: invalid prefix", i))
		}
	}
	return errors.Join(errs...)
}
