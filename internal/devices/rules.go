package devices

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Categories, in the order ties are broken.
const (
	Camera      = "camera"
	Printer     = "printer"
	Thermostat  = "thermostat"
	BadgeReader = "badge_reader"
	PLC         = "plc"
	HMI         = "hmi"
	Medical     = "medical"
	Phone       = "phone"
	Workstation = "workstation"
	Server      = "server"
	CloudVM     = "cloud_vm"
	Network     = "network"
	IoT         = "iot"
	Unknown     = "unknown"
)

// Categories lists every category Classify can return.
var Categories = []string{Camera, Printer, Thermostat, BadgeReader, PLC, HMI, Medical, Phone, Workstation, Server, CloudVM, Network, IoT, Unknown}

// MinCategoryScore is the score below which a device stays "unknown".
const MinCategoryScore = 0.3

// Rule is one line of the classification table: when its signal shows
// one of Values, the device's score for Category grows by Score. The
// table is mirrored in docs/devices.md (a test keeps the two in step).
type Rule struct {
	ID       string
	Category string
	Score    float64
	Signal   string   // what is looked at, for the docs
	Values   []string // keywords, ports or apps; matched as the signal says
	Doc      string   // what matches, for rules whose Values do not say it
	match    func(f *facts, values []string) (string, bool)
}

