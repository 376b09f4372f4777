package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func parseDevices(t *testing.T, jsonl string) map[string]schema.Device {
	t.Helper()
	out := map[string]schema.Device{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var d schema.Device
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out[d.ID] = d
	}
	return out
}

// TestReadDevices builds the inventory of a generated plant and fleet
// (synth --iot) with read --devices and read --store, and checks what the
// inventory says against what the generator put there.
func TestReadDevices(t *testing.T) {
	dir := t.TempDir()
	pcap, data, file := filepath.Join(dir, "iot.pcap"), filepath.Join(dir, "data"), filepath.Join(dir, "devices.jsonl")
	if _, e, err := osprey(t, "synth", "--packets", "100000", "--flows", "2000", "--iot", "-o", pcap); err != nil {
		t.Fatal(err, e)
	}
	if _, e, err := osprey(t, "read", "--store", data, "--devices", file, pcap); err != nil {
		t.Fatal(err, e)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fromFile := parseDevices(t, string(b))
	out, e, err := osprey(t, "query", "--store", data, "--devices", "--limit", "100000", "-o", "json")
	if err != nil {
		t.Fatal(err, e)
	}
	fromStore := parseDevices(t, out)
	if len(fromStore) != len(fromFile) || len(fromFile) < 100 {
		t.Fatalf("%d devices in the store, %d in --devices", len(fromStore), len(fromFile))
	}
	// The generator's Siemens S7 PLCs sit at 10.30.1.20-23 and answer SZL
	// reads with their order code; Modbus PLCs at .10-.15 are Schneider's.
	plcs := 0
	for _, d := range fromStore {
		var p devices.Profile
		if err := json.Unmarshal(d.Attributes, &p); err != nil {
			t.Fatalf("%s: attributes: %v", d.ID, err)
		}
		for _, ip := range d.IPs {
			if strings.HasPrefix(ip, "10.30.1.2") && len(ip) == len("10.30.1.20") {
				if d.Category != "plc" || p.Industrial == nil || !strings.Contains(p.Industrial.Product, "6ES7") {
					t.Errorf("S7 PLC %s: category %q, industrial %+v", ip, d.Category, p.Industrial)
				}
				plcs++
			}
		}
	}
	if plcs == 0 {
		t.Error("no S7 PLC in the inventory")
	}
	out, _, err = osprey(t, "query", "--store", data, "--devices", "--category", "hmi")
	if err != nil || !strings.Contains(out, "10.30.1.") {
		t.Errorf("no HMI on the plant network:\n%s", out)
	}
}

// TestReadDevicesZeekDHCP: the device behind Zeek's DHCP trace is known by
// its MAC, with the address, host name and domain Zeek's dhcp.log gives.
func TestReadDevicesZeekDHCP(t *testing.T) {
	dir := t.TempDir()
	file, cfg := filepath.Join(dir, "devices.jsonl"), filepath.Join(dir, "cmu.yaml")
	// The trace's network is CMU's public 128.2/16: say it is the monitored one.
	if err := os.WriteFile(cfg, []byte("meter: {local_nets: [128.2.0.0/16]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(testutil.SharedTestdata(t), "zeek", "dhcp", "dhcp.pcap")
	if _, e, err := osprey(t, "read", "--output", "none", "--config", cfg, "--devices", file, pcap); err != nil {
		t.Fatal(err, e)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := parseDevices(t, string(b))["mac:90:b1:1c:99:49:29"]
	if !ok || !strings.Contains(string(d.Attributes), "btest.is.cool") || !strings.Contains(strings.Join(d.IPs, " "), "128.2.6.189") {
		t.Errorf("device of 90:b1:1c:99:49:29: %+v", d)
	}
}
