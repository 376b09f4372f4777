package devices

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osprey-ndr/osprey/internal/schema"
)

const (
	macA = "f0:18:98:00:00:0a" // Apple
	macB = "d8:9e:f3:00:00:0b" // Dell
	macR = "00:00:0c:00:00:01" // Cisco router
)

func TestIdentity(t *testing.T) {
	type want struct {
		ips  []string // most recent first
		macs []string
	}
	cases := []struct {
		name     string
		cfg      func(*Config)
		sessions func() []*schema.Session
		want     map[string]want // exactly these devices
		check    func(t *testing.T, profs map[string]Profile)
	}{
		{
			name: "DHCP keeps the id across an address change",
			sessions: func() []*schema.Session {
				return []*schema.Session{
					dhcpAck(macA, "10.0.0.5", "alice-laptop", "", "", t0),
					// Flow-log style records: no MACs, the DHCP binding decides.
					sess("10.0.0.5", "93.184.216.34", 6, 443, "tls", t0.Add(time.Minute)),
					dhcpAck(macA, "10.0.0.9", "alice-laptop", "", "", t0.Add(time.Hour)),
					dhcpAck(macB, "10.0.0.5", "bob-pc", "", "", t0.Add(time.Hour+time.Minute)),
					sess("10.0.0.9", "93.184.216.34", 6, 443, "tls", t0.Add(2*time.Hour)),
					sess("10.0.0.5", "1.1.1.1", 17, 53, "dns", t0.Add(2*time.Hour)),
				}
			},
			want: map[string]want{
				"mac:" + macA: {ips: []string{"10.0.0.9", "10.0.0.5"}, macs: []string{macA}},
				"mac:" + macB: {ips: []string{"10.0.0.5"}, macs: []string{macB}},
			},
			check: func(t *testing.T, profs map[string]Profile) {
				a, b := profs["mac:"+macA], profs["mac:"+macB]
				if a.Traffic.SessionsOut != 2 || !hasPeer(a, "93.184.216.34") || hasPeer(a, "1.1.1.1") {
					t.Errorf("alice: %+v peers %v, want both TLS sessions and not the DNS one", a.Traffic, a.Peers)
				}
				if b.Traffic.SessionsOut != 1 || !hasPeer(b, "1.1.1.1") {
					t.Errorf("bob: %+v peers %v, want the DNS session", b.Traffic, b.Peers)
				}
			},
		},
		{
			name: "a router's MAC is not an identity",
			sessions: func() []*schema.Session {
				var out []*schema.Session
				// Hosts of another local subnet, routed: their frames carry the router's MAC.
				for i := 1; i <= 6; i++ {
					out = append(out, sess(fmt.Sprintf("10.0.2.%d/%s", i, macR), "10.0.0.20/"+macB, 6, 445, "smb", t0.Add(time.Duration(i)*time.Second)))
				}
				// Internet traffic to the local host comes from the router's MAC as well.
				for i := 1; i <= 6; i++ {
					out = append(out, sess("10.0.0.20/"+macB, fmt.Sprintf("203.0.113.%d/%s", i, macR), 6, 443, "tls", t0.Add(time.Minute)))
				}
				out = append(out, sess(fmt.Sprintf("10.0.2.1/%s", macR), "10.0.0.20/"+macB, 6, 445, "smb", t0.Add(2*time.Minute)))
				return out
			},
			want: map[string]want{
				"mac:" + macB: {ips: []string{"10.0.0.20"}, macs: []string{macB}},
				"mac:" + macR: {macs: []string{macR}},
				"ip:10.0.2.1": {ips: []string{"10.0.2.1"}},
			},
			check: func(t *testing.T, profs map[string]Profile) {
				r := profs["mac:"+macR]
				if r.Gateway == nil || r.Gateway.Addresses < 9 || r.Category.Name != Network {
					t.Errorf("router: gateway %+v category %+v, want a network device with ≥ 9 addresses behind", r.Gateway, r.Category)
				}
			},
		},
		{
			name: "a device known by its address merges into its MAC device",
			sessions: func() []*schema.Session {
				return []*schema.Session{
					sess("10.0.0.7", "8.8.8.8", 17, 53, "dns", t0),
					sess("10.0.0.7/"+macA, "8.8.8.8", 17, 53, "dns", t0.Add(time.Hour)),
				}
			},
			want: map[string]want{"mac:" + macA: {ips: []string{"10.0.0.7"}, macs: []string{macA}}},
			check: func(t *testing.T, profs map[string]Profile) {
				p := profs["mac:"+macA]
				if len(p.MergedFrom) != 1 || p.MergedFrom[0].ID != "ip:10.0.0.7" {
					t.Errorf("merged_from %v, want ip:10.0.0.7", p.MergedFrom)
				}
				if p.Traffic.SessionsOut != 2 || p.IPs[0].FirstSeen != t0.Add(2*time.Second) {
					t.Errorf("history lost: %+v, ips %+v", p.Traffic, p.IPs)
				}
			},
		},
		{
			name: "an asset id wins and absorbs the MAC device",
			sessions: func() []*schema.Session {
				return []*schema.Session{
					sess("10.0.0.8/"+macB, "52.94.1.1", 6, 443, "tls", t0),
					sess("10.0.0.8/"+macB, "52.94.1.1", 6, 443, "tls", t0.Add(time.Minute), withAsset("i-0abc1234def567890")),
					sess("10.0.0.8/"+macB, "52.94.1.1", 6, 443, "tls", t0.Add(2*time.Minute)),
				}
			},
			want: map[string]want{"asset:i-0abc1234def567890": {ips: []string{"10.0.0.8"}, macs: []string{macB}}},
			check: func(t *testing.T, profs map[string]Profile) {
				if p := profs["asset:i-0abc1234def567890"]; p.Traffic.SessionsOut != 3 || p.Category.Name != CloudVM {
					t.Errorf("traffic %+v category %+v, want 3 sessions and cloud_vm", p.Traffic, p.Category)
				}
			},
		},
		{
			name: "broadcast, multicast and remote ends are not devices",
			sessions: func() []*schema.Session {
				return []*schema.Session{
					sess("10.0.0.30/"+macB, "224.0.0.251/01:00:5e:00:00:fb", 17, 5353, "mdns", t0, withState("S0", 0)),
					sess("10.0.0.30/"+macB, "10.0.0.255/ff:ff:ff:ff:ff:ff", 17, 137, "netbios", t0, withState("S0", 0)),
					sess("10.0.0.30/"+macB, "198.51.100.7", 6, 443, "tls", t0),
					sess("0.0.0.0/"+macA, "255.255.255.255/ff:ff:ff:ff:ff:ff", 17, 67, "", t0, withState("S0", 0)),
				}
			},
			want: map[string]want{"mac:" + macB: {ips: []string{"10.0.0.30"}, macs: []string{macB}}},
		},
		{
			name: "LocalNets decide what is local",
			cfg:  func(c *Config) { c.LocalNets = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")} },
			sessions: func() []*schema.Session {
				return []*schema.Session{sess("10.0.0.30", "198.51.100.7", 6, 443, "tls", t0)}
			},
			want: map[string]want{"ip:198.51.100.7": {ips: []string{"198.51.100.7"}}},
		},
		{
			name: "a MAC that moves to a new address keeps its device; the old address can go to another",
			sessions: func() []*schema.Session {
				return []*schema.Session{
					sess("10.0.0.40/"+macA, "8.8.8.8", 17, 53, "dns", t0),
					sess("10.0.0.41/"+macA, "8.8.8.8", 17, 53, "dns", t0.Add(time.Hour)),
					sess("10.0.0.40/"+macB, "8.8.8.8", 17, 53, "dns", t0.Add(2*time.Hour)),
				}
			},
			want: map[string]want{
				"mac:" + macA: {ips: []string{"10.0.0.41", "10.0.0.40"}, macs: []string{macA}},
				"mac:" + macB: {ips: []string{"10.0.0.40"}, macs: []string{macB}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv, _ := newTestInventory(t, tc.cfg)
			for _, s := range tc.sessions() {
				inv.Observe(s)
			}
			devs, profs := byID(t, inv.Devices())
			got := map[string]want{}
			for id, d := range devs {
				got[id] = want{ips: d.IPs, macs: d.MACs}
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("devices (-want +got):\n%s", diff)
			}
			if tc.check != nil {
				tc.check(t, profs)
			}
		})
	}
}

func hasPeer(p Profile, ip string) bool {
	return slices.ContainsFunc(p.Peers, func(x Peer) bool { return x.IP.String() == ip })
}

func TestServices(t *testing.T) {
	cases := []struct {
		name  string
		s     *schema.Session
		wantN int
	}{
		{"TCP SF", sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0), 1},
		{"TCP S1", sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0, withState("S1", 3)), 1},
		{"TCP RSTR", sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0, withState("RSTR", 3)), 1},
		{"TCP RSTO with answers", sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0, withState("RSTO", 2)), 1},
		{"TCP RSTO unanswered", sess("10.0.0.1", "10.0.0.2", 6, 22, "", t0, withState("RSTO", 0)), 0},
		{"TCP S0 (no answer)", sess("10.0.0.1", "10.0.0.2", 6, 22, "", t0, withState("S0", 0)), 0},
		{"TCP REJ (refused)", sess("10.0.0.1", "10.0.0.2", 6, 22, "", t0, withState("REJ", 1)), 0},
		{"TCP SH (half open)", sess("10.0.0.1", "10.0.0.2", 6, 22, "", t0, withState("SH", 0)), 0},
		{"UDP with a reply", sess("10.0.0.1", "10.0.0.2", 17, 53, "dns", t0), 1},
		{"UDP without a reply", sess("10.0.0.1", "10.0.0.2", 17, 514, "syslog", t0, withState("S0", 0)), 0},
		{"ICMP echo", sess("10.0.0.1", "10.0.0.2", 1, 0, "", t0), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inv, _ := newTestInventory(t, nil)
			inv.Observe(tc.s)
			_, profs := byID(t, inv.Devices())
			srv := profs["ip:10.0.0.2"]
			if len(srv.Services) != tc.wantN {
				t.Fatalf("services %+v, want %d", srv.Services, tc.wantN)
			}
			if tc.wantN == 1 {
				s := srv.Services[0]
				if s.Port != tc.s.Resp.Port || s.App != tc.s.App || s.Clients != 1 || s.Sessions != 1 {
					t.Errorf("service %+v", s)
				}
			}
			if len(profs["ip:10.0.0.1"].Services) != 0 {
				t.Errorf("the client got a service: %+v", profs["ip:10.0.0.1"].Services)
			}
		})
	}
}

