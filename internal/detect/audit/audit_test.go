package audit

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/detect"
)

func TestNew(t *testing.T) {
	ds, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range ds {
		names[d.Name()] = true
		_, evicts := d.(detect.Evictor)
		_, ticks := d.(detect.Ticker)
		if !evicts || !ticks {
			t.Errorf("%s: evictor %v ticker %v, want both", d.Name(), evicts, ticks)
		}
	}
	if len(ds) != 4 || len(names) != 4 {
		t.Errorf("%d checks, %d names; want 4 distinct", len(ds), len(names))
	}
	cfg := DefaultConfig()
	cfg.ClientIDs.Enabled, cfg.Cleartext.Enabled = false, false
	if ds, _ := New(cfg); len(ds) != 2 {
		t.Errorf("%d checks with two disabled, want 2", len(ds))
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		change     func(*Config)
	}{
		{"repeat", "repeat_every", func(c *Config) { c.RepeatEvery = 0 }},
		{"shared window", "device_certificate_shared: window", func(c *Config) { c.SharedCert.Window = 0 }},
		{"client id devices", "conflicting_client_ids: max_devices", func(c *Config) { c.ClientIDs.MaxDevices = 1 }},
		{"client id keys", "conflicting_client_ids: max_keys", func(c *Config) { c.ClientIDs.MaxKeys = 0 }},
		{"expiring days", "tls: expiring_days", func(c *Config) { c.TLS.ExpiringDays = -1 }},
		{"min version", "tls: min_version", func(c *Config) { c.TLS.MinVersion = "TLS1.2" }},
		{"tls keys", "tls: max_keys", func(c *Config) { c.TLS.MaxKeys = 0 }},
		{"unknown protocol", "cleartext_management: protocols[1]", func(c *Config) { c.Cleartext.Protocols = []string{"ftp", "gopher"} }},
		{"no protocols", "cleartext_management: protocols", func(c *Config) { c.Cleartext.Protocols = nil }},
		{"http without ports", "cleartext_management: http_ports", func(c *Config) { c.Cleartext.HTTPPorts = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			_, err := New(c)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
	t.Run("disabled checks are not checked", func(t *testing.T) {
		c := DefaultConfig()
		c.TLS = TLSConfig{}
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("no version check", func(t *testing.T) {
		c := DefaultConfig()
		c.TLS.MinVersion = ""
		if err := c.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestConfigYAML(t *testing.T) {
	c := DefaultConfig()
	src := "repeat_every: 5m\ntls: {expiring_days: 14, self_signed: true}\ncleartext_management: {protocols: [telnet, ftp]}\nconflicting_client_ids: {enabled: false}\n"
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.RepeatEvery != 5*time.Minute || c.TLS.ExpiringDays != 14 || !c.TLS.SelfSigned || c.TLS.MinRSABits != 2048 ||
		len(c.Cleartext.Protocols) != 2 || c.ClientIDs.Enabled || !c.SharedCert.Enabled {
		t.Errorf("decoded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	bad := yaml.NewDecoder(strings.NewReader("tls: {expiring_dayz: 3}\n"))
	bad.KnownFields(true)
	if err := bad.Decode(&c); err == nil {
		t.Error("an unknown key was accepted")
	}
}
