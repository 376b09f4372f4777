package hec

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Config is the splunk_hec section of an output (type: splunk_hec).
// Error messages name keys relative to the section. Batching by time is
// the output's batch.max_wait; max_batch_events and max_batch_bytes
// bound each request to HEC within the output's batch.
type Config struct {
	// URL is the HEC endpoint. A URL without a path
	// ("https://splunk.example:8088") posts to /services/collector/event.
	URL string `yaml:"url"`
	// Token (or the first line of TokenFile) is the HEC token, sent as
	// "Authorization: Splunk <token>". One of the two is required.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// Host is every event's host; "" is a session's sensor name when it
	// has one, else the machine's host name.
	Host string `yaml:"host"`
	// Source is every event's source.
	Source string `yaml:"source"`
	// Sourcetypes is the sourcetype of each kind, keyed findings,
	// sessions or metrics; a kind left out keeps its default.
	Sourcetypes map[string]string `yaml:"sourcetypes"`
	// Index is every event's index; "" leaves it to the token's default
	// index.
	Index string `yaml:"index"`
	// Fields are the indexed fields of each kind, keyed findings,
	// sessions, metrics (docs/outputs-hec.md lists the names); a kind
	// left out keeps its defaults, an empty list sends none.
	Fields map[string][]string `yaml:"fields"`
	// Gzip compresses request bodies (Content-Encoding: gzip).
	Gzip bool `yaml:"gzip"`
	// MaxBatchEvents and MaxBatchBytes (uncompressed) bound one request;
	// an output batch larger than either is sent in several requests.
	MaxBatchEvents int          `yaml:"max_batch_events"`
	MaxBatchBytes  deliver.Size `yaml:"max_batch_bytes"`
	// Channel is the X-Splunk-Request-Channel GUID; "" is a new random
	// one each time the output starts.
	Channel string `yaml:"channel"`
	// Ack waits for indexer acknowledgement: records leave the queue
	// only once HEC says they are indexed. The token must have indexer
	// acknowledgement enabled.
	Ack bool `yaml:"ack"`
	// AckURL is the acknowledgement endpoint; "" is
	// /services/collector/ack next to URL.
	AckURL string `yaml:"ack_url"`
	// AckInterval is the longest wait between two acknowledgement
	// queries (the first comes sooner); AckTimeout how long a request's
	// events may stay unacknowledged before they are sent again.
	AckInterval time.Duration `yaml:"ack_interval"`
	AckTimeout  time.Duration `yaml:"ack_timeout"`
	// Timeout bounds one HTTP request, connection and response included.
	Timeout time.Duration `yaml:"timeout"`
	TLS     TLS           `yaml:"tls"`
}

// TLS configures https:// endpoints. The system's roots are trusted
// unless CAFile is set; CertFile and KeyFile present a client
// certificate.
type TLS = deliver.TLS

// DefaultSourcetypes are the sourcetypes of each kind.
func DefaultSourcetypes() map[string]string {
	return map[string]string{"findings": "osprey:finding", "sessions": "osprey:session", "metrics": "osprey:metric"}
}

// DefaultFields are the indexed fields of each kind: what SOC searches
// filter on, named as Splunk's Common Information Model names them
// where it has a name (src, dest, dest_port, transport, app).
func DefaultFields() map[string][]string {
	return map[string][]string{
		"findings": {"tenant", "detector", "rule", "severity", "state"},
		"sessions": {"tenant", "src", "dest", "dest_port", "transport", "app"},
		"metrics":  {"tenant", "device", "metric"},
	}
}

// DefaultConfig sends source "osprey" with the default sourcetypes and
// fields, gzipped, at most 1000 events or 1 MiB per request, without
// indexer acknowledgement (when enabled: queried up to every second,
// for up to a minute); thirty seconds per request.
func DefaultConfig() Config {
	return Config{
		Source:         "osprey",
		Sourcetypes:    DefaultSourcetypes(),
		Fields:         DefaultFields(),
		Gzip:           true,
		MaxBatchEvents: 1000,
		MaxBatchBytes:  1 << 20,
		AckInterval:    time.Second,
		AckTimeout:     time.Minute,
		Timeout:        30 * time.Second,
	}
}

