package objects

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Paths = []string{"/var/log/flows"}
	good.S3 = []S3Config{{Bucket: "logs", Prefix: "AWSLogs/"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		key    string
	}{
		{"nothing to read", func(c *Config) { c.Paths, c.S3 = nil, nil }, "paths:"},
		{"empty path", func(c *Config) { c.Paths = []string{""} }, "paths[0]:"},
		{"bad glob", func(c *Config) { c.Paths = append(c.Paths, "/logs/[") }, "paths[1]:"},
		{"no settle when following", func(c *Config) { c.Follow, c.Settle = true, 0 }, "settle:"},
		{"no poll", func(c *Config) { c.Poll = 0 }, "poll:"},
		{"negative reorder window", func(c *Config) { c.ReorderWindow = -time.Second }, "reorder_window:"},
		{"no concurrency", func(c *Config) { c.Concurrency = 0 }, "concurrency:"},
		{"negative retries", func(c *Config) { c.Retries = -1 }, "retries:"},
		{"no backoff", func(c *Config) { c.Backoff = 0 }, "backoff:"},
		{"no bucket", func(c *Config) { c.S3[0].Bucket = "" }, "s3[0].bucket:"},
		{"the same prefix twice", func(c *Config) { c.S3 = append(c.S3, c.S3[0]) }, "s3[1].prefix:"},
		{"endpoint without a scheme", func(c *Config) { c.S3[0].Endpoint = "minio:9000" }, "s3[0].endpoint:"},
		{"access key without secret", func(c *Config) { c.S3[0].AccessKey = "AKID" }, "s3[0].access_key:"},
		{"profile and keys", func(c *Config) { c.S3[0].Profile, c.S3[0].AccessKey, c.S3[0].SecretKey = "p", "a", "s" }, "s3[0].profile:"},
		{"page too large", func(c *Config) { c.S3[0].MaxKeys = 5000 }, "s3[0].max_keys:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Paths = append([]string(nil), good.Paths...)
			c.S3 = append([]S3Config(nil), good.S3...)
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.key) {
				t.Errorf("Validate() = %v, want an error starting %q", err, tc.key)
			}
		})
	}
}

func TestNewNeedsARegionForAWS(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	cfg := DefaultConfig()
	cfg.S3 = []S3Config{{Bucket: "logs", AccessKey: "a", SecretKey: "s"}}
	if _, err := New(cfg, newRecorder().handle, Deps{}); err == nil || !strings.Contains(err.Error(), "s3[0]: region") {
		t.Errorf("New = %v, want an error naming s3[0].region", err)
	}
}