func TestServiceClientsCounted(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	for i := range 200 {
		ip := fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		inv.Observe(sess(ip, "10.0.0.2", 6, 443, "tls", t0))
		inv.Observe(sess(ip, "10.0.0.2", 6, 443, "tls", t0)) // a second session: the same client
	}
	_, profs := byID(t, inv.Devices())
	s := profs["ip:10.0.0.2"].Services[0]
	if s.Sessions != 400 || s.Clients < 180 || s.Clients > 220 {
		t.Errorf("service %+v, want 400 sessions from ~200 clients", s)
	}
}

// Interim records carry cumulative counters: they must add only what is
// new, and the flow counts as one session.
func TestInterimRecords(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	base := sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0)
	for seq, b := range []uint64{1000, 3000, 6000} {
		s := *base
		s.Seq, s.Final, s.OrigIPBytes, s.RespIPBytes, s.RespBytes = uint32(seq), seq == 2, b, 0, 0
		inv.Observe(&s)
	}
	_, profs := byID(t, inv.Devices())
	c := profs["ip:10.0.0.1"]
	if c.Traffic.SessionsOut != 1 || c.Traffic.BytesOut != 6000 || c.Peers[0].Bytes != 6000 {
		t.Errorf("traffic %+v peers %+v, want 1 session and 6000 bytes", c.Traffic, c.Peers)
	}
	if n := len(inv.live); n != 0 {
		t.Errorf("%d live flows left after the final record", n)
	}
}

