package ocsf

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Config is the ocsf section of an output (type: ocsf). Error messages
// name keys relative to the section.
type Config struct {
	// Destination is where the events go: file (JSON lines, rotated) or
	// s3 (objects of JSON lines in Amazon S3 or an S3-compatible store).
	Destination string     `yaml:"destination"`
	File        FileConfig `yaml:"file"`
	S3          S3Config   `yaml:"s3"`
	// VendorName and ProductVersion fill metadata.product; an empty
	// version is the binary's module version.
	VendorName     string `yaml:"vendor_name"`
	ProductVersion string `yaml:"product_version"`
	// Unmapped keeps what Osprey knows that the class has no attribute
	// for (conn_state history, DNS, tags, intel, verdicts) under the
	// event's "unmapped" object.
	Unmapped bool `yaml:"unmapped"`
}

// FileConfig writes events as JSON lines to a file that is rotated by
// size and age: the file is renamed with the time it was opened
// (ocsf.jsonl → ocsf-20260301T120000.000Z.jsonl, then gzipped when
// Gzip is set) and a new one started.
type FileConfig struct {
	// Path of the file being written; "{class}" in it is replaced by
	// network_activity or detection_finding to keep the classes apart.
	Path string `yaml:"path"`
	// MaxBytes rotates the file before a batch would take it past this
	// size; MaxAge rotates a file opened this long ago (0: never by age).
	MaxBytes deliver.Size  `yaml:"max_bytes"`
	MaxAge   time.Duration `yaml:"max_age"`
	// Gzip compresses rotated files (name.jsonl.gz).
	Gzip bool `yaml:"gzip"`
	// MaxFiles keeps at most this many rotated files per path, deleting
	// the oldest; 0 keeps them all.
	MaxFiles int `yaml:"max_files"`
}

