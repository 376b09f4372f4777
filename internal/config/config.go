package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"
)

// Config is the whole osprey configuration file. Each section maps onto
// one component's own configuration in cmd/osprey.
type Config struct {
	Sensor       Sensor       `yaml:"sensor"`
	Decode       Decode       `yaml:"decode"`
	Meter        Meter        `yaml:"meter"`
	DPI          DPI          `yaml:"dpi"`
	Devices      Devices      `yaml:"devices"`
	Enrich       Enrich       `yaml:"enrich"`
	Capture      Capture      `yaml:"capture"`
	Health       Health       `yaml:"health"`
	Log          Log          `yaml:"log"`
	Store        Store        `yaml:"store"`
	Collect      Collect      `yaml:"collect"`
	Detect       Detect       `yaml:"detect"`
	Outputs      Outputs      `yaml:"outputs"`
	API          API          `yaml:"api"`
	Segmentation Segmentation `yaml:"segmentation"`
}

// Store is where sessions, rollups, metrics, devices and findings are
// kept: DuckDB embedded (a data directory, the default) or ClickHouse.
type Store struct {
	Backend       string        `yaml:"backend"`
	Path          string        `yaml:"path"`
	DuckDB        DuckDB        `yaml:"duckdb"`
	ClickHouse    ClickHouse    `yaml:"clickhouse"`
	BatchSize     int           `yaml:"batch_size"`     // 0: the backend's own (store.BatchSizer)
	FlushInterval time.Duration `yaml:"flush_interval"` // 0: the backend's own (store.BatchSizer)
	Retention     Retention     `yaml:"retention"`
}

// DuckDB tunes the embedded store.
type DuckDB struct {
	Threads     int    `yaml:"threads"`      // 0: all cores but one, at least one
	MemoryLimit string `yaml:"memory_limit"` // "": DuckDB's own, 80 % of RAM
}

// memoryLimit is a size DuckDB's memory_limit takes.
var memoryLimit = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? ?([KMGT]i?B|B)$`)

// ClickHouse is a server or cluster reached over the native protocol.
type ClickHouse struct {
	Addr     []string `yaml:"addr"`
	Database string   `yaml:"database"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Cluster  string   `yaml:"cluster"`
}

// Retention is how long each table keeps data; 0 keeps it forever.
type Retention struct {
	Sessions time.Duration `yaml:"sessions"`
	Rollups  time.Duration `yaml:"rollups"`
	Metrics  time.Duration `yaml:"metrics"`
	Findings time.Duration `yaml:"findings"`
}

// Sensor names this sensor and its tenant in every record it writes.
type Sensor struct {
	Name   string `yaml:"name"`
	Tenant string `yaml:"tenant"`
}

// Decode selects the UDP ports recognised as tunnels inside captures.
type Decode struct {
	VXLANPorts      []uint16 `yaml:"vxlan_ports"`
	GENEVEPorts     []uint16 `yaml:"geneve_ports"`
	VerifyChecksums bool     `yaml:"verify_checksums"`
}

// Meter holds the flow table's timeouts and memory cap.
type Meter struct {
	IdleTCP         time.Duration  `yaml:"idle_tcp"`
	IdleUDP         time.Duration  `yaml:"idle_udp"`
	IdleICMP        time.Duration  `yaml:"idle_icmp"`
	IdleOther       time.Duration  `yaml:"idle_other"`
	Active          time.Duration  `yaml:"active"`
	MaxFlows        int            `yaml:"max_flows"`
	TunnelSessions  bool           `yaml:"tunnel_sessions"`
	LocalNets       []netip.Prefix `yaml:"local_nets"`
	CommunityIDSeed uint16         `yaml:"community_id_seed"`
	Shards          int            `yaml:"shards"`
}

// DPI configures application identification: what is kept of each
// flow's first payload for the decoders.
type DPI struct {
	Enabled bool  `yaml:"enabled"`
	Bytes   Bytes `yaml:"bytes"`   // per direction
	Packets int   `yaml:"packets"` // payload packets per direction
	Flows   int   `yaml:"flows"`   // flows buffering at once
}

// Devices configures the device inventory (docs/devices.md); devices are
// the endpoints in meter.local_nets (private ranges when empty).
type Devices struct {
	Enabled       bool          `yaml:"enabled"`
	MaxDevices    int           `yaml:"max_devices"`
	MaxIPsPerMAC  int           `yaml:"max_ips_per_mac"` // more addresses behind one MAC: a router
	GatewayWindow time.Duration `yaml:"gateway_window"`
	SaveInterval  time.Duration `yaml:"save_interval"` // how often a sensor saves changed devices to the store
}