func TestPeersBounded(t *testing.T) {
	inv, _ := newTestInventory(t, func(c *Config) { c.MaxPeers = 8 })
	// Two heavy peers among 1000 small ones, the heavy ones first and last.
	inv.Observe(sess("10.0.0.1", "203.0.113.1", 6, 443, "tls", t0, withBytes(1e6, 1e6)))
	for i := range 1000 {
		inv.Observe(sess("10.0.0.1", fmt.Sprintf("198.51.%d.%d", i/250, i%250+1), 6, 443, "tls", t0, withBytes(100, 100)))
	}
	inv.Observe(sess("10.0.0.1", "203.0.113.2", 6, 443, "tls", t0, withBytes(5e5, 5e5)))
	_, profs := byID(t, inv.Devices())
	p := profs["ip:10.0.0.1"]
	if len(p.Peers) != 8 {
		t.Fatalf("%d peers, want the cap of 8", len(p.Peers))
	}
	if p.Peers[0].IP.String() != "203.0.113.1" || p.Peers[1].IP.String() != "203.0.113.2" {
		t.Errorf("top peers %v, want the two heavy ones first", p.Peers[:2])
	}
	if p.Dropped["peers"] < 900 {
		t.Errorf("dropped %v, want the small peers counted", p.Dropped)
	}
	inv.mu.Lock()
	n := len(inv.devs[devKey{kind: kindIP, ip: netip.MustParseAddr("10.0.0.1")}].peers)
	inv.mu.Unlock()
	if n > 16 {
		t.Errorf("%d peers held in memory, want ≤ 2 × MaxPeers", n)
	}
	if p.Traffic.SessionsOut != 1002 {
		t.Errorf("traffic %+v", p.Traffic)
	}
}

