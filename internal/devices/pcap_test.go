package devices_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"

	"github.com/osprey-ndr/osprey/internal/capture"
	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/sensor"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

// devicesOf returns a snapshot by id, with the decoded profiles.
func devicesOf(t *testing.T, inv *devices.Inventory) (map[string]schema.Device, map[string]devices.Profile) {
	t.Helper()
	devs, profs := map[string]schema.Device{}, map[string]devices.Profile{}
	for _, d := range inv.Devices() {
		var p devices.Profile
		if err := json.Unmarshal(d.Attributes, &p); err != nil {
			t.Fatal(err)
		}
		devs[d.ID], profs[d.ID] = d, p
	}
	return devs, profs
}

func localTo(prefix string) *devices.Inventory {
	cfg := devices.DefaultConfig()
	cfg.LocalNets = []netip.Prefix{netip.MustParsePrefix(prefix)}
	return devices.New(cfg, devices.IEEE)
}

// readPcap runs a capture through the sensor (decode, meter, DPI) into
// an inventory, as osprey does.
func readPcap(t *testing.T, inv *devices.Inventory, path string) {
	t.Helper()
	s, err := sensor.New(sensor.DefaultConfig(), capture.NewFileSource([]string{path}, capture.FileOptions{}), inv, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Zeek's test traces, end to end: what the decoders write is what the
// inventory reads.
func TestZeekTraces(t *testing.T) {
	root := filepath.Join(testutil.SharedTestdata(t), "zeek")
	t.Run("dhcp", func(t *testing.T) {
		// The client of dhcp.pcap got 128.2.6.189 from CMU's server.
		inv := localTo("128.2.0.0/16")
		readPcap(t, inv, filepath.Join(root, "dhcp", "dhcp.pcap"))
		devs, profs := devicesOf(t, inv)
		d, ok := devs["mac:90:b1:1c:99:49:29"]
		if !ok {
			t.Fatalf("no device for the DHCP client; have %v", devs)
		}
		p := profs[d.ID]
		if !slices.Contains(d.IPs, "128.2.6.189") || p.DHCP == nil || p.DHCP.Hostname != "btest.is.cool" || p.DHCP.Domain != "cmu.edu" {
			t.Errorf("device %+v dhcp %+v, want Zeek's dhcp.log: 128.2.6.189, btest.is.cool, cmu.edu", d, p.DHCP)
		}
	})
	t.Run("wikipedia", func(t *testing.T) {
		// An NCSA desktop browsing Wikipedia, and a Mac announcing itself.
		inv := localTo("141.142.0.0/16")
		readPcap(t, inv, filepath.Join(root, "wikipedia", "wikipedia.pcap"))
		devs, profs := devicesOf(t, inv)
		desk := profs["mac:00:24:7e:e0:1d:b5"]
		if devs["mac:00:24:7e:e0:1d:b5"].IPs[0] != "141.142.220.118" || !slices.Contains(desk.HTTPHosts, "upload.wikimedia.org") ||
			!slices.Contains(desk.DNSQueries, "upload.wikimedia.org") ||
			!slices.ContainsFunc(desk.ClientApps, func(a devices.AppUse) bool { return a.App == "http" && a.Sessions >= 8 }) {
			t.Errorf("desktop: %+v hosts %v queries %v apps %+v", devs["mac:00:24:7e:e0:1d:b5"], desk.HTTPHosts, desk.DNSQueries, desk.ClientApps)
		}
		mac := profs["mac:00:17:f2:d7:cf:65"]
		if !slices.ContainsFunc(mac.Names, func(n devices.Name) bool { return n.Name == "gemini.local" && n.Source == "mdns" }) || mac.Vendor == nil || mac.Vendor.Name != "Apple, Inc." {
			t.Errorf("the Mac: names %+v vendor %+v, want gemini.local from mDNS and Apple", mac.Names, mac.Vendor)
		}
		// The DNS server is off the subnet: its frames carry the router's
		// MAC, and the short trace shows too few addresses to call it one.
		if _, ok := devs["mac:00:13:7f:be:8c:ff"]; !ok {
			t.Errorf("devices %v", devs)
		}
	})
}
