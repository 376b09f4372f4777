package objects

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// Config says where the objects are and how they are read. Error messages
// name keys relative to this section (paths[0], s3[1].bucket); the caller
// adds the section's own path.
type Config struct {
	// Paths are files, directories (read recursively) or glob patterns
	// (a pattern matching a directory takes it whole).
	Paths []string `yaml:"paths"`
	// Follow keeps watching Paths and polling S3 after the objects there
	// now are read; without it a run reads what is there and returns.
	Follow bool `yaml:"follow"`
	// Settle is how long a followed file's size and modification time
	// must stay the same before it is read: files copied in place are
	// read only once their writer is done.
	Settle time.Duration `yaml:"settle"`
	S3     []S3Config    `yaml:"s3"`
	// Checkpoint is the file that remembers which objects were read, so
	// a restart reads only the rest; "" remembers nothing across runs.
	Checkpoint string `yaml:"checkpoint"`
	// Poll is how often S3 prefixes are listed and followed directories
	// are rescanned (the fallback for file systems without change events).
	Poll time.Duration `yaml:"poll"`
	// ReorderWindow is how late an S3 object may appear after objects
	// whose keys sort after its own and still be read; see doc.go.
	ReorderWindow time.Duration `yaml:"reorder_window"`
	// Concurrency bounds the objects being read at once.
	Concurrency int `yaml:"concurrency"`
	// Retries is how many more times an object whose handler failed is
	// tried, Backoff apart at first and doubling, before it is given up.
	Retries int           `yaml:"retries"`
	Backoff time.Duration `yaml:"backoff"`
	// TempDir holds S3 objects downloaded for random access (Parquet);
	// "" is the system's temporary directory.
	TempDir string `yaml:"temp_dir"`
}

// S3Config is one bucket and prefix of Amazon S3 or of a store that
// speaks its API (MinIO, Ceph, R2, …).
type S3Config struct {
	Bucket string `yaml:"bucket"`
	// Prefix limits the listing, as in AWSLogs/123456789012/vpcflowlogs/.
	Prefix string `yaml:"prefix"`
	// Region of the bucket; "" takes it from the environment or profile.
	Region string `yaml:"region"`
	// Endpoint is the URL of an S3-compatible store; "" is AWS.
	Endpoint string `yaml:"endpoint"`
	// PathStyle addresses the bucket in the URL's path rather than its
	// host name, as most S3-compatible stores need.
	PathStyle bool `yaml:"path_style"`
	// Profile names a shared-config profile; AccessKey and SecretKey
	// (with SessionToken for temporary keys) replace the default
	// credential chain.
	Profile      string `yaml:"profile"`
	AccessKey    string `yaml:"access_key"`
	SecretKey    string `yaml:"secret_key"`
	SessionToken string `yaml:"session_token"`
	// MaxKeys is the listing's page size; 0 is the server's (1000 on AWS).
	MaxKeys int32 `yaml:"max_keys"`
}

// maxBackoff caps the doubling wait between attempts.
const maxBackoff = time.Minute

// DefaultConfig reads two objects at once, lists S3 every minute and
// waits five seconds for a followed file to settle. The reorder window of
// an hour covers AWS's flow-log delivery, which can lag by up to about
// ten minutes per log group and interleaves log groups in one prefix.
func DefaultConfig() Config {
	return Config{
		Settle:        5 * time.Second,
		Poll:          time.Minute,
		ReorderWindow: time.Hour,
		Concurrency:   2,
		Retries:       3,
		Backoff:       time.Second,
	}
}

// Validate checks the configuration; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	if len(c.Paths) == 0 && len(c.S3) == 0 {
		bad("paths", "no paths and no s3 buckets: nothing to read")
	}
	for i, p := range c.Paths {
		if p == "" {
			bad(fmt.Sprintf("paths[%d]", i), "empty path")
		} else if _, err := filepath.Match(p, ""); err != nil {
			bad(fmt.Sprintf("paths[%d]", i), "bad glob pattern %q", p)
		}
	}
	if c.Follow && c.Settle <= 0 {
		bad("settle", "must be a positive duration when following, got %v", c.Settle)
	}
	if c.Poll <= 0 {
		bad("poll", "must be a positive duration, got %v", c.Poll)
	}
	if c.ReorderWindow < 0 {
		bad("reorder_window", "must be ≥ 0, got %v", c.ReorderWindow)
	}
	if c.Concurrency < 1 || c.Concurrency > 256 {
		bad("concurrency", "must be within 1..256, got %d", c.Concurrency)
	}
	if c.Retries < 0 {
		bad("retries", "must be ≥ 0, got %d", c.Retries)
	}
	if c.Backoff <= 0 {
		bad("backoff", "must be a positive duration, got %v", c.Backoff)
	}
	seen := map[string]int{}
	for i, s := range c.S3 {
		key := func(field string) string { return fmt.Sprintf("s3[%d].%s", i, field) }
		if s.Bucket == "" {
			bad(key("bucket"), "required")
		}
		if j, dup := seen[s.id()]; dup {
			bad(key("prefix"), "s3[%d] already reads %s; the checkpoint keeps one position per bucket and prefix", j, s.id())
		}
		seen[s.id()] = i
		if s.Endpoint != "" {
			if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad(key("endpoint"), "must be an http:// or https:// URL, got %q", s.Endpoint)
			}
		}
		if (s.AccessKey == "") != (s.SecretKey == "") {
			bad(key("access_key"), "access_key and secret_key go together")
		}
		if s.Profile != "" && s.AccessKey != "" {
			bad(key("profile"), "give a profile or static keys, not both")
		}
		if s.MaxKeys < 0 || s.MaxKeys > 1000 {
			bad(key("max_keys"), "must be within 0..1000, got %d", s.MaxKeys)
		}
	}
	return errors.Join(errs...)
}

// id names the bucket and prefix in the checkpoint, the metrics and
// object names.
func (s S3Config) id() string { return "s3://" + s.Bucket + "/" + s.Prefix }
