package syslog

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Config is the syslog section of an output (type: syslog). Error
// messages name keys relative to the section.
type Config struct {
	// Network is udp, tcp or tls.
	Network string `yaml:"network"`
	// Address is the receiver's host:port.
	Address string `yaml:"address"`
	// Framing of messages on tcp and tls: octet_counting (RFC 6587 §3.4.1,
	// "<length> <message>") or non_transparent (each message ends with a
	// line feed, §3.4.2). UDP sends one message per datagram.
	Framing string `yaml:"framing"`
	// Format of the message's MSG part: cef (ArcSight Common Event
	// Format) or json (the record's JSON, docs/schema.md).
	Format string `yaml:"format"`
	// Facility is a name (kern, user, …, local0 … local7) or a number
	// 0-23; the severity comes from the record.
	Facility string `yaml:"facility"`
	// Hostname is the HOSTNAME field; empty is this machine's name.
	Hostname string `yaml:"hostname"`
	// AppName is the APP-NAME field.
	AppName string `yaml:"app_name"`
	// StructuredData adds an [osprey@<enterprise_number> …] element with
	// the record's tenant, detector, rule, severity and state.
	StructuredData bool `yaml:"structured_data"`
	// EnterpriseNumber is the private enterprise number of the
	// structured data's SD-ID (32473 is the number RFC 5612 reserves for
	// documentation).
	EnterpriseNumber uint32 `yaml:"enterprise_number"`
	// DeviceVersion is the CEF header's Device Version; empty is the
	// version the binary was built as.
	DeviceVersion string `yaml:"device_version"`
	// MaxMessageSize bounds a UDP datagram; longer messages are cut (on a
	// UTF-8 boundary) and say so in their structured data. TCP and TLS
	// send messages whole.
	MaxMessageSize int `yaml:"max_message_size"`
	// Timeout bounds connecting (TLS handshake included) and writing one
	// batch.
	Timeout time.Duration `yaml:"timeout"`
	TLS     TLS           `yaml:"tls"`
}

// TLS configures network: tls. The system's roots are trusted unless
// CAFile is set; CertFile and KeyFile present a client certificate.
// TLS 1.2 is the oldest version spoken.
type TLS = deliver.TLS

// DefaultConfig sends CEF over TCP with octet counting, as facility
// local4 and app "osprey", with structured data under the example
// enterprise number 32473; UDP datagrams of at most 2048 bytes; ten
// seconds to connect or write.
func DefaultConfig() Config {
	return Config{
		Network:          "tcp",
		Framing:          FramingOctetCounting,
		Format:           FormatCEF,
		Facility:         "local4",
		AppName:          "osprey",
		StructuredData:   true,
		EnterpriseNumber: 32473,
		MaxMessageSize:   2048,
		Timeout:          10 * time.Second,
	}
}

// Framings and formats, as the configuration names them.
const (
	FramingOctetCounting  = "octet_counting"
	FramingNonTransparent = "non_transparent"
	FormatCEF             = "cef"
	FormatJSON            = "json"
)

// facilities are RFC 5424's facility codes by their usual names.
var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14, "solaris-cron": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// facilityCode reads a facility name or number.
func facilityCode(s string) (int, error) {
	if c, ok := facilities[s]; ok {
		return c, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 23 {
		return n, nil
	}
	return 0, fmt.Errorf("must be a facility name (kern, user, daemon, auth, local0 … local7, …) or 0-23, got %q", s)
}

// Validate checks the section; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	switch c.Network {
	case "udp", "tcp", "tls":
	default:
		bad("network", "must be udp, tcp or tls, got %q", c.Network)
	}
	if host, port, err := net.SplitHostPort(c.Address); err != nil || host == "" || port == "" {
		bad("address", "must be host:port, got %q", c.Address)
	}
	if c.Framing != FramingOctetCounting && c.Framing != FramingNonTransparent {
		bad("framing", "must be %s or %s, got %q", FramingOctetCounting, FramingNonTransparent, c.Framing)
	}
	if c.Format != FormatCEF && c.Format != FormatJSON {
		bad("format", "must be %s or %s, got %q", FormatCEF, FormatJSON, c.Format)
	}
	if _, err := facilityCode(c.Facility); err != nil {
		bad("facility", "%v", err)
	}
	if !printable(c.Hostname, 255) {
		bad("hostname", "must be at most 255 printable ASCII characters without spaces, got %q", c.Hostname)
	}
	if c.AppName == "" || !printable(c.AppName, 48) {
		bad("app_name", "must be 1-48 printable ASCII characters without spaces, got %q", c.AppName)
	}
	if c.StructuredData && c.EnterpriseNumber == 0 {
		bad("enterprise_number", "required with structured_data")
	}
	// 480 octets is what RFC 5426 §3.2 says every receiver takes.
	if c.MaxMessageSize < 480 || c.MaxMessageSize > 65507 {
		bad("max_message_size", "must be 480-65507 bytes, got %d", c.MaxMessageSize)
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be a positive duration, got %v", c.Timeout)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.cert_file", "cert_file and key_file go together")
	}
	if c.Network != "tls" && c.TLS != (TLS{}) {
		bad("tls", "set, but network is %q", c.Network)
	}
	return errors.Join(errs...)
}

// printable says s is at most n characters of PRINTUSASCII (RFC 5424:
// 33-126), as header fields must be.
func printable(s string, n int) bool {
	if len(s) > n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}