func TestOtherCaps(t *testing.T) {
	inv, _ := newTestInventory(t, func(c *Config) { c.MaxStrings = 4; c.MaxServices = 3; c.MaxNames = 2 })
	for i := range 10 {
		inv.Observe(sess("10.0.0.1", "203.0.113.1", 6, 443, "tls", t0, withL7(&schema.L7{TLS: &schema.TLS{SNI: fmt.Sprintf("h%d.example.com", i)}})))
		inv.Observe(sess("10.0.0.3", "10.0.0.2", 6, uint16(8000+i), "", t0))
		inv.Observe(sess("10.0.0.4", "224.0.0.251", 17, 5353, "mdns", t0, withState("S0", 0),
			withL7(&schema.L7{Names: []string{fmt.Sprintf("host%d", i)}})))
	}
	_, profs := byID(t, inv.Devices())
	if p := profs["ip:10.0.0.1"]; len(p.SNI) != 4 || p.Dropped["sni"] != 6 {
		t.Errorf("sni %v dropped %v", p.SNI, p.Dropped)
	}
	if p := profs["ip:10.0.0.2"]; len(p.Services) != 3 || p.Dropped["services"] != 7 {
		t.Errorf("services %v dropped %v", p.Services, p.Dropped)
	}
	if p := profs["ip:10.0.0.4"]; len(p.Names) != 2 || p.Dropped["names"] != 8 {
		t.Errorf("names %v dropped %v", p.Names, p.Dropped)
	}
}

func TestEviction(t *testing.T) {
	inv, _ := newTestInventory(t, func(c *Config) { c.MaxDevices = 10 })
	for i := range 30 {
		inv.Observe(sess(fmt.Sprintf("10.0.0.%d", i+1), "8.8.8.8", 17, 53, "dns", t0.Add(time.Duration(i)*time.Minute)))
	}
	st, n := inv.Stats()
	if n != 10 || st.Evicted != 20 {
		t.Errorf("%d devices, %d evicted; want 10 and 20", n, st.Evicted)
	}
	got := ids(inv.Devices())
	if !slices.Contains(got, "ip:10.0.0.30") || slices.Contains(got, "ip:10.0.0.1") {
		t.Errorf("kept %v, want the most recent", got)
	}
	// A session between two new devices at the cap keeps both.
	inv.Observe(sess("10.0.1.1", "10.0.1.2", 6, 22, "ssh", t0.Add(time.Hour)))
	got = ids(inv.Devices())
	if !slices.Contains(got, "ip:10.0.1.1") || !slices.Contains(got, "ip:10.0.1.2") {
		t.Errorf("kept %v, want both ends of the last session", got)
	}
}

func TestChanged(t *testing.T) {
	inv, clock := newTestInventory(t, nil)
	inv.Observe(sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0))
	*clock = t0.Add(time.Minute)
	mark := *clock
	inv.Observe(sess("10.0.0.3", "8.8.8.8", 17, 53, "dns", t0))
	if got := ids(inv.Changed(mark)); !slices.Equal(got, []string{"ip:10.0.0.3"}) {
		t.Errorf("changed since the mark: %v", got)
	}
	if got := ids(inv.Changed(t0)); len(got) != 3 {
		t.Errorf("changed since the start: %v", got)
	}
	*clock = t0.Add(2 * time.Minute)
	if got := inv.Changed(*clock); len(got) != 0 {
		t.Errorf("nothing happened, yet changed: %v", ids(got))
	}
}