// Rules is the classification table.
var Rules = []Rule{
	// Cameras.
	{ID: "camera.vendor", Category: Camera, Score: 0.5, Signal: "vendor", match: matchVendor,
		Values: []string{"Hikvision", "Dahua", "Axis Communications", "Hanwha", "Samsung Techwin", "Vivotek", "Uniview",
			"Amcrest", "Reolink", "Foscam", "Mobotix", "Avigilon", "Arecont", "Wyze", "Lorex", "Swann", "Ezviz",
			"Pelco", "Milesight", "Verkada", "Bosch Security"}},
	{ID: "camera.rtsp", Category: Camera, Score: 0.4, Signal: "listens", match: matchListens,
		Values: []string{"tcp/554", "udp/554", "tcp/8554", "app:rtsp"}},
	{ID: "camera.paths", Category: Camera, Score: 0.5, Signal: "hint", match: matchHint,
		Values: []string{"onvif", "hikvision-isapi", "axis-cgi", "dahua-cgi", "camera-snapshot"}},
	{ID: "camera.banner", Category: Camera, Score: 0.4, Signal: "banner", match: matchBanner,
		Values: []string{"hikvision-webs", "app-webs", "dnvrs-webs", "dahua", "ipcam", "ip camera", "webcam",
			"network camera", "digitalsecuritycamera", "axis"}},
	{ID: "camera.names", Category: Camera, Score: 0.3, Signal: "name", match: matchName,
		Values: []string{"camera", "ipcam", "cam-", "_axis-video", "hikvision", "doorbell"}},
	{ID: "camera.cloud", Category: Camera, Score: 0.35, Signal: "domain", match: matchDomain,
		Values: []string{"hik-connect.com", "ezvizlife.com", "dahuap2p.com", "easy4ip.com", "imoulife.com", "wyzecam.com",
			"reolink.com", "arlo.com"}},

	// Printers.
	{ID: "printer.vendor", Category: Printer, Score: 0.45, Signal: "vendor", match: matchVendor,
		Values: []string{"Brother", "Seiko Epson", "Epson", "Canon", "Xerox", "Lexmark", "Kyocera", "Ricoh",
			"Konica Minolta", "Zebra Technologies", "Toshiba Tec", "Oki Data", "Pantum"}},
	{ID: "printer.vendor_hp", Category: Printer, Score: 0.25, Signal: "vendor", match: matchVendor,
		Values: []string{"HP", "Hewlett Packard", "Hewlett-Packard", "-Enterprise"}},
	{ID: "printer.ports", Category: Printer, Score: 0.5, Signal: "listens", match: matchListens,
		Values: []string{"tcp/631", "tcp/9100", "tcp/515", "app:ipp", "app:jetdirect"}},
	{ID: "printer.names", Category: Printer, Score: 0.4, Signal: "name", match: matchName,
		Values: []string{"_ipp._tcp", "_ipps._tcp", "_printer._tcp", "_pdl-datastream._tcp", "laserjet", "officejet",
			"deskjet", "pixma", "workforce", "ecotank", "printer"}},
	{ID: "printer.default_name", Category: Printer, Score: 0.4, Signal: "name", match: matchNameRegexp,
		Values: []string{`^brw[0-9a-f]{12}$`, `^brn[0-9a-f]{12}$`, `^npi[0-9a-f]{6}$`, `^hp[0-9a-f]{6}$`, `^epson[0-9a-f]{6}$`}},
	{ID: "printer.banner", Category: Printer, Score: 0.35, Signal: "banner", match: matchBanner,
		Values: []string{"hp http server", "virata-emweb", "epson_linux", "canon http server", "lexmark", "xerox",
			"kyocera", "cups/", "device:printer"}},
	{ID: "printer.paths", Category: Printer, Score: 0.4, Signal: "hint", match: matchHint,
		Values: []string{"ipp", "hp-printer"}},
	{ID: "printer.cloud", Category: Printer, Score: 0.25, Signal: "domain", match: matchDomain,
		Values: []string{"hpeprint.com", "hpconnected.com", "epsonconnect.com"}},

	// Thermostats.
	{ID: "thermostat.vendor", Category: Thermostat, Score: 0.6, Signal: "vendor", match: matchVendor,
		Values: []string{"Nest Labs", "ecobee", "tado", "Resideo", "Netatmo", "Mysa Smart", "Honeywell Environmental & Combustion Controls"}},
	{ID: "thermostat.vendor_hvac", Category: Thermostat, Score: 0.25, Signal: "vendor", match: matchVendor,
		Values: []string{"Honeywell", "Emerson Climate", "Carrier Corporation", "Trane", "Daikin"}},
	{ID: "thermostat.cloud", Category: Thermostat, Score: 0.5, Signal: "domain", match: matchDomain,
		Values: []string{"ecobee.com", "home.nest.com", "frontdoor.nest.com", "tado.com", "resideo.com",
			"honeywellhome.com", "mytotalconnectcomfort.com", "sensicomfort.com"}},
	{ID: "thermostat.names", Category: Thermostat, Score: 0.35, Signal: "name", match: matchName,
		Values: []string{"thermostat", "ecobee", "nest-", "tado"}},

	// Access control.
	{ID: "badge_reader.vendor", Category: BadgeReader, Score: 0.6, Signal: "vendor", match: matchVendor,
		Values: []string{"HID Global", "HID Corporation", "Genetec", "Kaba", "Chamberlain Access Solutions", "Lenel", "LenelS2", "Gallagher", "Suprema", "ZKTeco", "Paxton", "AMAG",
			"Software House", "Brivo", "Mercury Security", "Nedap", "Salto Systems", "Assa Abloy", "Allegion",
			"dormakaba", "Kisi", "CDVI", "Keri Systems", "RS2 Technologies", "Identiv"}},
	{ID: "badge_reader.ports", Category: BadgeReader, Score: 0.35, Signal: "listens", match: matchListens,
		Values: []string{"udp/4070", "tcp/4370", "udp/4370", "tcp/3001"}},
	{ID: "badge_reader.names", Category: BadgeReader, Score: 0.35, Signal: "name", match: matchName,
		Values: []string{"vertx", "badge", "door-controller", "doorcontroller", "access-control", "card-reader", "zkteco"}},

	// PLCs, RTUs and other OT field devices.
	{ID: "plc.vendor", Category: PLC, Score: 0.3, Signal: "vendor", match: matchVendor,
		Values: []string{"Siemens", "Rockwell Automation", "Allen-Bradley", "Schneider Electric", "Mitsubishi Electric",
			"Omron", "ABB", "Beckhoff", "Phoenix Contact", "WAGO", "B&R Industrial", "Yokogawa", "GE Fanuc",
			"GE Intelligent Platforms", "Emerson Process", "Delta Electronics", "Unitronics", "Koyo", "Festo", "Pilz", "Bosch Rexroth"}},
	{ID: "plc.ot_server", Category: PLC, Score: 0.6, Signal: "ot", match: matchOTRole,
		Values: []string{"server"}},
	{ID: "plc.identification", Category: PLC, Score: 0.4, Signal: "industrial", match: matchIdentification, Doc: "the device identified itself over an OT protocol (Modbus device identification, BACnet I-Am, S7 SZL)"},
	{ID: "plc.names", Category: PLC, Score: 0.3, Signal: "name", match: matchName,
		Values: []string{"plc", "simatic", "s7-1200", "s7-1500", "s7-300", "controllogix", "compactlogix", "modicon"}},

	// HMIs and engineering stations: clients polling OT devices.
	{ID: "hmi.ot_client", Category: HMI, Score: 0.5, Signal: "ot", match: matchOTRole,
		Values: []string{"client"}},
	{ID: "hmi.ot_client_many", Category: HMI, Score: 0.25, Signal: "ot", match: matchOTClientMany, Doc: "polls 3 or more OT servers in all"},
	{ID: "hmi.windows", Category: HMI, Score: 0.15, Signal: "ot+os", match: matchOTClientWindows, Doc: "an OT client whose OS guess is Windows (HMI and engineering software)"},
	{ID: "hmi.names", Category: HMI, Score: 0.3, Signal: "name", match: matchName,
		Values: []string{"hmi", "scada", "wincc", "factorytalk", "panelview", "citect", "wonderware"}},

	// Medical devices.
	{ID: "medical.vendor", Category: Medical, Score: 0.6, Signal: "vendor", match: matchVendor,
		Values: []string{"GE Healthcare", "GE Medical", "Philips Medical", "Philips Patient Monitoring", "Siemens Healthineers",
			"Siemens Healthcare", "Medtronic", "Baxter", "B. Braun", "B.Braun", "Mindray", "Draeger", "Drägerwerk", "Draegerwerk", "Nihon Kohden", "Spacelabs",
			"Welch Allyn", "Hill-Rom", "Fresenius", "CareFusion", "Becton Dickinson", "Hospira", "ICU Medical",
			"Masimo", "Carestream", "Natus", "Hologic", "Smiths Medical", "Zoll"}},
	{ID: "medical.vendor_philips", Category: Medical, Score: 0.2, Signal: "vendor", match: matchVendor,
		Values: []string{"Philips"}},
	{ID: "medical.dicom", Category: Medical, Score: 0.5, Signal: "listens", match: matchListens,
		Values: []string{"tcp/104", "tcp/11112", "app:dicom"}},
	{ID: "medical.dicom_client", Category: Medical, Score: 0.4, Signal: "client", match: matchClient,
		Values: []string{"tcp/104", "tcp/11112", "app:dicom"}},
	{ID: "medical.hl7", Category: Medical, Score: 0.4, Signal: "listens or client", match: matchListensOrClient,
		Values: []string{"tcp/2575", "app:hl7"}},

	// Phones: mobiles and VoIP desk phones.
	{ID: "phone.mobile_os", Category: Phone, Score: 0.6, Signal: "os", match: matchOS,
		Values: []string{"iOS", "Android"}},
	{ID: "phone.names", Category: Phone, Score: 0.4, Signal: "name", match: matchName,
		Values: []string{"iphone", "ipad", "galaxy", "android-", "pixel-", "oneplus", "redmi", "xiaomi", "huawei-"}},
	{ID: "phone.voip_vendor", Category: Phone, Score: 0.45, Signal: "vendor", match: matchVendor,
		Values: []string{"Polycom", "Poly", "Yealink", "Grandstream", "Snom", "Aastra", "Fanvil", "Obihai", "Mitel",
			"Avaya", "Htek", "Gigaset", "IP Phone"}},
	{ID: "phone.sip_vendor", Category: Phone, Score: 0.4, Signal: "sip+vendor", match: matchSIPVendor, Doc: "speaks SIP (udp/5060, tcp/5060, tcp/5061) and its vendor is one of the values",
		Values: []string{"Cisco", "Panasonic", "Alcatel-Lucent", "Unify"}},
	{ID: "phone.sip", Category: Phone, Score: 0.3, Signal: "listens or client", match: matchListensOrClient,
		Values: []string{"udp/5060", "tcp/5060", "tcp/5061", "app:sip"}},
	{ID: "phone.randomized_mac", Category: Phone, Score: 0.15, Signal: "mac", match: matchRandomizedMAC, Doc: "every MAC is locally administered (randomised), with no asset id and no mirror"},
	{ID: "phone.mobile_vendor", Category: Phone, Score: 0.15, Signal: "vendor", match: matchVendor,
		Values: []string{"Apple", "Samsung", "Xiaomi", "OnePlus", "Huawei", "Motorola", "Oppo", "Vivo"}},

	// Workstations: general-purpose computers used by people.
	{ID: "workstation.os", Category: Workstation, Score: 0.4, Signal: "os", match: matchOS,
		Values: []string{"Windows", "macOS", "ChromeOS"}},
	{ID: "workstation.browser", Category: Workstation, Score: 0.35, Signal: "user_agent", match: matchBrowser, Doc: "a desktop browser User-Agent (Mozilla/5.0 with Windows NT, Macintosh, X11 or CrOS, not Mobile)"},
	{ID: "workstation.names", Category: Workstation, Score: 0.4, Signal: "name", match: matchName,
		Values: []string{"desktop-", "laptop-", "macbook", "imac", "-pc", "workstation", "thinkpad"}},
	{ID: "workstation.many_apps", Category: Workstation, Score: 0.2, Signal: "client", match: matchManyApps, Doc: "client of 4 or more named protocols and 10 or more peers"},

	// Servers.
	{ID: "server.clients", Category: Server, Score: 0.4, Signal: "listens", match: matchBusyService, Doc: "a service with 5 or more distinct clients"},
	{ID: "server.services", Category: Server, Score: 0.3, Signal: "listens", match: matchListens,
		Values: []string{"app:ssh", "app:http", "app:tls", "app:smb", "app:ldap", "app:kerberos", "app:mysql",
			"app:postgresql", "app:mssql", "app:redis", "app:mongodb", "app:smtp", "app:imap", "app:nfs", "app:amqp",
			"tcp/22", "tcp/80", "tcp/443", "tcp/445", "tcp/3306", "tcp/5432"}},
	{ID: "server.many_services", Category: Server, Score: 0.2, Signal: "listens", match: matchManyServices, Doc: "listens on 3 or more ports"},
	{ID: "server.banner", Category: Server, Score: 0.3, Signal: "banner", match: matchBanner,
		Values: []string{"nginx", "apache", "microsoft-iis", "openresty", "caddy", "envoy", "gunicorn", "jetty", "tomcat"}},

	// Cloud virtual machines.
	{ID: "cloud_vm.asset", Category: CloudVM, Score: 0.85, Signal: "asset", match: matchAssetRegexp,
		Values: []string{`^i-[0-9a-f]{8}([0-9a-f]{9})?$`, `/virtualMachines/`, `^projects/[^/]+/zones/[^/]+/instances/`}},
	{ID: "cloud_vm.mirror_self", Category: CloudVM, Score: 0.5, Signal: "mirror", match: matchMirrorSelf, Doc: "mirrored over VXLAN from its own address (AWS Traffic Mirroring sends from the mirrored ENI)"},
	{ID: "cloud_vm.eni_mac", Category: CloudVM, Score: 0.35, Signal: "mac+mirror", match: matchENIMAC, Doc: "every MAC locally administered, traffic mirrored over VXLAN or GENEVE (AWS ENI MACs are locally administered)"},
	{ID: "cloud_vm.gcp_mac", Category: CloudVM, Score: 0.5, Signal: "mac", match: matchMACPrefix,
		Values: []string{"42:01:"}},
	{ID: "cloud_vm.segment", Category: CloudVM, Score: 0.25, Signal: "segment", match: matchSegment,
		Values: []string{"vpc-", "subnet-", "vnet"}},

	// Network gear.
	{ID: "network.gateway", Category: Network, Score: 0.75, Signal: "mac", match: matchGateway, Doc: "its MAC carried more than MaxIPsPerMAC addresses at once: a router"},
	{ID: "network.ttl255", Category: Network, Score: 0.3, Signal: "ttl", match: matchTTL255, Doc: "the most common initial TTL is 255"},
	{ID: "network.snmp", Category: Network, Score: 0.3, Signal: "listens", match: matchListens,
		Values: []string{"udp/161", "app:snmp"}},
	{ID: "network.vendor", Category: Network, Score: 0.3, Signal: "vendor", match: matchVendor,
		Values: []string{"Cisco", "Juniper", "Arista", "Aruba", "Ubiquiti", "MikroTik", "Routerboard", "Netgear",
			"TP-Link", "Fortinet", "Palo Alto Networks", "Extreme Networks", "Ruckus", "Meraki", "Hirschmann",
			"Brocade", "Zyxel", "D-Link", "Netgate", "SonicWall", "WatchGuard", "Cambium", "Allied Telesis", "Moxa"}},
	{ID: "network.infra", Category: Network, Score: 0.3, Signal: "listens", match: matchListens,
		Values: []string{"udp/67", "tcp/179"}},
	{ID: "network.ssh", Category: Network, Score: 0.4, Signal: "banner", match: matchBanner,
		Values: []string{"cisco-", "rosssh"}},

	// IoT: small connected devices talking to a broker or cloud.
	{ID: "iot.mqtt", Category: IoT, Score: 0.4, Signal: "client", match: matchMQTT, Doc: "an MQTT client id, or a client of mqtt, tcp/1883 or tcp/8883"},
	{ID: "iot.coap", Category: IoT, Score: 0.4, Signal: "listens or client", match: matchListensOrClient,
		Values: []string{"udp/5683", "app:coap"}},
	{ID: "iot.embedded_os", Category: IoT, Score: 0.3, Signal: "os", match: matchOS,
		Values: []string{"Embedded", "Embedded Linux"}},
	{ID: "iot.vendor", Category: IoT, Score: 0.3, Signal: "vendor", match: matchVendor,
		Values: []string{"Espressif", "Tuya", "Shelly", "Allterco", "ITEAD", "Raspberry Pi", "Silicon Labs",
			"Texas Instruments", "Nordic Semiconductor", "Murata", "Amazon Technologies", "Sonos", "Roku", "Signify",
			"Philips Lighting", "LIFX", "SimpliSafe", "Belkin", "Chamberlain", "iRobot", "Broadlink", "Lutron"}},
	{ID: "iot.cloud", Category: IoT, Score: 0.4, Signal: "domain", match: matchDomain,
		Values: []string{"iot.*.amazonaws.com", "azure-devices.net", "tuyaus.com", "tuyaeu.com", "tuyacn.com",
			"smartthings.com", "particle.io", "shelly.cloud", "ewelink.cc"}},
	{ID: "iot.names", Category: IoT, Score: 0.3, Signal: "name", match: matchName,
		Values: []string{"_hap._tcp", "_googlecast", "_amzn-wplay", "_sonos", "_matter", "chromecast", "shelly",
			"tasmota", "esp-", "esp_", "sonoff"}},
}

