package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// CleartextMgmtConfig configures the cleartext management protocols
// check.
type CleartextMgmtConfig struct {
	Enabled bool `yaml:"enabled"`
	// Protocols are the protocols checked, among telnet, rlogin, ftp,
	// tftp, snmp, vnc and http.
	Protocols []string `yaml:"protocols"`
	// HTTPPorts are the ports where plain HTTP is taken for a device's
	// management interface (an internal server only: HTTP to the
	// internet is browsing, not management).
	HTTPPorts []uint16 `yaml:"http_ports"`
	// MaxKeys bounds the findings remembered to report each once per
	// repeat_every.
	MaxKeys int `yaml:"max_keys"`
}

func defaultCleartextMgmtConfig() CleartextMgmtConfig {
	names := make([]string, len(mgmtProtocols))
	for i, p := range mgmtProtocols {
		names[i] = p.name
	}
	return CleartextMgmtConfig{Enabled: true, Protocols: names,
		HTTPPorts: []uint16{80, 8000, 8008, 8080, 8081, 8088, 8888}, MaxKeys: 100_000}
}

// Validate names the key at fault.
func (c CleartextMgmtConfig) Validate() error {
	if len(c.Protocols) == 0 {
		return fmt.Errorf("protocols: %w", errNoProtocols)
	}
	for i, name := range c.Protocols {
		if mgmtProtocolNamed(name) == nil {
			return fmt.Errorf("protocols[%d]: unknown protocol %q", i, name)
		}
	}
	if slices.Contains(c.Protocols, "http") && len(c.HTTPPorts) == 0 {
		return fmt.Errorf("http_ports: empty while http is checked")
	}
	if slices.Contains(c.HTTPPorts, 0) {
		return fmt.Errorf("http_ports: port 0")
	}
	if c.MaxKeys < 1 {
		return fmt.Errorf("max_keys: %d, want at least 1", c.MaxKeys)
	}
	return nil
}

// mgmtProtocol is a cleartext way to manage a device: how the DPI names
// it and its well-known ports, for sessions the DPI could not label.
type mgmtProtocol struct {
	name  string
	rule  string
	app   string // Session.App; empty when the DPI has no label for it
	proto uint8
	ports []uint16
	sev   detect.Severity
	// serveOnly: only an internal server counts, not an internal client
	// of an outside one.
	serveOnly bool
}

// mgmtProtocols lists what the check knows. The DPI decodes telnet, FTP
// and HTTP; tftp, snmp and vnc are labelled by port only, so SNMPv3 is
// not told from v1/v2c nor VNC over TLS from plain VNC. rsh shares
// 514/tcp with syslog over TCP and is left out.
var mgmtProtocols = []mgmtProtocol{
	{name: "telnet", rule: "cleartext-management-telnet", app: "telnet", proto: 6, ports: []uint16{23, 2323}, sev: detect.High},
	{name: "rlogin", rule: "cleartext-management-rlogin", proto: 6, ports: []uint16{512, 513}, sev: detect.High}, // rexec, rlogin
	{name: "ftp", rule: "cleartext-management-ftp", app: "ftp", proto: 6, ports: []uint16{21}, sev: detect.Medium},
	{name: "tftp", rule: "cleartext-management-tftp", app: "tftp", proto: 17, ports: []uint16{69}, sev: detect.Medium},
	{name: "snmp", rule: "cleartext-management-snmp", app: "snmp", proto: 17, ports: []uint16{161}, sev: detect.Medium},
	{name: "vnc", rule: "cleartext-management-vnc", app: "vnc", proto: 6, ports: []uint16{5900, 5901}, sev: detect.Medium},
	// HTTP's ports are http_ports.
	{name: "http", rule: "cleartext-management-http", app: "http", proto: 6, sev: detect.Low, serveOnly: true},
}

func mgmtProtocolNamed(name string) *mgmtProtocol {
	for i := range mgmtProtocols {
		if mgmtProtocols[i].name == name {
			return &mgmtProtocols[i]
		}
	}
	return nil
}

// mgmtKey is one finding: a device and a protocol.
type mgmtKey struct {
	tenant   string
	dev      device
	protocol *mgmtProtocol
}

