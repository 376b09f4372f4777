package ocsf

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	file := func(mod func(c *Config)) func(c *Config) {
		return func(c *Config) { c.Destination, c.File.Path = "file", "/var/log/osprey/ocsf-{class}.jsonl"; mod(c) }
	}
	s3 := func(mod func(c *Config)) func(c *Config) {
		return func(c *Config) { c.Destination, c.S3.Bucket, c.S3.AccountID = "s3", "lake", "123456789012"; mod(c) }
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"file", file(func(c *Config) {}), ""},
		{"s3", s3(func(c *Config) {}), ""},
		{"no destination", func(c *Config) {}, "destination: required"},
		{"unknown destination", func(c *Config) { c.Destination = "kafka" }, "destination: must be file or s3"},
		{"no path", file(func(c *Config) { c.File.Path = "" }), "file.path: required"},
		{"directory", file(func(c *Config) { c.File.Path = "/var/log/" }), "file.path: must name a file"},
		{"placeholder", file(func(c *Config) { c.File.Path = "/x/{day}.jsonl" }), "file.path: unknown placeholder {day}"},
		{"small files", file(func(c *Config) { c.File.MaxBytes = 100 }), "file.max_bytes:"},
		{"max_age", file(func(c *Config) { c.File.MaxAge = time.Millisecond }), "file.max_age:"},
		{"no age rotation", file(func(c *Config) { c.File.MaxAge = 0 }), ""},
		{"max_files", file(func(c *Config) { c.File.MaxFiles = -1 }), "file.max_files:"},
		{"no bucket", s3(func(c *Config) { c.S3.Bucket = "" }), "s3.bucket: required"},
		{"no uuid", s3(func(c *Config) { c.S3.KeyTemplate = "{day}/{class}.json" }), "s3.key_template: must contain {uuid}"},
		{"unknown placeholder", s3(func(c *Config) { c.S3.KeyTemplate = "{tenant}/{uuid}" }), "s3.key_template: unknown placeholder {tenant}"},
		{"no account", s3(func(c *Config) { c.S3.AccountID = "" }), "s3.account_id: required by {account_id}"},
		{"no account needed", s3(func(c *Config) { c.S3.AccountID, c.S3.KeyTemplate = "", "{class}/{uuid}{ext}" }), ""},
		{"region for an endpoint", s3(func(c *Config) { c.S3.Endpoint = "http://minio:9000" }), "s3.region: required by {region}"},
		{"endpoint", s3(func(c *Config) { c.S3.Endpoint, c.S3.Region = "minio:9000", "x" }), "s3.endpoint:"},
		{"prefix", s3(func(c *Config) { c.S3.Prefix = "/lake" }), "s3.prefix:"},
		{"half a key", s3(func(c *Config) { c.S3.AccessKey = "AKID" }), "s3.access_key:"},
		{"profile and keys", s3(func(c *Config) { c.S3.Profile, c.S3.AccessKey, c.S3.SecretKey = "p", "a", "s" }), "s3.profile:"},
		{"timeout", s3(func(c *Config) { c.S3.Timeout = 0 }), "s3.timeout:"},
		{"parquet", s3(func(c *Config) { c.S3.Format = "parquet" }), ""},
		{"format", s3(func(c *Config) { c.S3.Format = "avro" }), "s3.format: must be json or parquet"},
		{"parquet of one class", s3(func(c *Config) { c.S3.Format, c.S3.KeyTemplate = "parquet", "{day}/{uuid}{ext}" }), "s3.key_template: must contain {class} or {class_uid} with format parquet"},
		{"vendor", file(func(c *Config) { c.VendorName = "" }), "vendor_name: required"},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestConfigYAML: the keys of docs/outputs-ocsf.md decode over the
// defaults, strictly.
func TestConfigYAML(t *testing.T) {
	const doc = `
destination: file
vendor_name: Example Corp
unmapped: false
file:
  path: /var/log/osprey/ocsf-{class}.jsonl
  max_bytes: 256MiB
  max_age: 30m
  gzip: false
  max_files: 48
s3:
  bucket: lake
  prefix: ext/osprey
  key_template: "{class}/{uuid}{ext}"
  account_id: "123456789012"
  region: eu-west-1
  endpoint: "http://minio:9000"
  path_style: true
  access_key: a
  secret_key: s
  format: parquet
  gzip: false
  timeout: 5s
`
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Destination: "file", VendorName: "Example Corp",
		File: FileConfig{Path: "/var/log/osprey/ocsf-{class}.jsonl", MaxBytes: 256 << 20, MaxAge: 30 * time.Minute, MaxFiles: 48},
		S3: S3Config{Bucket: "lake", Prefix: "ext/osprey", KeyTemplate: "{class}/{uuid}{ext}", AccountID: "123456789012", Region: "eu-west-1",
			Endpoint: "http://minio:9000", PathStyle: true, AccessKey: "a", SecretKey: "s", Format: "parquet", Timeout: 5 * time.Second},
	}
	if c != want {
		t.Errorf("decoded %+v\nwant    %+v", c, want)
	}
}