// facts are a profile's signals, lower-cased once for the rules.
type facts struct {
	p       *Profile
	vendors []sourced // MAC vendors, OT vendor, DHCP vendor class
	names   []string  // names, DHCP host name, OT product and name
	banners []string  // HTTP Server headers, SSH banners, SSDP strings
	domains []string
}

type sourced struct{ text, lower, source string }

func newFacts(p *Profile) *facts {
	f := &facts{p: p}
	addV := func(text, source string) {
		if text == "" {
			return
		}
		for _, v := range f.vendors {
			if v.text == text {
				return
			}
		}
		f.vendors = append(f.vendors, sourced{text, strings.ToLower(text), source})
	}
	for _, m := range p.MACs {
		addV(m.Vendor, "oui")
	}
	if p.Industrial != nil {
		addV(p.Industrial.Vendor, "industrial")
	}
	if p.DHCP != nil {
		addV(p.DHCP.VendorClass, "dhcp vendor class")
	}
	addN := func(s string) {
		if s != "" {
			f.names = append(f.names, strings.ToLower(s))
		}
	}
	for _, n := range p.Names {
		addN(n.Name)
		if n.Source == "ssdp" {
			f.banners = append(f.banners, strings.ToLower(n.Name))
		}
	}
	if p.DHCP != nil {
		addN(p.DHCP.Hostname)
	}
	if p.Industrial != nil {
		addN(p.Industrial.Product)
		addN(p.Industrial.Name)
	}
	for _, l := range [][]string{p.HTTPServers, p.SSH} {
		for _, b := range l {
			f.banners = append(f.banners, strings.ToLower(b))
		}
	}
	f.domains = domainsOf(p)
	return f
}