func TestRestoreRoundTrip(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	for _, sc := range categoryScenarios() {
		for _, s := range sc.sessions {
			inv.Observe(s)
		}
	}
	// A router too, and a merge.
	for i := 1; i <= 10; i++ {
		inv.Observe(sess("10.9.0.5/"+macB, fmt.Sprintf("203.0.113.%d/%s", i, macR), 6, 443, "tls", t0))
	}
	inv.Observe(sess("10.9.0.77", "8.8.8.8", 17, 53, "dns", t0))
	inv.Observe(sess("10.9.0.77/"+macA, "8.8.8.8", 17, 53, "dns", t0.Add(time.Minute)))
	before := inv.Devices()

	again, _ := newTestInventory(t, nil)
	if err := again.Restore(before); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, again.Devices()); diff != "" {
		t.Fatalf("restore changed devices (-before +after):\n%s", diff)
	}
	// The indexes are back: an address-only record lands on the MAC device,
	// and the router's MAC is still no identity.
	again.Observe(sess("10.9.0.77", "8.8.4.4", 17, 53, "dns", t0.Add(time.Hour)))
	again.Observe(sess("10.9.3.3/"+macR, "10.9.0.5/"+macB, 6, 22, "ssh", t0.Add(time.Hour)))
	devs, profs := byID(t, again.Devices())
	if p := profs["mac:"+macA]; !hasPeer(p, "8.8.4.4") {
		t.Errorf("restored MAC device did not get the address-only session: %+v", p.Peers)
	}
	if _, ok := devs["ip:10.9.3.3"]; !ok {
		t.Errorf("routed host not a device of its own: %v", ids(again.Devices()))
	}
}

func TestRestoreErrors(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	err := inv.Restore([]schema.Device{
		{ID: "bogus"},
		{ID: "mac:zz"},
		{ID: "ip:10.0.0.1", IPs: []string{"10.0.0.1"}, FirstSeen: t0, LastSeen: t0, Attributes: []byte(`{"v":`)},
		{ID: "mac:" + macA, MACs: []string{macA}, IPs: []string{"10.0.0.2"}, FirstSeen: t0, LastSeen: t0},
	})
	if err == nil {
		t.Fatal("no error for bad ids and attributes")
	}
	got := ids(inv.Devices())
	if !slices.Equal(got, []string{"ip:10.0.0.1", "mac:" + macA}) {
		t.Errorf("restored %v, want the two parseable ids", got)
	}
	inv.Observe(sess("10.0.0.2", "8.8.8.8", 17, 53, "dns", t0.Add(time.Hour)))
	if got := ids(inv.Devices()); len(got) != 2 {
		t.Errorf("the restored address did not resolve to the MAC device: %v", got)
	}
}

func TestConcurrentObserve(t *testing.T) {
	inv, _ := newTestInventory(t, func(c *Config) { c.MaxDevices = 500 })
	inv.now = time.Now
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				mac := fmt.Sprintf("02:00:00:00:%02x:%02x", g, i%200)
				inv.Observe(sess(fmt.Sprintf("10.%d.%d.%d/%s", g, i%200/250, i%200+1, mac), fmt.Sprintf("10.99.0.%d", i%50+1), 6, 443, "tls", t0.Add(time.Duration(i)*time.Second),
					withL7(&schema.L7{TLS: &schema.TLS{SNI: "example.com"}})))
				if i%50 == 0 {
					inv.Observe(dhcpAck(mac, fmt.Sprintf("10.%d.1.%d", g, i%200+1), "h", "1,3,6", "", t0))
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				inv.Devices()
				inv.Changed(time.Now().Add(-time.Second))
				inv.Stats()
			}
		}()
	}
	wg.Wait()
	st, n := inv.Stats()
	if st.Sessions != 8*2000+8*40 || n == 0 || n > 500 {
		t.Errorf("stats %+v, %d devices", st, n)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := DefaultConfig()
	bad.MaxPeers, bad.GatewayWindow, bad.MaxIPsPerMAC = 0, 0, 100
	bad.LocalNets = []netip.Prefix{{}}
	err := bad.Validate()
	for _, want := range []string{"devices.MaxPeers", "devices.GatewayWindow", "devices.MaxIPsPerMAC", "devices.LocalNets[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestParseMAC(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{{"90:b1:1c:99:49:29", true}, {"90-B1-1C-99-49-29", true}, {"90:b1:1c:99:49", false}, {"90:b1:1c:99:49:2g", false}, {"", false}} {
		m, ok := parseMAC(tc.in)
		if ok != tc.ok || (ok && schema.MAC(m) != "90:b1:1c:99:49:29") {
			t.Errorf("parseMAC(%q) = %v, %v", tc.in, m, ok)
		}
	}
}