// S3Config writes each batch as objects of JSON lines, one per class
// and event day, with PutObject.
type S3Config struct {
	Bucket string `yaml:"bucket"`
	// Prefix is put before every key ("osprey/" or "ext/osprey/").
	Prefix string `yaml:"prefix"`
	// KeyTemplate is the rest of the key; its placeholders are {region},
	// {account_id}, {day} (YYYYMMDD of the events' time), {hour} (HH),
	// {class} (network_activity, detection_finding), {class_uid}
	// (4001, 2004), {uuid} (a new UUIDv7 per object, required) and
	// {ext} (.json, .json.gz or .parquet).
	KeyTemplate string `yaml:"key_template"`
	// AccountID fills {account_id}: the AWS account the data is about,
	// as Security Lake lays out its partitions.
	AccountID string `yaml:"account_id"`
	// Region of the bucket, and {region}; "" takes it from the
	// environment or profile.
	Region string `yaml:"region"`
	// Endpoint is the URL of an S3-compatible store (MinIO, Ceph, R2);
	// "" is AWS.
	Endpoint string `yaml:"endpoint"`
	// PathStyle addresses the bucket in the URL's path, as most
	// S3-compatible stores need.
	PathStyle bool `yaml:"path_style"`
	// Profile names a shared-config profile; AccessKey and SecretKey
	// (with SessionToken for temporary keys) replace the default
	// credential chain.
	Profile      string `yaml:"profile"`
	AccessKey    string `yaml:"access_key"`
	SecretKey    string `yaml:"secret_key"`
	SessionToken string `yaml:"session_token"`
	// Format is json (JSON lines) or parquet, one class an object, in
	// OCSF's nesting: what AWS Security Lake takes from custom sources.
	Format string `yaml:"format"`
	// Gzip compresses each JSON object (Content-Type application/gzip);
	// Parquet is compressed inside, with zstd.
	Gzip bool `yaml:"gzip"`
	// Timeout bounds one PutObject.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultKeyTemplate lays objects out as AWS Security Lake lays out its
// sources' partitions.
const DefaultKeyTemplate = "region={region}/accountId={account_id}/eventDay={day}/{class}/{uuid}{ext}"

// DefaultConfig rotates files at 100 MiB or every hour and gzips them;
// S3 objects are gzipped, laid out as DefaultKeyTemplate, and a
// PutObject gets 30 s. The vendor is "Osprey" and unmapped fields are
// kept.
func DefaultConfig() Config {
	return Config{
		File:       FileConfig{MaxBytes: 100 << 20, MaxAge: time.Hour, Gzip: true},
		S3:         S3Config{KeyTemplate: DefaultKeyTemplate, Format: "json", Gzip: true, Timeout: 30 * time.Second},
		VendorName: "Osprey",
		Unmapped:   true,
	}
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

var placeholders = []string{"{region}", "{account_id}", "{day}", "{hour}", "{class}", "{class_uid}", "{uuid}", "{ext}"}

// Validate checks the section; errors name the key at fault.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{key}, args...)...))
	}
	switch c.Destination {
	case "file":
		f := c.File
		if f.Path == "" {
			bad("file.path", "required")
		} else if strings.HasSuffix(f.Path, "/") {
			bad("file.path", "must name a file, got the directory %q", f.Path)
		}
		for _, p := range placeholder.FindAllString(f.Path, -1) {
			if p != "{class}" {
				bad("file.path", "unknown placeholder %s (only {class})", p)
			}
		}
		if f.MaxBytes < 4096 {
			bad("file.max_bytes", "must be at least 4KiB, got %d", f.MaxBytes)
		}
		if f.MaxAge < 0 || (f.MaxAge > 0 && f.MaxAge < time.Second) {
			bad("file.max_age", "must be 0 (no rotation by age) or at least 1s, got %v", f.MaxAge)
		}
		if f.MaxFiles < 0 {
			bad("file.max_files", "must be ≥ 0, got %d", f.MaxFiles)
		}
	case "s3":
		s := c.S3
		if s.Bucket == "" {
			bad("s3.bucket", "required")
		}
		used := placeholder.FindAllString(s.KeyTemplate, -1)
		if !slices.Contains(used, "{uuid}") {
			bad("s3.key_template", "must contain {uuid}, or objects would replace each other")
		}
		for _, p := range used {
			if !slices.Contains(placeholders, p) {
				bad("s3.key_template", "unknown placeholder %s (known: %s)", p, strings.Join(placeholders, " "))
			}
		}
		switch s.Format {
		case "json":
		case "parquet":
			if !slices.Contains(used, "{class}") && !slices.Contains(used, "{class_uid}") {
				bad("s3.key_template", "must contain {class} or {class_uid} with format parquet: an object holds one class")
			}
		default:
			bad("s3.format", "must be json or parquet, got %q", s.Format)
		}
		if slices.Contains(used, "{account_id}") && s.AccountID == "" {
			bad("s3.account_id", "required by {account_id} in s3.key_template")
		}
		if slices.Contains(used, "{region}") && s.Region == "" && s.Endpoint != "" {
			bad("s3.region", "required by {region} in s3.key_template with an endpoint")
		}
		if strings.HasPrefix(s.Prefix, "/") {
			bad("s3.prefix", "must not start with '/', got %q", s.Prefix)
		}
		if s.Endpoint != "" {
			if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("s3.endpoint", "must be an http:// or https:// URL, got %q", s.Endpoint)
			}
		}
		if (s.AccessKey == "") != (s.SecretKey == "") {
			bad("s3.access_key", "access_key and secret_key go together")
		}
		if s.Profile != "" && s.AccessKey != "" {
			bad("s3.profile", "give a profile or static keys, not both")
		}
		if s.Timeout <= 0 {
			bad("s3.timeout", "must be a positive duration, got %v", s.Timeout)
		}
	case "":
		bad("destination", "required: file or s3")
	default:
		bad("destination", "must be file or s3, got %q", c.Destination)
	}
	if c.VendorName == "" {
		bad("vendor_name", "required (metadata.product.vendor_name is required by OCSF)")
	}
	return errors.Join(errs...)
}