// Classify scores every category over the profile (whose OS guess must
// be set) and returns the best, with all its evidence, or "unknown" when
// no category reaches MinCategoryScore. A category's score is the
// noisy-OR of its matched rules (1 − Π(1 − score)); the confidence is
// that score less half the runner-up's.
func Classify(p *Profile) *Guess {
	f := newFacts(p)
	scores := map[string]float64{}
	evidence := map[string][]Evidence{}
	for i := range Rules {
		r := &Rules[i]
		detail, ok := r.match(f, r.Values)
		if !ok {
			continue
		}
		miss := 1 - scores[r.Category]
		scores[r.Category] = 1 - miss*(1-r.Score)
		evidence[r.Category] = append(evidence[r.Category], Evidence{Rule: r.ID, Detail: detail, Score: r.Score})
	}
	best, second := "", ""
	for _, c := range Categories {
		s, ok := scores[c]
		if !ok {
			continue
		}
		switch {
		case best == "" || s > scores[best]:
			best, second = c, best
		case second == "" || s > scores[second]:
			second = c
		}
	}
	g := &Guess{Name: Unknown}
	if best == "" {
		return g
	}
	if second != "" {
		g.RunnerUp, g.RunnerUpScore = second, round2(scores[second])
	}
	if scores[best] < MinCategoryScore {
		// Too little to go on; say what there was.
		g.RunnerUp, g.RunnerUpScore = best, round2(scores[best])
		g.Evidence = evidence[best]
		return g
	}
	g.Name, g.Evidence = best, evidence[best]
	g.Confidence = round2(math.Max(0, scores[best]-g.RunnerUpScore/2))
	return g
}

