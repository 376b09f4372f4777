package defender

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is the Device Defender collector's configuration (the
// `defender:` section of osprey.yaml).
type Config struct {
	// Tenant is written into every metric.
	Tenant string     `yaml:"tenant"`
	MQTT   MQTTConfig `yaml:"mqtt"`
	HTTP   HTTPConfig `yaml:"http"`
	// Cloud lists cloud-side metric feeds (JSON lines) read to their end;
	// "-" is standard input.
	Cloud []string `yaml:"cloud"`
	// MinReportInterval is the shortest time between two accepted reports
	// of one thing; AWS throttles devices to one report every 5 minutes.
	// 0 accepts every report.
	MinReportInterval time.Duration `yaml:"min_report_interval"`
	// MaxThings bounds the per-thing state (last report id and time); the
	// least recently reporting thing is forgotten first.
	MaxThings int `yaml:"max_things"`
	// MaxReportBytes bounds a report; AWS IoT takes MQTT payloads of up to
	// 128 KiB.
	MaxReportBytes int `yaml:"max_report_bytes"`
	// MaxListEntries bounds every list in a report (ports, connections,
	// custom metric lists) and in a cloud-side line.
	MaxListEntries int `yaml:"max_list_entries"`
	// BatchSize and FlushInterval bound how many metrics wait before they
	// are written, and for how long.
	BatchSize     int           `yaml:"batch_size"`
	FlushInterval time.Duration `yaml:"flush_interval"`
	// QueueSize is how many accepted reports may wait for the writer before
	// publishers are held back.
	QueueSize int `yaml:"queue_size"`
}

// MQTTConfig selects how reports arrive over MQTT.
type MQTTConfig struct {
	// Mode is "embedded" (a broker inside osprey, the default), "external"
	// (a client of another broker) or "off".
	Mode string `yaml:"mode"`
	// Listen is the embedded broker's TCP address.
	Listen string `yaml:"listen"`
	// TLS, when its cert and key are set, makes the embedded broker speak
	// MQTT over TLS; with a client CA it asks devices for certificates
	// and takes the certificate's common name as the thing name, as AWS
	// IoT does.
	TLS TLSConfig `yaml:"tls"`
	// Users may connect to the embedded broker (and post over HTTP). With
	// none and no client CA, anyone may.
	Users []User `yaml:"users"`
	// Broker, ClientID, Username and Password reach the external broker
	// (tcp://host:1883, ssl://host:8883).
	Broker   string `yaml:"broker"`
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// TLSConfig holds PEM file paths.
type TLSConfig struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
}

// User is one username and password, and the things it may report for;
// no things means any.
type User struct {
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Things   []string `yaml:"things"`
}

// HTTPConfig is the report endpoint's own listener; empty Listen serves
// none (the handler can still be mounted on the API server).
type HTTPConfig struct {
	Listen string `yaml:"listen"`
}

// DefaultConfig is an embedded broker on the MQTT port, AWS's throttle
// and limits, and batches of up to 1000 metrics or one second.
func DefaultConfig() Config {
	return Config{
		MQTT:              MQTTConfig{Mode: "embedded", Listen: ":1883", ClientID: "osprey-defender"},
		MinReportInterval: 5 * time.Minute,
		MaxThings:         100_000,
		MaxReportBytes:    128 << 10,
		MaxListEntries:    4096,
		BatchSize:         1000,
		FlushInterval:     time.Second,
		QueueSize:         1024,
	}
}

// Validate checks the configuration and names the key at fault.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("defender.%s: %s", key, fmt.Sprintf(format, a...)))
	}
	switch c.MQTT.Mode {
	case "embedded":
		if _, _, err := net.SplitHostPort(c.MQTT.Listen); err != nil {
			bad("mqtt.listen", "%q is not host:port: %v", c.MQTT.Listen, err)
		}
		if (c.MQTT.TLS.Cert == "") != (c.MQTT.TLS.Key == "") {
			bad("mqtt.tls", "cert and key go together")
		}
		if c.MQTT.TLS.ClientCA != "" && c.MQTT.TLS.Cert == "" {
			bad("mqtt.tls.client_ca", "needs mqtt.tls.cert and key")
		}
	case "external":
		if c.MQTT.Broker == "" {
			bad("mqtt.broker", "required in external mode")
		}
		if c.MQTT.ClientID == "" {
			bad("mqtt.client_id", "required in external mode")
		}
	case "off":
	default:
		bad("mqtt.mode", "%q is not embedded, external or off", c.MQTT.Mode)
	}
	for i, u := range c.MQTT.Users {
		if u.Username == "" {
			bad(fmt.Sprintf("mqtt.users[%d].username", i), "required")
		}
		for j, t := range u.Things {
			if err := checkThingName(t); err != nil {
				bad(fmt.Sprintf("mqtt.users[%d].things[%d]", i, j), "%v", err)
			}
		}
	}
	if c.HTTP.Listen != "" {
		if c.MQTT.TLS.ClientCA != "" && len(c.MQTT.Users) == 0 {
			bad("http.listen", "devices prove who they are with certificates (mqtt.tls.client_ca), which HTTP does not see: list mqtt.users for HTTP")
		}
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			bad("http.listen", "%q is not host:port: %v", c.HTTP.Listen, err)
		}
	}
	for i, p := range c.Cloud {
		if p == "" {
			bad(fmt.Sprintf("cloud[%d]", i), "empty path")
		}
	}
	if c.MinReportInterval < 0 {
		bad("min_report_interval", "must not be negative")
	}
	positive := map[string]int{"max_things": c.MaxThings, "max_report_bytes": c.MaxReportBytes,
		"max_list_entries": c.MaxListEntries, "batch_size": c.BatchSize, "queue_size": c.QueueSize}
	for _, k := range []string{"max_things", "max_report_bytes", "max_list_entries", "batch_size", "queue_size"} {
		if positive[k] <= 0 {
			bad(k, "must be positive")
		}
	}
	if c.FlushInterval <= 0 {
		bad("flush_interval", "must be positive")
	}
	return errors.Join(errs...)
}
