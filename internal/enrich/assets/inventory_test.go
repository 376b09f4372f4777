package assets

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadTestInventory(t *testing.T) *Inventory {
	t.Helper()
	snap, rejected, err := LoadFile("testdata/inventory.yaml")
	if err != nil || len(rejected) > 0 {
		t.Fatalf("LoadFile: %v, rejected %v", err, rejected)
	}
	return NewInventory(snap)
}

func assetID(a *Asset) string {
	if a == nil {
		return ""
	}
	return a.ID
}

func TestByIP(t *testing.T) {
	inv := loadTestInventory(t)
	for _, tc := range []struct {
		ip   string
		want string
	}{
		{"10.20.0.7", "plc-7"},
		{"::ffff:10.20.0.7", "plc-7"}, // IPv4-mapped IPv6
		{"10.0.1.5", "i-0abc"},        // through its interface
		{"2001:db8::5", "i-0abc"},
		{"10.20.0.8", ""},
		{"::a14:7", ""}, // IPv4-compatible, not mapped: another address
	} {
		if got := assetID(inv.ByIP(netip.MustParseAddr(tc.ip))); got != tc.want {
			t.Errorf("ByIP(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if got := inv.ByIP(netip.Addr{}); got != nil {
		t.Errorf("ByIP(zero Addr) = %v, want nil", got)
	}
	// The asset carries its interfaces' addresses.
	if diff := cmp.Diff(addrs("10.0.1.5", "2001:db8::5"), inv.ByIP(netip.MustParseAddr("10.0.1.5")).IPs, cmpAddr); diff != "" {
		t.Errorf("merged IPs (-want +got):\n%s", diff)
	}
	if inv.Len() != 2 {
		t.Errorf("Len = %d, want 2", inv.Len())
	}
}

func TestNewInventoryLaterWins(t *testing.T) {
	first := &Snapshot{Assets: []Asset{
		{ID: "x", Name: "old-x", IPs: addrs("10.0.0.1", "10.0.0.2")},
		{ID: "y", IPs: addrs("10.0.0.3")},
	}}
	second := &Snapshot{Assets: []Asset{
		{ID: "x", Name: "new-x", IPs: addrs("10.0.0.9")},
		{ID: "z", IPs: addrs("10.0.0.3")},
	}}
	inv := NewInventory(first, nil, second)
	for ip, want := range map[string]string{
		"10.0.0.1": "", // the replaced x's address
		"10.0.0.9": "x",
		"10.0.0.3": "z", // claimed by y, then by z
	} {
		if got := assetID(inv.ByIP(netip.MustParseAddr(ip))); got != want {
			t.Errorf("ByIP(%s) = %q, want %q", ip, got, want)
		}
	}
	if got := inv.ByID("x"); got == nil || got.Name != "new-x" {
		t.Errorf("ByID(x) = %+v, want new-x", got)
	}
	if inv.ByID("y") == nil || inv.Len() != 3 {
		t.Errorf("y lost or Len = %d, want 3", inv.Len())
	}
	if got := assetID(NewInventory(second, first).ByIP(netip.MustParseAddr("10.0.0.3"))); got != "y" {
		t.Errorf("reversed order: ByIP(10.0.0.3) = %q, want y", got)
	}
}

func TestNewInventoryLinksInterfaces(t *testing.T) {
	// A file names the instance and lists its ENI; EC2 gives the ENI
	// with no asset, and another ENI naming its instance.
	file := &Snapshot{Assets: []Asset{
		{ID: "i-1", Name: "web", Interfaces: []string{"eni-1"}},
		{ID: "i-2", Name: "web"},
	}}
	ec2 := &Snapshot{Interfaces: []Interface{
		{ID: "eni-1", IPs: addrs("10.0.0.1")},
		{ID: "eni-2", Asset: "i-2", IPs: addrs("10.0.0.2")},
		{ID: "eni-3", IPs: addrs("10.0.0.3")}, // of nothing known
	}}
	inv := NewInventory(file, ec2)
	for ip, want := range map[string]string{"10.0.0.1": "i-1", "10.0.0.2": "i-2", "10.0.0.3": ""} {
		if got := assetID(inv.ByIP(netip.MustParseAddr(ip))); got != want {
			t.Errorf("ByIP(%s) = %q, want %q", ip, got, want)
		}
	}
	if got := inv.ByID("i-2").Interfaces; !cmp.Equal(got, []string{"eni-2"}) {
		t.Errorf("i-2 interfaces = %v, want [eni-2]", got)
	}
	_, eni, _ := inv.ByMirror(netip.MustParseAddr("10.0.0.1"), 0)
	if eni == nil || eni.Asset != "i-1" {
		t.Errorf("eni-1 = %+v, want it attached to i-1", eni)
	}
	if file.Assets[0].IPs != nil || file.Assets[1].Interfaces != nil {
		t.Error("NewInventory modified a snapshot")
	}
	if got := inv.ByID("web"); got != nil {
		t.Errorf("ByID(web), a name of two assets = %v, want nil", got.ID)
	}
}

func TestByID(t *testing.T) {
	inv := loadTestInventory(t)
	for id, want := range map[string]string{"plc-7": "plc-7", "line-3 plc": "plc-7", "db-1": "i-0abc", "nothing": ""} {
		if got := assetID(inv.ByID(id)); got != want {
			t.Errorf("ByID(%q) = %q, want %q", id, got, want)
		}
	}
}

func TestByMirror(t *testing.T) {
	snap := &Snapshot{
		Assets: []Asset{{ID: "i-1"}, {ID: "i-2"}, {ID: "i-3"}},
		Interfaces: []Interface{
			{ID: "eni-1", Asset: "i-1", IPs: addrs("10.0.0.1")},
			{ID: "eni-2", Asset: "i-2", IPs: addrs("10.0.0.2")},
			{ID: "eni-3", Asset: "i-3", IPs: addrs("10.0.0.3")},
		},
		Mirrors: []MirrorSession{
			{ID: "tmms-1", VNI: 100, Interface: "eni-1"},
			{ID: "tmms-2", VNI: 7, Interface: "eni-2"}, // VNI 7 twice:
			{ID: "tmms-3", VNI: 7, Interface: "eni-3"}, // only the source tells them apart
			{ID: "tmms-4", VNI: 200, Interface: "eni-gone"},
		},
	}
	inv := NewInventory(snap)
	for _, tc := range []struct {
		name, source        string
		vni                 uint32
		session, eni, asset string
	}{
		{"by VNI, source unknown", "192.0.2.1", 100, "tmms-1", "eni-1", "i-1"},
		{"by VNI over a stray source", "10.0.0.3", 100, "tmms-1", "eni-1", "i-1"},
		{"shared VNI, by source", "10.0.0.3", 7, "tmms-3", "eni-3", "i-3"},
		{"shared VNI, other source", "10.0.0.2", 7, "tmms-2", "eni-2", "i-2"},
		{"shared VNI, source unknown", "192.0.2.1", 7, "", "", ""},
		{"unknown VNI, by source", "::ffff:10.0.0.2", 999, "", "eni-2", "i-2"},
		{"session of an unknown ENI", "10.0.0.1", 200, "tmms-4", "eni-1", "i-1"},
		{"nothing known", "192.0.2.1", 999, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, eni, a := inv.ByMirror(netip.MustParseAddr(tc.source), tc.vni)
			var gotSession, gotENI string
			if s != nil {
				gotSession = s.ID
			}
			if eni != nil {
				gotENI = eni.ID
			}
			if gotSession != tc.session || gotENI != tc.eni || assetID(a) != tc.asset {
				t.Errorf("ByMirror(%s, %d) = %q, %q, %q; want %q, %q, %q",
					tc.source, tc.vni, gotSession, gotENI, assetID(a), tc.session, tc.eni, tc.asset)
			}
		})
	}
}

// A later asset claiming an ENI's address takes it from the ENI's
// asset, and ByMirror then does not offer the other asset's ENI.
func TestAddressClaimedFromInterface(t *testing.T) {
	ec2 := &Snapshot{
		Assets:     []Asset{{ID: "i-1"}},
		Interfaces: []Interface{{ID: "eni-1", Asset: "i-1", IPs: addrs("10.0.0.1")}},
	}
	file := &Snapshot{Assets: []Asset{{ID: "plc-7", IPs: addrs("10.0.0.1")}}}
	inv := NewInventory(ec2, file)
	if got := assetID(inv.ByIP(netip.MustParseAddr("10.0.0.1"))); got != "plc-7" {
		t.Errorf("ByIP = %q, want plc-7", got)
	}
	if _, eni, a := inv.ByMirror(netip.MustParseAddr("10.0.0.1"), 1); eni != nil || assetID(a) != "plc-7" {
		t.Errorf("ByMirror = %v, %q; want no ENI, plc-7", eni, assetID(a))
	}
}

func TestLookupsAllocateNothing(t *testing.T) {
	inv := loadTestInventory(t)
	hit, miss := netip.MustParseAddr("10.0.1.5"), netip.MustParseAddr("192.0.2.1")
	allocs := testing.AllocsPerRun(100, func() {
		inv.ByIP(hit)
		inv.ByIP(miss)
		inv.ByID("db-1")
		inv.ByMirror(miss, 4242)
		inv.ByMirror(hit, 1)
	})
	if allocs != 0 {
		t.Errorf("lookups allocate %v times, want 0", allocs)
	}
}

// Run with -race: lookups from many goroutines share one inventory.
func TestConcurrentLookups(t *testing.T) {
	inv := loadTestInventory(t)
	ip := netip.MustParseAddr("10.20.0.7")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if a := inv.ByIP(ip); a == nil || a.ID != "plc-7" {
					t.Error("ByIP(10.20.0.7) lost plc-7")
					return
				}
			}
		})
	}
	wg.Wait()
}
