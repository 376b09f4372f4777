package behave

import (
	"fmt"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// NewPortConfig configures the new-listening-port detector.
type NewPortConfig struct {
	Enabled bool `yaml:"enabled"`
	// Learning is how long, from a device's first session, the ports it
	// serves are learnt without alerting.
	Learning time.Duration `yaml:"learning"`
	// MaxPort: higher ports are not watched; dynamic ports (FTP passive
	// data, RPC endpoints, RTP) open and close by design.
	MaxPort uint16 `yaml:"max_port"`
	// MaxDevices bounds the devices tracked, MaxPortsPerDevice the ports
	// learnt per device.
	MaxDevices        int `yaml:"max_devices"`
	MaxPortsPerDevice int `yaml:"max_ports_per_device"`
}

func defaultNewPortConfig() NewPortConfig {
	return NewPortConfig{Enabled: true, Learning: 24 * time.Hour, MaxPort: 49151, MaxDevices: 10000, MaxPortsPerDevice: 256}
}

// Validate names the key at fault.
func (c NewPortConfig) Validate() error {
	switch {
	case c.Learning <= 0:
		return fmt.Errorf("learning: %v, want a positive duration", c.Learning)
	case c.MaxPort == 0:
		return fmt.Errorf("max_port: 0, want a port")
	case c.MaxDevices < 1 || c.MaxPortsPerDevice < 1:
		return fmt.Errorf("max_devices, max_ports_per_device: want at least 1 each")
	}
	return nil
}

type servedPorts struct {
	first time.Time
	ports map[uint32]struct{} // protocol<<16 | port
}

// newPort finds an internal device answering on a port it did not serve
// during its learning period: a new service, a backdoor, a debug port
// left open.
type newPort struct {
	cfg     NewPortConfig
	devices map[host]*servedPorts
	evicted uint64
}

func newNewPort(cfg NewPortConfig) *newPort {
	return &newPort{cfg: cfg, devices: make(map[host]*servedPorts)}
}

func (d *newPort) Name() string      { return "new-listening-port" }
func (d *newPort) Evictions() uint64 { return d.evicted }

func (d *newPort) Session(s *schema.Session, report func(detect.Report)) {
	e, ok := server(s)
	if !ok || e.Port == 0 || e.Port > d.cfg.MaxPort || !detect.Internal(e) || e.IP.IsMulticast() {
		return
	}
	k := hostOf(s, e)
	dev := d.devices[k]
	if dev == nil {
		if len(d.devices) >= d.cfg.MaxDevices {
			evictOne(d.devices)
			d.evicted++
		}
		dev = &servedPorts{first: s.Start, ports: make(map[uint32]struct{})}
		d.devices[k] = dev
	}
	p := uint32(s.Proto)<<16 | uint32(e.Port)
	if _, ok := dev.ports[p]; ok || len(dev.ports) >= d.cfg.MaxPortsPerDevice {
		return
	}
	dev.ports[p] = struct{}{}
	if s.Start.Sub(dev.first) < d.cfg.Learning {
		return
	}
	r := newReport(s, d.Name(), detect.Medium, "")
	r.Entities = append(detect.EndpointEntities(nil, e), detect.PortEntity(e.Port))
	id := e.IP.String()
	if e.Asset != "" {
		id = e.Asset
	}
	r.DedupeKey = fmt.Sprintf("%s|%s|%d/%s", r.Rule, id, e.Port, s.Transport)
	r.Summary = fmt.Sprintf("%s started answering on %d/%s, not served during its first %v", e.IP, e.Port, s.Transport, d.cfg.Learning)
	r.Sessions = []string{refOf(s).String()}
	r.Values = map[string]float64{"port": float64(e.Port), "known_ports": float64(len(dev.ports) - 1),
		"learning_seconds": d.cfg.Learning.Seconds()}
	report(r)
}

// server is the endpoint a session proves is listening, if any: the
// responder of a TCP handshake it answered (a SYN-ACK, 'h' in the
// history) or of a UDP exchange it answered; for flow records, the
// sender of a reply, or the responder of a tuple that counts replies.
func server(s *schema.Session) (*schema.Endpoint, bool) {
	switch {
	case s.Flow != nil && reply(s):
		return &s.Orig, true
	case s.Flow != nil:
		return &s.Resp, s.Flow.Action != "reject" && s.RespPkts > 0
	case s.Proto == 6:
		return &s.Resp, strings.IndexByte(s.History, 'h') >= 0
	case s.Proto == 17:
		return &s.Resp, s.RespPkts > 0
	}
	return nil, false
}
