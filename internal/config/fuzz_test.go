package config

import (
	"strings"
	"testing"
)

// FuzzDecodeStrict: no YAML input panics, and every error names the file.
func FuzzDecodeStrict(f *testing.F) {
	f.Add("meter:\n  idle_tcp: 2m\n")
	f.Add("capture: {udp: {receive_buffer: 8MiB, vxlan: [\"0.0.0.0:4789\"]}}\n")
	f.Add("sensor: [1, 2]\n")
	f.Add("enrich: {intel: [{name: a, pth: b}, ~]}\ndetect: {profiles: {targets: {x: {tags: [iot]}}}}\n")
	f.Fuzz(func(t *testing.T, in string) {
		cfg := DefaultConfig()
		if err := decodeStrict("f.yaml", []byte(in), &cfg); err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