func TestReverseIPv4(t *testing.T) {
	for in, want := range map[string]string{"5.0.0.10.in-addr.arpa": "10.0.0.5", "5.0.0.10.in-addr.arpa.": "10.0.0.5",
		"5.0.10.in-addr.arpa": "", "256.0.0.10.in-addr.arpa": "", "_http._tcp.local": "", "a.0.0.10.in-addr.arpa": ""} {
		got, ok := reverseIPv4(in)
		if (want == "") == ok || (ok && got.String() != want) {
			t.Errorf("reverseIPv4(%q) = %v, %v", in, got, ok)
		}
	}
}

func TestNamesFromPTRAndAnnouncements(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	inv.Observe(sess("10.0.0.50/"+macB, "8.8.8.8", 17, 53, "dns", t0))
	inv.Observe(sess("10.0.0.60", "10.0.0.1", 17, 53, "dns", t0, withL7(&schema.L7{DNS: &schema.DNS{Query: "50.0.0.10.in-addr.arpa", QType: "PTR", RCode: "NOERROR", Answers: []string{"build-01.corp.example."}}})))
	// mDNS announcement to the group: the sender named itself.
	inv.Observe(sess("10.0.0.50/"+macB, "224.0.0.251", 17, 5353, "mdns", t0, withState("S0", 0), withL7(&schema.L7{Names: []string{"build-01.local"}})))
	// LLMNR answer to a unicast query: the responder named itself.
	inv.Observe(sess("10.0.0.60", "10.0.0.50/"+macB, 17, 5355, "llmnr", t0, withL7(&schema.L7{Names: []string{"BUILD-01"}})))
	_, profs := byID(t, inv.Devices())
	var got []string
	for _, n := range profs["mac:"+macB].Names {
		got = append(got, n.Source+":"+n.Name)
	}
	if want := []string{"ptr:build-01.corp.example", "mdns:build-01.local", "llmnr:BUILD-01"}; !slices.Equal(got, want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if n := profs["ip:10.0.0.60"].Names; len(n) != 0 {
		t.Errorf("the asker got names: %v", n)
	}
}

func TestCollector(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	inv.Observe(sess("10.0.0.1", "10.0.0.2", 6, 22, "ssh", t0))
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(inv))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if got["osprey_devices_sessions_total"] != 1 || got["osprey_devices_tracked"] != 2 || len(got) != 9 {
		t.Errorf("metrics %v", got)
	}
}

func TestDHCPServerAndTunnels(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	// The server's broadcast ACK is a flow of its own, started by the server.
	ack := sess("10.0.0.1/"+macR, "255.255.255.255/ff:ff:ff:ff:ff:ff", 17, 68, "dhcp", t0, withPorts(67), withState("S0", 0),
		withL7(&schema.L7{DHCP: &schema.DHCP{MsgTypes: []string{"OFFER", "ACK"}, ClientMAC: macA, Assigned: "10.0.0.77", Hostname: "anna-mbp"}}))
	inv.Observe(ack)
	// The outer VXLAN flow of mirrored traffic is not a conversation of its hosts.
	inv.Observe(sess("172.31.5.10/0a:1b:2c:3d:4e:5f", "172.31.9.9/0a:1b:2c:3d:4e:60", 17, 4789, "vxlan", t0, withState("S0", 0)))
	devs, profs := byID(t, inv.Devices())
	srv := profs["mac:"+macR]
	if len(srv.Services) != 1 || srv.Services[0].Port != 67 || len(srv.ClientApps) != 0 {
		t.Errorf("DHCP server: services %+v client apps %+v", srv.Services, srv.ClientApps)
	}
	if d := devs["mac:"+macA]; !slices.Equal(d.IPs, []string{"10.0.0.77"}) {
		t.Errorf("DHCP client: %+v", d)
	}
	if len(devs) != 2 {
		t.Errorf("devices %v, want the DHCP server and client only", ids(inv.Devices()))
	}
}