// cleartextMgmt reports a device that serves a cleartext management
// protocol (or, for all but HTTP, uses one towards an outside server),
// one finding per device and protocol. Unlike behave's
// cleartext-credentials, which reports each client and server between
// which a password or user name was seen, this is the device's posture:
// the service is there and answers, whether or not anyone logged in.
type cleartextMgmt struct {
	byApp  map[string]*mgmtProtocol
	byPort map[uint32]*mgmtProtocol // proto<<16 | port
	th     *throttle[mgmtKey]
}

func newCleartextMgmt(c CleartextMgmtConfig, repeat time.Duration) *cleartextMgmt {
	d := &cleartextMgmt{byApp: map[string]*mgmtProtocol{}, byPort: map[uint32]*mgmtProtocol{},
		th: newThrottle[mgmtKey](repeat, c.MaxKeys)}
	for _, name := range c.Protocols {
		p := mgmtProtocolNamed(name)
		if p.app != "" {
			d.byApp[p.app] = p
		}
		ports := p.ports
		if p.name == "http" {
			ports = c.HTTPPorts
		}
		for _, port := range ports {
			d.byPort[uint32(p.proto)<<16|uint32(port)] = p
		}
	}
	return d
}

func (*cleartextMgmt) Name() string { return "cleartext-management" }

func (d *cleartextMgmt) Evictions() uint64 { return d.th.evicted }

func (d *cleartextMgmt) Tick(now time.Time, _ func(detect.Report)) { d.th.expire(now) }

// protocolOf names the session's management protocol: what the DPI
// recognised in the payload, else the server port when the DPI had
// nothing better than the port either. HTTP counts on its management
// ports only.
func (d *cleartextMgmt) protocolOf(s *schema.Session) *mgmtProtocol {
	byPort := d.byPort[uint32(s.Proto)<<16|uint32(s.Resp.Port)]
	content := s.L7 != nil && s.L7.By == "content"
	if content {
		p := d.byApp[s.App]
		if p != nil && p.name == "http" && (byPort != p || healthCheck(s.L7.HTTP)) {
			return nil // HTTP off its management ports (an API, a web app), or a health check
		}
		return p // another protocol recognised on the port is not this one
	}
	return byPort
}

func (d *cleartextMgmt) Session(s *schema.Session, report func(detect.Report)) {
	if s.Flow != nil || (s.Proto != 6 && s.Proto != 17) {
		return // a flow record cannot tell a service that answered from a port a scan tried
	}
	p := d.protocolOf(s)
	if p == nil || !answered(s) {
		return
	}
	dev, peer, role := &s.Resp, &s.Orig, "serves"
	switch {
	case detect.Internal(&s.Resp):
	case !p.serveOnly && detect.Internal(&s.Orig):
		dev, peer, role = &s.Orig, &s.Resp, "uses"
	default:
		return
	}
	k := mgmtKey{tenant: s.Tenant, dev: deviceOf(dev), protocol: p}
	if !d.th.due(k, s.End) {
		return
	}
	r := detect.Report{Time: s.End, Tenant: s.Tenant, Rule: p.rule, Severity: p.sev}
	r.Entities = append(detect.EndpointEntities(detect.EndpointEntities(nil, dev), peer), detect.PortEntity(s.Resp.Port))
	r.DedupeKey = fmt.Sprintf("%s|%s", p.rule, k.dev)
	transport := "tcp"
	if p.proto == 17 {
		transport = "udp"
	}
	if role == "serves" {
		r.Summary = fmt.Sprintf("%s serves %s, a cleartext management protocol, on %d/%s (used by %s)", dev.IP, p.name, s.Resp.Port, transport, peer.IP)
	} else {
		r.Summary = fmt.Sprintf("%s uses %s, a cleartext management protocol, to %s:%d/%s", dev.IP, p.name, peer.IP, s.Resp.Port, transport)
	}
	r.Sessions = []string{refOf(s).String()}
	r.Values = map[string]float64{"port": float64(s.Resp.Port), "serves": b2f(role == "serves")}
	report(r)
}

// healthCheckers are the user agents of load balancers' and
// orchestrators' health checks. A server answering them on port 80 or
// 8080 shows that a service is up behind a balancer, not that a device
// offers a management interface; a browser on the same port still
// counts.
var healthCheckers = []string{"ELB-HealthChecker/", "kube-probe/", "GoogleHC/", "Amazon-Route53-Health-Check-Service"}

func healthCheck(h *schema.HTTP) bool {
	return h != nil && slices.ContainsFunc(healthCheckers, func(p string) bool { return strings.HasPrefix(h.UserAgent, p) })
}
