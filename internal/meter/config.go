// Package meter turns decoded packets into bidirectional sessions: a flow
// table keyed by mirror source, VNI and 5-tuple, TCP state tracked the way
// Zeek tracks it (conn_state, history, sizes from sequence numbers),
// inactivity and active timeouts by packet time, and a memory cap.
package meter

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/osprey-ndr/osprey/internal/dpi"
)

// Config configures a Table.
type Config struct {
	// Inactivity timeouts; Zeek's defaults are 5m for TCP and 1m otherwise.
	IdleTCP, IdleUDP, IdleICMP, IdleOther time.Duration
	// Active makes a flow alive this long write an interim record (Final
	// false, counters cumulative since the start, Seq incremented); 0 disables.
	Active time.Duration
	// MaxFlows caps the table. At the cap the oldest flow that never got an
	// answer is evicted (SYN floods and scans create only such flows), else
	// the least recently seen one; each eviction is counted by reason.
	MaxFlows int
	// TunnelSessions also meters the outer UDP conversations that carry
	// VXLAN or GENEVE, as Zeek does.
	TunnelSessions bool
	// LocalNets are the monitored networks, for Session.Direction.
	LocalNets []netip.Prefix
	// CommunityIDSeed seeds the Community ID hash (Zeek and Suricata
	// default to 0; sites that mix sensors must use one value).
	CommunityIDSeed uint16
	// DPI runs the application decoders (internal/dpi) on the first
	// payload of each flow; DPILimits bound what is buffered.
	DPI       bool
	DPILimits dpi.Limits
	// Written into every session.
	Sensor, Tenant, Source string
}

// DefaultConfig returns Zeek's timeouts (tcp_inactivity_timeout 5m, udp
// and icmp 1m), a 1 M flow cap and an hourly interim record: Zeek has no
// active timeout, so the default is long enough that ordinary connections
// give exactly one record, as in conn.log, while a connection that lives
// for days still shows up hourly.
func DefaultConfig() Config {
	return Config{IdleTCP: 5 * time.Minute, IdleUDP: time.Minute, IdleICMP: time.Minute, IdleOther: time.Minute,
		Active: time.Hour, MaxFlows: 1 << 20, TunnelSessions: true, DPI: true, DPILimits: dpi.DefaultLimits()}
}

// Validate checks the configuration; errors name the field.
func (c Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{"IdleTCP": c.IdleTCP, "IdleUDP": c.IdleUDP, "IdleICMP": c.IdleICMP, "IdleOther": c.IdleOther} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("meter.%s: must be positive, got %v", name, d))
		}
	}
	if c.Active < 0 {
		errs = append(errs, fmt.Errorf("meter.Active: must be ≥ 0, got %v", c.Active))
	}
	if c.MaxFlows < 16 {
		errs = append(errs, fmt.Errorf("meter.MaxFlows: must be ≥ 16, got %d", c.MaxFlows))
	}
	return errors.Join(errs...)
}
