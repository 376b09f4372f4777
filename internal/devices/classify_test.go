package devices

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

type scenario struct {
	name     string
	id       string // the device under test
	want     string // its category
	sessions []*schema.Session
}

// Sessions as a sensor on each kind of network would write them: the
// L7 fields are what internal/dpi fills for those protocols.
func categoryScenarios() []scenario {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	var sc []scenario

	// An IP camera: an NVR pulls its RTSP stream, an operator opens its
	// web page, it calls its vendor's cloud.
	{
		cam := "10.0.10.11/44:19:b6:00:10:11"
		sc = append(sc, scenario{"camera", "mac:44:19:b6:00:10:11", Camera, []*schema.Session{
			sess("10.0.10.2/d8:9e:f3:00:10:02", cam, 6, 554, "rtsp", at(0), withSYN(64, "64240:1460:7:mss,sok,ts,nop,ws", 64, "28960:1460:7:mss,sok,ts,nop,ws")),
			sess("10.0.0.21/d8:9e:f3:00:00:21", cam, 6, 80, "http", at(1), withL7(&schema.L7{HTTP: &schema.HTTP{Method: "GET", URI: "/ISAPI/System/deviceInfo", Server: "App-webs/", Status: 200}})),
			sess(cam, "10.0.0.1", 17, 53, "dns", at(2), withL7(&schema.L7{DNS: &schema.DNS{Query: "litedev.hik-connect.com", QType: "A"}})),
		}})
	}
	// A network printer: factory host name, JetDirect and IPP jobs from
	// several PCs, announces itself over mDNS.
	{
		prn := "10.0.0.40/00:80:77:12:34:56"
		s := []*schema.Session{
			dhcpAck("00:80:77:12:34:56", "10.0.0.40", "BRW008077123456", "1,3,6,12,15,44", "", at(0)),
			sess(prn, "224.0.0.251/01:00:5e:00:00:fb", 17, 5353, "mdns", at(1), withState("S0", 0), withPorts(5353),
				withL7(&schema.L7{Names: []string{"Brother HL-L2350DW series._ipp._tcp.local", "BRW008077123456.local"}})),
		}
		for i := range 3 {
			s = append(s, sess(fmt.Sprintf("10.0.0.%d", 21+i), prn, 6, 9100, "jetdirect", at(2+i)))
			s = append(s, sess(fmt.Sprintf("10.0.0.%d", 21+i), prn, 6, 631, "ipp", at(5+i)))
		}
		sc = append(sc, scenario{"printer", "mac:00:80:77:12:34:56", Printer, s})
	}
	// A smart thermostat that only talks to its cloud.
	{
		th := "10.0.0.61/18:b4:30:00:00:61"
		sc = append(sc, scenario{"thermostat", "mac:18:b4:30:00:00:61", Thermostat, []*schema.Session{
			dhcpAck("18:b4:30:00:00:61", "10.0.0.61", "Living-Room-Thermostat", "1,3,6,15,28,42", "", at(0)),
			sess(th, "34.120.1.1", 6, 443, "tls", at(1), withL7(&schema.L7{TLS: &schema.TLS{SNI: "frontdoor.nest.com", JA4: "t12d1909h2_d83cc789557e_7af1ed941c26"}})),
			sess(th, "10.0.0.1", 17, 123, "ntp", at(2)),
		}})
	}
	// A door controller answering discovery and reporting to its server.
	{
		door := "10.0.60.5/00:06:8e:00:60:05"
		sc = append(sc, scenario{"badge reader", "mac:00:06:8e:00:60:05", BadgeReader, []*schema.Session{
			sess("10.0.60.2/d8:9e:f3:00:60:02", door, 17, 4070, "", at(0)),
			sess(door, "10.0.60.2/d8:9e:f3:00:60:02", 6, 443, "tls", at(1), withSYN(64, "5840:1460:2:mss,sok,ts,nop,ws", 128, "")),
		}})
	}
	// A Siemens PLC polled by its HMI; it identified itself (SZL read).
	{
		plc := "10.0.20.10/00:1b:1b:00:20:10"
		hmi := "10.0.20.50/d8:9e:f3:00:20:50"
		s7 := func(fns ...string) *schema.L7 {
			return &schema.L7{By: "content", Confidence: 1, Industrial: &schema.Industrial{Protocol: "s7comm", Functions: fns}}
		}
		id := s7("Setup communication", "Read SZL")
		id.Industrial.Vendor, id.Industrial.Product, id.Industrial.Name, id.Industrial.Version = "Siemens", "6ES7 214-1AG40-0XB0", "PLC_1", "V4.4"
		sc = append(sc, scenario{"plc", "mac:00:1b:1b:00:20:10", PLC, []*schema.Session{
			sess(hmi, plc, 6, 102, "s7comm", at(0), withL7(id)),
			sess(hmi, plc, 6, 102, "s7comm", at(1), withL7(s7("Setup communication", "Read Var"))),
			sess(hmi, plc, 6, 102, "s7comm", at(2), withL7(s7("Read Var"))),
		}})
		// The HMI: a Windows box polling that PLC and two Modbus devices.
		var s []*schema.Session
		for i, srv := range []string{"10.0.20.11/00:00:bc:00:20:11", "10.0.20.12/00:80:f4:00:20:12"} {
			for j := range 3 {
				s = append(s, sess(hmi, srv, 6, 502, "modbus", at(i*10+j), withSYN(128, "64240:1460:8:mss,nop,ws,nop,nop,sok", 64, ""),
					withL7(&schema.L7{Industrial: &schema.Industrial{Protocol: "modbus", Functions: []string{"Read Holding Registers"}, Units: []uint32{1}}})))
			}
		}
		s = append(s, sess(hmi, plc, 6, 102, "s7comm", at(30), withL7(s7("Read Var"))))
		sc = append(sc, scenario{"hmi", "mac:d8:9e:f3:00:20:50", HMI, s})
	}
	// A patient monitor sending HL7 results to the hospital's engine.
	{
		mon := "10.0.30.21/44:4b:5d:00:30:21"
		sc = append(sc, scenario{"medical", "mac:44:4b:5d:00:30:21", Medical, []*schema.Session{
			sess(mon, "10.0.30.5/d8:9e:f3:00:30:05", 6, 2575, "", at(0), withSYN(64, "8192:1460:0:mss", 64, "")),
			sess(mon, "10.0.30.5/d8:9e:f3:00:30:05", 6, 2575, "", at(5)),
		}})
	}
	// An iPhone with a private (randomised) Wi-Fi address.
	{
		mac := "3a:1f:6c:00:00:31"
		ph := "10.0.0.31/" + mac
		sc = append(sc, scenario{"mobile phone", "mac:" + mac, Phone, []*schema.Session{
			dhcpAck(mac, "10.0.0.31", "Annas-iPhone", "1,121,3,6,15,119,252", "", at(0)),
			sess(ph, "17.253.1.1", 6, 80, "http", at(1), withSYN(64, "65535:1460:6:mss,nop,ws,nop,nop,ts,sok,eol", 0, ""),
				withL7(&schema.L7{HTTP: &schema.HTTP{Method: "GET", Host: "captive.apple.com", URI: "/hotspot-detect.html", UserAgent: "CaptiveNetworkSupport-443.40.2 wispr"}})),
			sess(ph, "17.57.146.1", 6, 443, "tls", at(2), withSYN(64, "65535:1460:6:mss,nop,ws,nop,nop,ts,sok,eol", 0, ""),
				withL7(&schema.L7{TLS: &schema.TLS{SNI: "gateway.icloud.com"}})),
		}})
	}
	// A VoIP desk phone registering with the PBX.
	{
		ph := "10.0.40.21/80:5e:c0:00:40:21"
		pbx := "10.0.40.2/d8:9e:f3:00:40:02"
		sc = append(sc, scenario{"voip phone", "mac:80:5e:c0:00:40:21", Phone, []*schema.Session{
			sess(ph, pbx, 17, 5060, "sip", at(0), withPorts(5060)),
			sess(pbx, ph, 17, 5060, "sip", at(1), withPorts(5060)),
		}})
	}
	// A Windows laptop.
	{
		pc := "10.0.0.21/d8:9e:f3:00:00:21"
		syn := withSYN(128, "64240:1460:8:mss,nop,ws,nop,nop,sok", 0, "")
		s := []*schema.Session{
			dhcpAck("d8:9e:f3:00:00:21", "10.0.0.21", "DESKTOP-7H2K9QL", "1,3,6,15,31,33,43,44,46,47,119,121,249,252", "MSFT 5.0", at(0)),
			sess(pc, "13.107.4.52", 6, 80, "http", at(1), syn, withL7(&schema.L7{HTTP: &schema.HTTP{Method: "GET", Host: "www.msftconnecttest.com", URI: "/connecttest.txt", UserAgent: "Microsoft NCSI"}})),
			sess(pc, "142.250.1.1", 6, 443, "http", at(2), syn, withL7(&schema.L7{HTTP: &schema.HTTP{Method: "GET", Host: "example.org", URI: "/", UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"}})),
		}
		sc = append(sc, scenario{"workstation", "mac:d8:9e:f3:00:00:21", Workstation, s})
	}
	// A Linux server with SSH and a web site used by a team.
	{
		srv := "10.0.50.10/d8:9e:f3:00:50:10"
		var s []*schema.Session
		for i := range 8 {
			cli := fmt.Sprintf("10.0.0.%d", 100+i)
			s = append(s, sess(cli, srv, 6, 443, "http", at(i), withSYN(128, "64240:1460:8:mss,nop,ws,nop,nop,sok", 64, "65160:1460:7:mss,sok,ts,nop,ws"),
				withL7(&schema.L7{HTTP: &schema.HTTP{Method: "GET", Host: "wiki.corp.example", URI: "/", Server: "nginx/1.24.0 (Ubuntu)", Status: 200}})))
			s = append(s, sess(cli, srv, 6, 22, "ssh", at(i), withL7(&schema.L7{SSH: &schema.SSH{Client: "SSH-2.0-OpenSSH_9.6", Server: "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13"}})))
		}
		sc = append(sc, scenario{"server", "mac:d8:9e:f3:00:50:10", Server, s})
	}
	// An EC2 instance's traffic, mirrored to the sensor over VXLAN from its ENI.
	{
		vm := "172.31.5.10/0a:1b:2c:3d:4e:5f"
		var s []*schema.Session
		for i := range 6 {
			s = append(s, sess(fmt.Sprintf("198.51.100.%d/0a:00:00:00:00:01", i+1), vm, 6, 443, "tls", at(i), withMirror("vxlan", "172.31.5.10", 4242)))
		}
		sc = append(sc, scenario{"cloud vm", "mac:0a:1b:2c:3d:4e:5f", CloudVM, s})
	}
	// The site's firewall: DHCP server, polled over SNMP, SSH management.
	{
		fw := "10.0.0.1/00:09:0f:00:00:01"
		sc = append(sc, scenario{"network", "mac:00:09:0f:00:00:01", Network, []*schema.Session{
			sess("10.0.0.21/d8:9e:f3:00:00:21", fw, 17, 67, "dhcp", at(0), withPorts(68)),
			sess("10.0.0.5/d8:9e:f3:00:00:05", fw, 17, 161, "snmp", at(1)),
			sess("10.0.0.5/d8:9e:f3:00:00:05", fw, 6, 22, "ssh", at(2), withSYN(64, "", 255, "5840:1460:0:mss,nop,nop,sok")),
		}})
	}
	// An ESP32 sensor publishing to the local broker.
	{
		esp := "10.0.0.70/24:0a:c4:00:00:70"
		sc = append(sc, scenario{"iot", "mac:24:0a:c4:00:00:70", IoT, []*schema.Session{
			dhcpAck("24:0a:c4:00:00:70", "10.0.0.70", "ESP_3A4F1C", "1,3,28,6,15,44,46,47,31,33,121,43", "", at(0)),
			sess(esp, "10.0.0.60/d8:9e:f3:00:00:60", 6, 1883, "mqtt", at(1), withSYN(255, "5744:1436:0:mss", 64, ""),
				withL7(&schema.L7{MQTT: &schema.MQTT{ClientID: "sensor-kitchen-01", ProtocolLevel: 4}})),
		}})
	}
	// Something that only asked one DNS question.
	sc = append(sc, scenario{"unknown", "ip:10.0.0.99", Unknown, []*schema.Session{
		sess("10.0.0.99", "10.0.0.1", 17, 53, "dns", at(0)),
	}})
	return sc
}

func TestCategories(t *testing.T) {
	for _, sc := range categoryScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			inv, _ := newTestInventory(t, nil)
			for _, s := range sc.sessions {
				inv.Observe(s)
			}
			devs, profs := byID(t, inv.Devices())
			d, ok := devs[sc.id]
			if !ok {
				t.Fatalf("no device %s; have %v", sc.id, ids(inv.Devices()))
			}
			p := profs[sc.id]
			if d.Category != sc.want || p.Category.Name != sc.want {
				t.Fatalf("category %q, want %q; guess %+v; os %+v", d.Category, sc.want, p.Category, p.OS)
			}
			if sc.want != Unknown && (p.Category.Confidence < 0.3 || len(p.Category.Evidence) == 0) {
				t.Errorf("weak guess %+v", p.Category)
			}
			for _, e := range p.Category.Evidence {
				if !strings.HasPrefix(e.Rule, sc.want+".") || e.Detail == "" || e.Score <= 0 {
					t.Errorf("evidence %+v does not belong to %s", e, sc.want)
				}
			}
		})
	}
	// Every category but unknown has a scenario.
	covered := map[string]bool{}
	for _, sc := range categoryScenarios() {
		covered[sc.want] = true
	}
	for _, c := range Categories {
		if !covered[c] {
			t.Errorf("no scenario for %s", c)
		}
	}
}

// All scenarios in one inventory: each device keeps its category when
// it shares the network with the others.
func TestCategoriesTogether(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	all := categoryScenarios()
	for _, sc := range all {
		for _, s := range sc.sessions {
			inv.Observe(s)
		}
	}
	devs, _ := byID(t, inv.Devices())
	for _, sc := range all {
		if got := devs[sc.id].Category; got != sc.want {
			t.Errorf("%s: %s is %q, want %q", sc.name, sc.id, got, sc.want)
		}
	}
}

func TestOSGuess(t *testing.T) {
	cases := []struct {
		name    string
		p       Profile
		want    string
		minConf float64
	}{
		{"Windows 10", Profile{TTL: ttl(128), TCPSigs: []TCPSig{{Sig: "64240:1460:8:mss,nop,ws,nop,nop,sok"}},
			DHCP: &DHCPSeen{ParamList: "1,3,6,15,31,33,43,44,46,47,119,121,249,252", VendorClass: "MSFT 5.0"}}, "Windows", 0.9},
		{"Linux by SYN", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "64240:1460:7:mss,sok,ts,nop,ws"}}}, "Linux", 0.6},
		{"Linux server by SYN-ACK and banners", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65160:1460:7:mss,sok,ts,nop,ws", SynAck: true}},
			SSH: []string{"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13"}}, "Linux", 0.6},
		{"macOS", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65535:1460:6:mss,nop,ws,nop,nop,ts,sok,eol"}},
			DHCP: &DHCPSeen{ParamList: "1,121,3,6,15,108,114,119,252,95,44,46"}}, "macOS", 0.8},
		{"iOS", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65535:1460:6:mss,nop,ws,nop,nop,ts,sok,eol"}},
			DHCP: &DHCPSeen{ParamList: "1,121,3,6,15,119,252"}, Names: []Name{{Name: "Annas-iPhone"}}}, "iOS", 0.8},
		{"Apple, unsure which", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65535:1460:6:mss,nop,ws,nop,nop,ts,sok,eol"}}}, "Apple", 0.6},
		{"Android", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65535:1460:9:mss,sok,ts,nop,ws"}},
			DHCP: &DHCPSeen{ParamList: "1,3,6,15,26,28,51,58,59,43,114", VendorClass: "android-dhcp-14"}}, "Android", 0.9},
		{"lwIP device", Profile{TTL: ttl(255), TCPSigs: []TCPSig{{Sig: "5744:1436:0:mss"}}, DHCP: &DHCPSeen{ParamList: "1,3,28,6"}}, "Embedded", 0.5},
		{"BusyBox Linux", Profile{TTL: ttl(64), DHCP: &DHCPSeen{ParamList: "1,3,6,12,15,28,42", VendorClass: "udhcp 1.36.1"}, SSH: []string{"SSH-2.0-dropbear_2022.83"}}, "Embedded Linux", 0.7},
		{"Cisco IOS", Profile{TTL: ttl(255), SSH: []string{"SSH-2.0-Cisco-1.25"}}, "Network OS", 0.7},
		{"only a TTL of 64", Profile{TTL: ttl(64)}, "Unix-like", 0.3},
		{"FreeBSD", Profile{TTL: ttl(64), TCPSigs: []TCPSig{{Sig: "65535:1460:6:mss,nop,ws,sok,ts"}}}, "FreeBSD", 0.6},
		{"ChromeOS by user agent", Profile{TTL: ttl(64), UserAgents: []string{"Mozilla/5.0 (X11; CrOS x86_64 15359.58.0) AppleWebKit/537.36"}}, "ChromeOS", 0.6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := GuessOS(&tc.p)
			if g == nil || g.Name != tc.want || g.Confidence < tc.minConf {
				t.Fatalf("guess %+v, want %s ≥ %.2f", g, tc.want, tc.minConf)
			}
			if len(g.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
	t.Run("contradiction lowers confidence", func(t *testing.T) {
		p := Profile{TTL: ttl(128), TCPSigs: []TCPSig{{Sig: "64240:1460:7:mss,sok,ts,nop,ws"}}}
		g := GuessOS(&p)
		if g.RunnerUp == "" || g.Confidence >= 0.5 {
			t.Errorf("guess %+v, want a weak one with a runner-up", g)
		}
	})
	t.Run("nothing to go on", func(t *testing.T) {
		if g := GuessOS(&Profile{}); g != nil {
			t.Errorf("guess %+v from an empty profile", g)
		}
	})
}

func ttl(initial int) *TTL {
	return &TTL{Initial: initial, Sessions: map[string]uint32{fmt.Sprint(initial): 3}}
}

// The OS guess as built from sessions (TTL and SYN from the meter).
func TestOSFromSessions(t *testing.T) {
	inv, _ := newTestInventory(t, nil)
	for i := range 3 {
		inv.Observe(sess("10.0.0.5/"+macB, "93.184.216.34", 6, 443, "tls", t0.Add(time.Duration(i)*time.Second),
			withSYN(128, "64240:1460:8:mss,nop,ws,nop,nop,sok", 52, "65535:1380:9:mss,nop,ws,sok,ts")))
	}
	_, profs := byID(t, inv.Devices())
	p := profs["mac:"+macB]
	if p.TTL == nil || p.TTL.Initial != 128 || p.TTL.Sessions["128"] != 3 || len(p.TCPSigs) != 1 || p.TCPSigs[0].Count != 3 {
		t.Fatalf("fingerprints: ttl %+v sigs %+v", p.TTL, p.TCPSigs)
	}
	if p.OS == nil || p.OS.Name != "Windows" {
		t.Errorf("os %+v", p.OS)
	}
}

func TestWordMatch(t *testing.T) {
	for _, tc := range []struct {
		s, kw string
		want  bool
	}{
		{"axis communications ab", "axis", true},
		{"vivotek inc.", "vivo", false},
		{"hp inc.", "hp", true},
		{"hangzhou hikvision digital technology co.,ltd.", "hikvision", true},
		{"yealink(xiamen) network technology", "yealink", true},
		{"springfield", "ring", false},
		{"nest labs inc.", "nest labs", true},
	} {
		if got := wordMatch(tc.s, tc.kw); got != tc.want {
			t.Errorf("wordMatch(%q, %q) = %v", tc.s, tc.kw, got)
		}
	}
}

func TestVendorAndNameMatching(t *testing.T) {
	f := &facts{p: &Profile{}, vendors: []sourced{{text: "Aruba, a Hewlett Packard Enterprise Company", lower: "aruba, a hewlett packard enterprise company", source: "oui"}},
		names: []string{"schmidt-laptop", "line2-hmi", "livingroomthermostat"}}
	if d, ok := matchVendor(f, ruleValues("printer.vendor_hp")); ok {
		t.Errorf("HPE matched the HP printer rule: %s", d)
	}
	if _, ok := matchVendor(f, ruleValues("network.vendor")); !ok {
		t.Error("Aruba did not match the network vendors")
	}
	for kw, want := range map[string]bool{"hmi": true, "thermostat": true, "plc": false} {
		if _, ok := matchName(f, []string{kw}); ok != want {
			t.Errorf("name %q: %v, want %v", kw, ok, want)
		}
	}
	f.names = []string{"schmidt"}
	if _, ok := matchName(f, []string{"hmi"}); ok {
		t.Error(`"hmi" matched inside "schmidt"`)
	}
}

func ruleValues(id string) []string {
	for _, r := range Rules {
		if r.ID == id {
			return r.Values
		}
	}
	return nil
}

func TestRulePatterns(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if !strings.HasPrefix(r.ID, r.Category+".") || r.match == nil || r.Score <= 0 || r.Score >= 1 {
			t.Errorf("rule %+v", r)
		}
		if r.ID == "printer.default_name" || r.ID == "cloud_vm.asset" {
			for _, v := range r.Values {
				regexpFor(v)
			}
		}
	}
}