// Splunk index names: lowercase letters, digits, '_' and '-', not
// starting with '_' or '-' (internal indexes are not for HEC).
var validIndex = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate checks the section; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("url", "must be an http:// or https:// URL, got %q", c.URL)
	} else if u.RawQuery != "" || u.User != nil {
		bad("url", "must not carry a query or credentials (the token goes in token or token_file)")
	}
	switch {
	case c.Token == "" && c.TokenFile == "":
		bad("token", "required (or token_file)")
	case c.Token != "" && c.TokenFile != "":
		bad("token_file", "give token or token_file, not both")
	case strings.ContainsAny(c.Token, " \t\r\n"):
		bad("token", "must not contain spaces or line breaks")
	}
	if strings.ContainsAny(c.Host, "\r\n") {
		bad("host", "must not contain line breaks")
	}
	if c.Source == "" {
		bad("source", "required")
	}
	for _, k := range sortedKeys(c.Sourcetypes) {
		if _, err := parseKindKey(k); err != nil {
			bad("sourcetypes."+k, "%v", err)
		} else if c.Sourcetypes[k] == "" {
			bad("sourcetypes."+k, "empty")
		}
	}
	if c.Index != "" && !validIndex.MatchString(c.Index) {
		bad("index", "must be lowercase letters, digits, '_' or '-', not starting with '_' or '-', got %q", c.Index)
	}
	for _, k := range sortedKeys(c.Fields) {
		kind, err := parseKindKey(k)
		if err != nil {
			bad("fields."+k, "%v", err)
			continue
		}
		for i, name := range c.Fields[k] {
			if _, ok := fieldsOf(kind)[name]; !ok {
				bad(fmt.Sprintf("fields.%s[%d]", k, i), "unknown %s field %q (known: %s)", kind, name, strings.Join(FieldNames(kind), ", "))
			} else if slices.Index(c.Fields[k], name) < i {
				bad(fmt.Sprintf("fields.%s[%d]", k, i), "%q is listed twice", name)
			}
		}
	}
	if c.MaxBatchEvents < 1 {
		bad("max_batch_events", "must be at least 1, got %d", c.MaxBatchEvents)
	}
	if c.MaxBatchBytes < 1024 {
		bad("max_batch_bytes", "must be at least 1KiB, got %d", c.MaxBatchBytes)
	}
	if c.Channel != "" {
		if _, err := uuid.Parse(c.Channel); err != nil {
			bad("channel", "must be a GUID (8-4-4-4-12 hex digits), got %q", c.Channel)
		}
	}
	if c.AckURL != "" {
		if u, err := url.Parse(c.AckURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("ack_url", "must be an http:// or https:// URL, got %q", c.AckURL)
		}
	} else if c.Ack && u != nil && !strings.Contains(u.Path, collectorPath) && u.Path != "" && u.Path != "/" {
		bad("ack_url", "required when ack is true and url's path (%q) is not under %s", u.Path, collectorPath)
	}
	if c.Ack {
		if c.AckInterval <= 0 {
			bad("ack_interval", "must be a positive duration, got %v", c.AckInterval)
		}
		if c.AckTimeout < c.AckInterval {
			bad("ack_timeout", "must be at least ack_interval (%v), got %v", c.AckInterval, c.AckTimeout)
		}
	}
	if c.Timeout <= 0 {
		bad("timeout", "must be a positive duration, got %v", c.Timeout)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.cert_file", "cert_file and key_file go together")
	}
	return errors.Join(errs...)
}

// kindKeys are the keys of sourcetypes and fields: the kinds by their
// plural (configuration) names only, so that a key the user writes
// replaces its default rather than sitting beside it.
var kindKeys = map[string]deliver.Kind{"findings": deliver.KindFinding, "sessions": deliver.KindSession, "metrics": deliver.KindMetric}

func parseKindKey(k string) (deliver.Kind, error) {
	if kind, ok := kindKeys[k]; ok {
		return kind, nil
	}
	return 0, fmt.Errorf("unknown kind %q (want findings, sessions or metrics)", k)
}

// collectorPath is where HEC's endpoints live.
const collectorPath = "/services/collector"

// endpoints are the event and acknowledgement URLs of a valid config.
func (c Config) endpoints() (event, ack string) {
	u, _ := url.Parse(c.URL)
	if u.Path == "" || u.Path == "/" {
		u.Path = collectorPath + "/event"
	}
	event = u.String()
	if c.AckURL != "" {
		return event, c.AckURL
	}
	if i := strings.Index(u.Path, collectorPath); i >= 0 {
		u.Path = u.Path[:i] + collectorPath + "/ack"
	}
	return event, u.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