// wordMatch reports whether kw (lower case) occurs in s (lower case) as
// whole words: "axis" matches "axis communications ab", "vivo" does not
// match "vivotek".
func wordMatch(s, kw string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], kw)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(kw)
		if (j == 0 || !isAlnum(s[j-1])) && (end == len(s) || !isAlnum(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z'
}

// matchVendor: a value starting with "-" vetoes vendors that contain it
// ("-Enterprise" keeps Hewlett Packard Enterprise out of printers).
func matchVendor(f *facts, kws []string) (string, bool) {
vendors:
	for _, v := range f.vendors {
		for _, kw := range kws {
			if veto, ok := strings.CutPrefix(kw, "-"); ok && wordMatch(v.lower, strings.ToLower(veto)) {
				continue vendors
			}
		}
		for _, kw := range kws {
			if !strings.HasPrefix(kw, "-") && wordMatch(v.lower, strings.ToLower(kw)) {
				return fmt.Sprintf("vendor %q (%s) is %s", v.text, v.source, kw), true
			}
		}
	}
	return "", false
}

// matchName: values of four characters or fewer that start with a letter
// or digit must start a word ("hmi" is not in "schmidt").
func matchName(f *facts, subs []string) (string, bool) {
	for _, n := range f.names {
		for _, s := range subs {
			if nameContains(n, s) {
				return fmt.Sprintf("name %q contains %q", n, s), true
			}
		}
	}
	return "", false
}

func nameContains(n, s string) bool {
	if len(s) > 4 || !isAlnum(s[0]) {
		return strings.Contains(n, s)
	}
	for i := 0; ; {
		j := strings.Index(n[i:], s)
		if j < 0 {
			return false
		}
		if j += i; j == 0 || !isAlnum(n[j-1]) {
			return true
		}
		i = j + 1
	}
}

// regexps caches the compiled patterns of the rules that take regular
// expressions; TestRulePatterns compiles them all.
var regexps sync.Map // string → *regexp.Regexp

func regexpFor(pattern string) *regexp.Regexp {
	if re, ok := regexps.Load(pattern); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(pattern)
	regexps.Store(pattern, re)
	return re
}

func matchNameRegexp(f *facts, res []string) (string, bool) {
	for _, n := range f.names {
		for _, re := range res {
			if regexpFor(re).MatchString(n) {
				return fmt.Sprintf("name %q looks like a factory default (%s)", n, re), true
			}
		}
	}
	return "", false
}

func matchAssetRegexp(f *facts, res []string) (string, bool) {
	if f.p.Asset == "" {
		return "", false
	}
	for _, re := range res {
		if regexpFor(re).MatchString(f.p.Asset) {
			return fmt.Sprintf("asset id %q is a cloud instance", f.p.Asset), true
		}
	}
	return "", false
}

func matchBanner(f *facts, subs []string) (string, bool) {
	for _, b := range f.banners {
		for _, s := range subs {
			if strings.Contains(b, s) {
				return fmt.Sprintf("banner %q contains %q", b, s), true
			}
		}
	}
	return "", false
}

func matchDomain(f *facts, pats []string) (string, bool) {
	for _, d := range f.domains {
		for _, p := range pats {
			if domainMatch(d, p) {
				return fmt.Sprintf("contacted %s", d), true
			}
		}
	}
	return "", false
}

func matchHint(f *facts, tags []string) (string, bool) {
	for _, h := range f.p.Hints {
		if slices.Contains(tags, h.Tag) {
			return fmt.Sprintf("served or requested %s ×%d", h.Tag, h.Count), true
		}
	}
	return "", false
}

// portSpec matches "tcp/554" against a proto and port, "app:rtsp" against
// an application.
func portSpec(spec, proto string, port uint16, app string) bool {
	if a, ok := strings.CutPrefix(spec, "app:"); ok {
		return a == app
	}
	p, n, ok := strings.Cut(spec, "/")
	if !ok || p != proto {
		return false
	}
	v, err := strconv.Atoi(n)
	return err == nil && v == int(port)
}

func matchListens(f *facts, specs []string) (string, bool) {
	for _, s := range f.p.Services {
		for _, spec := range specs {
			if portSpec(spec, s.Proto, s.Port, s.App) {
				return fmt.Sprintf("listens on %s/%d (%s) for %d clients", s.Proto, s.Port, appOr(s.App), s.Clients), true
			}
		}
	}
	return "", false
}

func matchClient(f *facts, specs []string) (string, bool) {
	for _, a := range f.p.ClientApps {
		for _, spec := range specs {
			if portSpec(spec, a.Proto, a.Port, a.App) {
				return fmt.Sprintf("client of %s (%d sessions)", appOr2(a), a.Sessions), true
			}
		}
	}
	return "", false
}

func matchListensOrClient(f *facts, specs []string) (string, bool) {
	if d, ok := matchListens(f, specs); ok {
		return d, true
	}
	return matchClient(f, specs)
}

func appOr(app string) string {
	if app == "" {
		return "unknown app"
	}
	return app
}

func appOr2(a AppUse) string {
	if a.App == "" {
		return fmt.Sprintf("%s/%d", a.Proto, a.Port)
	}
	return a.App
}

func matchOS(f *facts, names []string) (string, bool) {
	if os := f.p.OS; os != nil && os.Confidence >= 0.4 && slices.Contains(names, os.Name) {
		return fmt.Sprintf("OS guess %s (%.2f)", os.Name, os.Confidence), true
	}
	return "", false
}

func matchOTRole(f *facts, roles []string) (string, bool) {
	for _, u := range f.p.OT {
		if slices.Contains(roles, u.Role) && u.Sessions > 0 {
			return fmt.Sprintf("%s %s: %d sessions with %d peers", u.Protocol, u.Role, u.Sessions, u.Peers), true
		}
	}
	return "", false
}

func matchOTClientMany(f *facts, _ []string) (string, bool) {
	var n uint64
	for _, u := range f.p.OT {
		if u.Role == "client" {
			n += u.Peers
		}
	}
	if n >= 3 {
		return fmt.Sprintf("polls %d OT servers", n), true
	}
	return "", false
}

func matchOTClientWindows(f *facts, _ []string) (string, bool) {
	if _, ok := matchOTRole(f, []string{"client"}); !ok {
		return "", false
	}
	return matchOS(f, []string{"Windows"})
}

func matchIdentification(f *facts, _ []string) (string, bool) {
	x := f.p.Industrial
	if x == nil || (x.Vendor == "" && x.Product == "" && x.Name == "") {
		return "", false
	}
	return fmt.Sprintf("identified itself over %s: %s %s %s", x.Protocol, x.Vendor, x.Product, x.Version), true
}

func matchSIPVendor(f *facts, kws []string) (string, bool) {
	sip, ok := matchListensOrClient(f, []string{"udp/5060", "tcp/5060", "tcp/5061", "app:sip"})
	if !ok {
		return "", false
	}
	v, ok := matchVendor(f, kws)
	if !ok {
		return "", false
	}
	return v + "; " + sip, true
}

func matchRandomizedMAC(f *facts, _ []string) (string, bool) {
	if f.p.RandomizedMAC && f.p.Asset == "" && f.p.Mirror == nil {
		return "locally administered (randomised) MAC", true
	}
	return "", false
}

// browserUA: a desktop browser's User-Agent.
func matchBrowser(f *facts, _ []string) (string, bool) {
	for _, ua := range f.p.UserAgents {
		if strings.HasPrefix(ua, "Mozilla/5.0") && !strings.Contains(ua, "Mobile") &&
			(strings.Contains(ua, "Windows NT") || strings.Contains(ua, "Macintosh") || strings.Contains(ua, "X11") || strings.Contains(ua, "CrOS")) {
			return fmt.Sprintf("desktop browser %q", ua), true
		}
	}
	return "", false
}

func matchManyApps(f *facts, _ []string) (string, bool) {
	apps := 0
	for _, a := range f.p.ClientApps {
		if a.App != "" {
			apps++
		}
	}
	if apps >= 4 && len(f.p.Peers) >= 10 {
		return fmt.Sprintf("client of %d protocols and %d peers", apps, len(f.p.Peers)), true
	}
	return "", false
}

func matchBusyService(f *facts, _ []string) (string, bool) {
	for _, s := range f.p.Services {
		if s.Clients >= 5 {
			return fmt.Sprintf("serves %s/%d (%s) to %d clients", s.Proto, s.Port, appOr(s.App), s.Clients), true
		}
	}
	return "", false
}

func matchManyServices(f *facts, _ []string) (string, bool) {
	if n := len(f.p.Services); n >= 3 {
		return fmt.Sprintf("listens on %d ports", n), true
	}
	return "", false
}

func matchMirrorSelf(f *facts, _ []string) (string, bool) {
	if m := f.p.Mirror; m != nil && m.Self && m.Kind == "vxlan" {
		return fmt.Sprintf("mirrored over VXLAN (VNI %d) from its own address, as AWS Traffic Mirroring does", m.VNI), true
	}
	return "", false
}

func matchENIMAC(f *facts, _ []string) (string, bool) {
	if f.p.RandomizedMAC && f.p.Mirror != nil && (f.p.Mirror.Kind == "vxlan" || f.p.Mirror.Kind == "geneve") {
		return fmt.Sprintf("locally administered MAC %s in %s-mirrored traffic (AWS ENI pattern)", f.p.MACs[0].MAC, f.p.Mirror.Kind), true
	}
	return "", false
}

func matchMACPrefix(f *facts, prefixes []string) (string, bool) {
	for _, m := range f.p.MACs {
		for _, p := range prefixes {
			if strings.HasPrefix(m.MAC, p) {
				return fmt.Sprintf("MAC %s starts with %s", m.MAC, p), true
			}
		}
	}
	return "", false
}

func matchSegment(f *facts, subs []string) (string, bool) {
	for _, s := range append([]string{f.p.Segment}, f.p.Tags...) {
		ls := strings.ToLower(s)
		for _, sub := range subs {
			if s != "" && strings.Contains(ls, sub) {
				return fmt.Sprintf("segment or tag %q", s), true
			}
		}
	}
	return "", false
}

func matchGateway(f *facts, _ []string) (string, bool) {
	if g := f.p.Gateway; g != nil {
		return fmt.Sprintf("MAC carries %d addresses: routes for others", g.Addresses), true
	}
	return "", false
}

func matchTTL255(f *facts, _ []string) (string, bool) {
	if t := f.p.TTL; t != nil && t.Initial == 255 {
		return "initial TTL 255", true
	}
	return "", false
}

func matchMQTT(f *facts, _ []string) (string, bool) {
	if len(f.p.MQTTClientIDs) > 0 {
		return fmt.Sprintf("MQTT client id %q", f.p.MQTTClientIDs[0]), true
	}
	return matchClient(f, []string{"app:mqtt", "tcp/1883", "tcp/8883"})
}
