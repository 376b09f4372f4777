package deliver

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/dustin/go-humanize"
	"gopkg.in/yaml.v3"
)

// Config is what every output has, whatever its type: its name, its
// route (kinds and filters), its queue, batching, retries and dead
// letter. The type's own keys (webhook: url, secret, …) are in its
// subpackage's Config. Error messages name keys relative to the output.
type Config struct {
	// Name names the output in metrics, logs and its queue directory.
	Name string `yaml:"name"`
	// Type selects the output's transport: webhook, …
	Type string `yaml:"type"`
	// Kinds are what flows through: findings (the default), sessions,
	// metrics.
	Kinds  []string    `yaml:"kinds"`
	Filter Filter      `yaml:",inline"`
	Queue  QueueConfig `yaml:"queue"`
	Batch  BatchConfig `yaml:"batch"`
	Retry  RetryConfig `yaml:"retry"`
	// DeadLetter is the JSON-lines file that keeps records the receiver
	// refused or that failed retry.max_attempts times; "" is
	// dead-letter.jsonl in the queue directory.
	DeadLetter string `yaml:"dead_letter"`
	// DrainTimeout is how long stopping waits for the queue to empty
	// before leaving the rest for the next start.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// Filter selects events; empty lists let everything through. See
// docs/outputs.md for what each key means for each kind.
type Filter struct {
	// MinSeverity keeps findings at or above it: info, low, medium,
	// high, critical.
	MinSeverity string `yaml:"min_severity"`
	// Detectors keeps findings of these detectors (horizontal-scan,
	// policy, …).
	Detectors []string `yaml:"detectors"`
	// States keeps findings in these states (active, acknowledged,
	// cleared, false_positive, benign_positive).
	States []string `yaml:"states"`
	// Tags keeps events about an endpoint, asset or entity with one of
	// these tags.
	Tags []string `yaml:"tags"`
	// Tenants keeps events of these tenants.
	Tenants []string `yaml:"tenants"`
}

// QueueConfig bounds an output's on-disk queue.
type QueueConfig struct {
	// Dir holds the queue and, by default, the dead-letter file; ""
	// is outputs/<name> under store.path.
	Dir string `yaml:"dir"`
	// MaxRecords and MaxBytes bound the queue; past either the oldest
	// records are dropped (osprey_output_dropped_total{reason="queue_full"}).
	MaxRecords int  `yaml:"max_records"`
	MaxBytes   Size `yaml:"max_bytes"`
}

// BatchConfig bounds what one Send carries. MaxWait is how long a batch
// that is not full waits for more records; 0 sends what is queued at
// once (batches still form while a send is under way).
type BatchConfig struct {
	MaxRecords int           `yaml:"max_records"`
	MaxBytes   Size          `yaml:"max_bytes"`
	MaxWait    time.Duration `yaml:"max_wait"`
}

// RetryConfig is the backoff between attempts: exponential from
// InitialBackoff, capped at MaxBackoff, with full jitter. MaxAttempts is
// how many failures of one batch in a row send it to the dead-letter
// file; an unavailable receiver is retried without limit.
type RetryConfig struct {
	MaxAttempts    int           `yaml:"max_attempts"`
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
}

// DefaultConfig routes findings; a queue of at most a million records
// or 1 GiB; batches of up to 500 records or 4 MiB sent as soon as they
// are queued; ten attempts, 0.5 s to 1 min apart.
func DefaultConfig() Config {
	return Config{
		Kinds:        []string{"findings"},
		Queue:        QueueConfig{MaxRecords: 1_000_000, MaxBytes: 1 << 30},
		Batch:        BatchConfig{MaxRecords: 500, MaxBytes: 4 << 20},
		Retry:        RetryConfig{MaxAttempts: 10, InitialBackoff: 500 * time.Millisecond, MaxBackoff: time.Minute},
		DrainTimeout: 5 * time.Second,
	}
}

// validName keeps names fit for a directory and a metric label.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var (
	severities = []string{"info", "low", "medium", "high", "critical"}
	states     = []string{"active", "acknowledged", "cleared", "false_positive", "benign_positive"}
)

// Validate checks the configuration; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if !validName.MatchString(c.Name) {
		bad("name", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, got %q", c.Name)
	}
	if c.Type == "" {
		bad("type", "required")
	}
	if len(c.Kinds) == 0 {
		bad("kinds", "must name at least one of findings, sessions, metrics")
	}
	for i, k := range c.Kinds {
		if _, err := ParseKind(k); err != nil {
			bad(fmt.Sprintf("kinds[%d]", i), "%v", err)
		}
	}
	if s := c.Filter.MinSeverity; s != "" && !slices.Contains(severities, s) {
		bad("min_severity", "must be info, low, medium, high or critical, got %q", s)
	}
	for i, s := range c.Filter.States {
		if !slices.Contains(states, s) {
			bad(fmt.Sprintf("states[%d]", i), "must be active, acknowledged, cleared, false_positive or benign_positive, got %q", s)
		}
	}
	for key, list := range map[string][]string{"detectors": c.Filter.Detectors, "tags": c.Filter.Tags, "tenants": c.Filter.Tenants} {
		for i, v := range list {
			if v == "" {
				bad(fmt.Sprintf("%s[%d]", key, i), "empty")
			}
		}
	}
	if c.Queue.MaxRecords < 1 {
		bad("queue.max_records", "must be at least 1, got %d", c.Queue.MaxRecords)
	}
	if c.Queue.MaxBytes < 4096 {
		bad("queue.max_bytes", "must be at least 4KiB, got %d", c.Queue.MaxBytes)
	}
	if c.Batch.MaxRecords < 1 {
		bad("batch.max_records", "must be at least 1, got %d", c.Batch.MaxRecords)
	}
	if c.Batch.MaxBytes < 1 {
		bad("batch.max_bytes", "must be at least 1, got %d", c.Batch.MaxBytes)
	}
	if c.Batch.MaxWait < 0 {
		bad("batch.max_wait", "must be ≥ 0, got %v", c.Batch.MaxWait)
	}
	if c.Retry.MaxAttempts < 1 {
		bad("retry.max_attempts", "must be at least 1, got %d", c.Retry.MaxAttempts)
	}
	if c.Retry.InitialBackoff <= 0 {
		bad("retry.initial_backoff", "must be a positive duration, got %v", c.Retry.InitialBackoff)
	}
	if c.Retry.MaxBackoff < c.Retry.InitialBackoff {
		bad("retry.max_backoff", "must be at least retry.initial_backoff (%v), got %v", c.Retry.InitialBackoff, c.Retry.MaxBackoff)
	}
	if c.DrainTimeout < 0 {
		bad("drain_timeout", "must be ≥ 0, got %v", c.DrainTimeout)
	}
	return errors.Join(errs...)
}

// Size is a number of bytes that YAML may write with a unit ("256MiB",
// "1GB") or as a plain number.
type Size int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	// go-humanize reads both SI and IEC units, as users write them.
	v, err := humanize.ParseBytes(n.Value)
	if err != nil || v > 1<<62 {
		return fmt.Errorf("invalid size %q (want e.g. 1048576, 1MiB or 1MB)", n.Value)
	}
	*s = Size(v)
	return nil
}

// MarshalYAML writes the size as a plain number of bytes.
func (s Size) MarshalYAML() (any, error) { return int64(s), nil }