// Enrich lists the enrichment sources (docs/enrichment.md); enrichment
// is on when any is set. Files reload when they change.
type Enrich struct {
	Assets      []string      `yaml:"assets"`        // YAML, JSON or CSV inventories
	EC2         *EC2          `yaml:"ec2"`           // asset inventory from EC2; off when absent
	CIDRs       []string      `yaml:"cidrs"`         // ranges with tags and segments, later files win
	AWSIPRanges []string      `yaml:"aws_ip_ranges"` // AWS ip-ranges.json, applied before cidrs
	GeoIP       []string      `yaml:"geoip"`         // MMDB files: City or Country, and ASN
	Intel       []IntelFeed   `yaml:"intel"`
	Poll        time.Duration `yaml:"poll"` // how often files are checked besides change events
}

// EC2 reads instances, network interfaces and traffic-mirror sessions.
// Credentials come from the AWS SDK's default chain (environment,
// shared files with Profile, instance role).
type EC2 struct {
	Regions  []string      `yaml:"regions"`
	Profile  string        `yaml:"profile"`
	Endpoint string        `yaml:"endpoint"` // override, e.g. a VPC endpoint
	TagKeys  []string      `yaml:"tag_keys"` // tag keys whose values also become bare tags (Role, Tier)
	Interval time.Duration `yaml:"interval"`
}

// IntelFeed is one threat-intelligence list or STIX 2.1 bundle.
type IntelFeed struct {
	Name   string `yaml:"name"`
	Path   string `yaml:"path"`
	Format string `yaml:"format"` // plain, csv or stix; empty: from the extension and content
	Column string `yaml:"column"` // CSV: header name or 1-based index of the indicator
}

// Capture configures the live sources of `osprey sensor`.
type Capture struct {
	UDP       UDP       `yaml:"udp"`
	Interface Interface `yaml:"interface"`
}

// UDP is the mirrored-traffic listener (VXLAN 4789, GENEVE 6081).
type UDP struct {
	VXLAN         []string `yaml:"vxlan"`  // listen addresses, e.g. "0.0.0.0:4789"
	GENEVE        []string `yaml:"geneve"` // e.g. "0.0.0.0:6081"
	Sockets       int      `yaml:"sockets"`
	ReceiveBuffer Bytes    `yaml:"receive_buffer"`
}

// Interface is live capture through AF_PACKET; off unless Name is set.
type Interface struct {
	Name        string `yaml:"name"`
	Promiscuous bool   `yaml:"promiscuous"`
	Snaplen     int    `yaml:"snaplen"`
}

// Health is the HTTP endpoint load balancers probe (/healthz) and
// Prometheus scrapes (/metrics).
type Health struct {
	Listen string `yaml:"listen"`
}

// Log selects the slog handler.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// DefaultConfig is what osprey runs with when no file is given.
func DefaultConfig() Config {
	return Config{
		Sensor: Sensor{Name: "osprey", Tenant: "default"},
		Decode: Decode{VXLANPorts: []uint16{4789}, GENEVEPorts: []uint16{6081}},
		Meter: Meter{
			IdleTCP: 5 * time.Minute, IdleUDP: time.Minute, IdleICMP: time.Minute, IdleOther: time.Minute,
			Active: time.Hour, MaxFlows: 1 << 20, TunnelSessions: true,
		},
		DPI:     DPI{Enabled: true, Bytes: 4096, Packets: 8, Flows: 1 << 16},
		Devices: Devices{Enabled: true, MaxDevices: 100_000, MaxIPsPerMAC: 8, GatewayWindow: time.Hour, SaveInterval: time.Minute},
		Enrich:  Enrich{Poll: time.Minute},
		Capture: Capture{
			UDP:       UDP{VXLAN: []string{"0.0.0.0:4789"}, GENEVE: []string{"0.0.0.0:6081"}, ReceiveBuffer: 32 << 20},
			Interface: Interface{Promiscuous: true, Snaplen: 65535},
		},
		Health: Health{Listen: "127.0.0.1:9780"},
		Log:    Log{Level: "info", Format: "text"},
		Store: Store{
			Backend: "duckdb", Path: "osprey-data",
			ClickHouse: ClickHouse{Addr: []string{"127.0.0.1:9000"}, Database: "osprey", Username: "default"},
			Retention: Retention{Sessions: 30 * 24 * time.Hour, Rollups: 400 * 24 * time.Hour,
				Metrics: 90 * 24 * time.Hour, Findings: 365 * 24 * time.Hour},
		},
		Collect:      defaultCollect(),
		Detect:       defaultDetect(),
		API:          defaultAPI(),
		Segmentation: defaultSegmentation(),
	}
}

// Validate checks cross-field rules; errors name the key path.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	for key, d := range map[string]time.Duration{
		"meter.idle_tcp": c.Meter.IdleTCP, "meter.idle_udp": c.Meter.IdleUDP,
		"meter.idle_icmp": c.Meter.IdleICMP, "meter.idle_other": c.Meter.IdleOther,
	} {
		if d <= 0 {
			bad(key, "must be a positive duration, got %v", d)
		}
	}
	if c.Meter.Active < 0 {
		bad("meter.active", "must be ≥ 0 (0 disables interim records), got %v", c.Meter.Active)
	}
	if c.Meter.MaxFlows < 1024 {
		bad("meter.max_flows", "must be at least 1024, got %d", c.Meter.MaxFlows)
	}
	if c.Meter.Shards < 0 {
		bad("meter.shards", "must be ≥ 0 (0 = one per core), got %d", c.Meter.Shards)
	}
	if c.Devices.MaxDevices < 1 {
		bad("devices.max_devices", "must be at least 1, got %d", c.Devices.MaxDevices)
	}
	if c.Devices.MaxIPsPerMAC < 1 || c.Devices.MaxIPsPerMAC > 64 {
		bad("devices.max_ips_per_mac", "must be within 1..64, got %d", c.Devices.MaxIPsPerMAC)
	}
	if c.Devices.GatewayWindow <= 0 {
		bad("devices.gateway_window", "must be a positive duration, got %v", c.Devices.GatewayWindow)
	}
	if c.Devices.SaveInterval <= 0 {
		bad("devices.save_interval", "must be a positive duration, got %v", c.Devices.SaveInterval)
	}
	if c.Enrich.Poll <= 0 {
		bad("enrich.poll", "must be a positive duration, got %v", c.Enrich.Poll)
	}
	if e := c.Enrich.EC2; e != nil && len(e.Regions) == 0 {
		bad("enrich.ec2.regions", "must name at least one region")
	}
	for i, f := range c.Enrich.Intel {
		if f.Name == "" || f.Path == "" {
			bad(fmt.Sprintf("enrich.intel[%d]", i), "needs a name and a path")
		}
		if f.Format != "" && f.Format != "plain" && f.Format != "csv" && f.Format != "stix" {
			bad(fmt.Sprintf("enrich.intel[%d].format", i), "must be plain, csv or stix, got %q", f.Format)
		}
	}
	if c.DPI.Bytes < 64 || c.DPI.Bytes > 1<<20 {
		bad("dpi.bytes", "must be within 64B..1MiB, got %d", c.DPI.Bytes)
	}
	if c.DPI.Packets < 1 {
		bad("dpi.packets", "must be at least 1, got %d", c.DPI.Packets)
	}
	if c.DPI.Flows < 1 {
		bad("dpi.flows", "must be at least 1, got %d", c.DPI.Flows)
	}
	for i, p := range c.Decode.VXLANPorts {
		if p == 0 {
			bad(fmt.Sprintf("decode.vxlan_ports[%d]", i), "port 0 is not a port")
		}
	}
	for i, p := range c.Decode.GENEVEPorts {
		if p == 0 {
			bad(fmt.Sprintf("decode.geneve_ports[%d]", i), "port 0 is not a port")
		}
	}
	if c.Capture.UDP.Sockets < 0 {
		bad("capture.udp.sockets", "must be ≥ 0 (0 = one per core), got %d", c.Capture.UDP.Sockets)
	}
	if s := c.Capture.Interface.Snaplen; s < 64 || s > 262144 {
		bad("capture.interface.snaplen", "must be within 64..262144, got %d", s)
	}
	switch strings.ToLower(c.Log.Level) {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be text or json, got %q", c.Log.Format)
	}
	switch c.Store.Backend {
	case "duckdb", "clickhouse":
	default:
		bad("store.backend", "must be duckdb or clickhouse, got %q", c.Store.Backend)
	}
	if c.Store.DuckDB.Threads < 0 {
		bad("store.duckdb.threads", "must be 0 (all cores but one) or more, got %d", c.Store.DuckDB.Threads)
	}
	if m := c.Store.DuckDB.MemoryLimit; m != "" && !memoryLimit.MatchString(m) {
		bad("store.duckdb.memory_limit", "must be a size such as 4GB or 512MiB, got %q", m)
	}
	if c.Store.BatchSize < 0 {
		bad("store.batch_size", "must be 0 (the backend's own) or more, got %d", c.Store.BatchSize)
	}
	if c.Store.FlushInterval < 0 {
		bad("store.flush_interval", "must be 0 (the backend's own) or more, got %v", c.Store.FlushInterval)
	}
	for key, d := range map[string]time.Duration{
		"store.retention.sessions": c.Store.Retention.Sessions, "store.retention.rollups": c.Store.Retention.Rollups,
		"store.retention.metrics": c.Store.Retention.Metrics, "store.retention.findings": c.Store.Retention.Findings,
	} {
		if d < 0 {
			bad(key, "must be ≥ 0 (0 keeps data forever), got %v", d)
		}
	}
	if c.Sensor.Tenant == "" {
		bad("sensor.tenant", "must not be empty")
	}
	errs = append(errs, c.Collect.validate())
	errs = append(errs, c.Detect.validate())
	errs = append(errs, c.Outputs.validate())
	errs = append(errs, c.API.validate())
	errs = append(errs, c.Segmentation.validate())
	return errors.Join(errs...)
}
