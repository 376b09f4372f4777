package ocsf

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// testSessions covers each branch of the session mapping.
func testSessions() map[string]schema.Session {
	base := func(mod func(*schema.Session)) schema.Session {
		s := schema.Session{
			Version: 1, UID: "CFXXGGaiP4w8", Seq: 0, Final: true, EndReason: "fin", Tenant: "acme", Sensor: "s1", Source: "pcap",
			Start: t0, End: t0.Add(1500 * time.Millisecond),
			Orig:  schema.Endpoint{IP: addr("10.0.0.5"), Port: 40354, MAC: "48:f1:7f:a3:b6:ff", Asset: "i-0abc", AssetName: "web-1", Tags: []string{"prod"}, Segment: "dmz"},
			Resp:  schema.Endpoint{IP: addr("54.86.237.188"), Port: 443, MAC: "74:ac:b9:3f:d2:7d", Segment: "internet", Geo: &schema.Geo{Country: "US", City: "Ashburn", ASN: 14618, ASOrg: "AMAZON-AES"}},
			Proto: 6, Transport: "tcp", Direction: "outbound", ConnState: "SF", History: "ShADadFf",
			OrigPkts: 7, RespPkts: 5, OrigBytes: 87, RespBytes: 9212, OrigIPBytes: 459, RespIPBytes: 9480,
			CommunityID: "1:bIIcsFKdGXLKqpxEBc/g62+EmQI=",
		}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	return map[string]schema.Session{
		"tls closed": base(func(s *schema.Session) {
			s.App = "tls"
			s.L7 = &schema.L7{By: "content", Confidence: 0.95, TLS: &schema.TLS{Version: "TLSv13", SNI: "api.example.com", Cipher: "TLS_AES_128_GCM_SHA256",
				ALPN: []string{"h2"}, JA4: "t13d1516h2_8daaf6152771_b186095e22b6",
				Cert: &schema.Cert{Subject: "CN=api.example.com", Issuer: "CN=R3", NotBefore: t0, NotAfter: t0.AddDate(0, 3, 0), SHA256: "ab12", SANs: []string{"api.example.com", "10.1.2.3"}}}}
		}),
		"tls hello only": base(func(s *schema.Session) {
			s.App = "tls"
			s.L7 = &schema.L7{By: "content", TLS: &schema.TLS{SNI: "not a hostname!"}}
		}),
		"http with port and query": base(func(s *schema.Session) {
			s.Resp.Port = 8080
			s.App = "http"
			s.L7 = &schema.L7{By: "content", HTTP: &schema.HTTP{Method: "GET", Host: "example.com:8080", URI: "/a/b?x=1&y=2", UserAgent: "curl/8", Status: 200}}
		}),
		"http to an address": base(func(s *schema.Session) {
			s.App = "http"
			s.L7 = &schema.L7{By: "content", HTTP: &schema.HTTP{Method: "POST", Host: "[2001:db8::1]:80", URI: "/upload"}}
		}),
		"dns over udp": base(func(s *schema.Session) {
			s.Proto, s.Transport, s.ConnState, s.History, s.EndReason = 17, "udp", "SF", "Dd", "idle"
			s.Resp.Port, s.Direction = 53, "internal"
			s.Resp.IP, s.Resp.Geo = addr("10.0.0.2"), nil
			s.App = "dns"
			s.L7 = &schema.L7{By: "content", DNS: &schema.DNS{ID: 7, Query: "example.org", QType: "A", RCode: "NOERROR", Answers: []string{"93.184.216.34"}}}
		}),
		"icmp echo": base(func(s *schema.Session) {
			s.Proto, s.Transport, s.ConnState, s.History = 1, "icmp", "OTH", ""
			s.Orig.Port, s.Resp.Port = 8, 0
			s.Direction = "inbound"
		}),
		"ipv6 refused": base(func(s *schema.Session) {
			s.Orig.IP, s.Resp.IP = addr("2001:db8::5"), addr("2001:db8::6")
			s.ConnState, s.History, s.EndReason = "REJ", "Sr", "rst"
			s.Direction = ""
		}),
		"unanswered attempt": base(func(s *schema.Session) {
			s.ConnState, s.History, s.EndReason, s.RespPkts, s.RespIPBytes, s.RespBytes = "S0", "S", "idle", 0, 0, 0
			s.Direction = "external"
		}),
		"reset": base(func(s *schema.Session) { s.ConnState = "RSTO" }),
		"interim": base(func(s *schema.Session) {
			s.Final, s.EndReason, s.Seq, s.ConnState = false, "active", 2, "S1"
		}),
		"loopback": base(func(s *schema.Session) {
			s.Orig.IP, s.Resp.IP, s.Resp.Geo, s.Direction = addr("127.0.0.1"), addr("127.0.0.1"), nil, "internal"
		}),
		"gre without ports": base(func(s *schema.Session) {
			s.Proto, s.Transport, s.Orig.Port, s.Resp.Port, s.ConnState, s.History = 47, "unknown_transport", 0, 0, "OTH", ""
		}),
		"unknown protocol": base(func(s *schema.Session) { s.Proto, s.Transport, s.ConnState = 253, "unknown_transport", "OTH" }),
		"aws flow record rejected": base(func(s *schema.Session) {
			s.Source, s.EndReason, s.ConnState, s.History, s.CommunityID = "vpcflow", "window", "OTH", "", ""
			s.Orig.MAC, s.Resp.MAC = "", ""
			s.Flow = &schema.Flow{Action: "reject", Direction: "egress", TCPFlags: 2, Account: "123456789012", Region: "eu-west-1",
				Zone: "euw1-az1", VPC: "vpc-1", Subnet: "subnet-1", Instance: "i-0abc", Interface: "eni-1",
				PktSrc: addr("10.0.9.9"), PktDstService: "S3"}
		}),
		"netflow ingress accepted": base(func(s *schema.Session) {
			s.Source, s.EndReason, s.ConnState, s.History = "ipfix", "export", "OTH", ""
			s.Flow = &schema.Flow{Action: "accept", Direction: "ingress", Exporter: addr("10.255.0.1"), SamplingRate: 100, Interface: "3"}
		}),
		"tunnelled with intel": base(func(s *schema.Session) {
			s.VLANs, s.TunnelParents = []uint16{10}, []string{"C65SDcKvAhbQ"}
			s.Resp.Intel = []schema.IntelHit{{Feed: "abuse", Indicator: "54.86.237.0/24", Field: "ip"}}
			s.Intel = []schema.IntelHit{{Feed: "abuse", Indicator: "evil.example", Field: "tls.sni"}}
			s.L7 = &schema.L7{By: "port", Confidence: 0.3, SSH: &schema.SSH{Client: "SSH-2.0-OpenSSH_9.6"}}
		}),
		"bare": {UID: "C1", Source: "pcap", Start: t0, End: t0, Orig: schema.Endpoint{IP: addr("192.0.2.1")}, Resp: schema.Endpoint{IP: addr("192.0.2.2")}, Proto: 6, Final: true},
	}
}

func evidenceJSON(t testing.TB, v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testFindings covers each state, severity and evidence shape.
func testFindings(t testing.TB) map[string]schema.Finding {
	base := func(mod func(f *schema.Finding, ev map[string]any)) schema.Finding {
		f := schema.Finding{ID: "31cc0da019d709680559e4c4c574c868", Tenant: "acme", Time: t0, Detector: "horizontal-scan", Rule: "horizontal-scan",
			Severity: "medium", State: "active", DedupeKey: "horizontal-scan|10.0.0.5|22", Technique: "T1046",
			Entities: []string{"asset:i-0abc", "ip:10.0.0.5", "port:22"}}
		ev := map[string]any{"summary": "10.0.0.5 probed 212 hosts on 22/tcp in 60 s", "first_seen": t0, "last_seen": t0,
			"count": 1, "sessions": []string{"CKd1/0", "CKd2/0"}, "values": map[string]any{"hosts": 212, "threshold": 100}, "state": "active"}
		if mod != nil {
			mod(&f, ev)
		}
		f.Evidence = evidenceJSON(t, ev)
		return f
	}
	return map[string]schema.Finding{
		"raised": base(nil),
		"repeated": base(func(f *schema.Finding, ev map[string]any) {
			ev["count"], ev["last_seen"], ev["sessions_omitted"] = 40, t0.Add(2*time.Minute), 3
		}),
		"acknowledged true positive": base(func(f *schema.Finding, ev map[string]any) {
			f.State, ev["count"], ev["verdict"], ev["note"] = "acknowledged", 3, "true_positive", "ticket SOC-12"
		}),
		"acknowledged": base(func(f *schema.Finding, ev map[string]any) { f.State = "acknowledged" }),
		"cleared": base(func(f *schema.Finding, ev map[string]any) {
			f.State, f.Severity, ev["last_seen"] = "cleared", "critical", t0.Add(time.Hour)
		}),
		"evicted": base(func(f *schema.Finding, ev map[string]any) { f.State, ev["evicted"] = "cleared", true }),
		"false positive": base(func(f *schema.Finding, ev map[string]any) {
			f.State, ev["verdict"], ev["suppression"] = "false_positive", "false_positive", "9f0c4b2a1d3e5f67"
		}),
		"benign positive": base(func(f *schema.Finding, ev map[string]any) { f.State, f.Severity = "benign_positive", "info" }),
		"dns tunnel": base(func(f *schema.Finding, ev map[string]any) {
			f.Detector, f.Rule, f.Technique, f.Severity = "dns-tunnel", "dns-tunnel", "T1071.004", "high"
			f.Entities, f.DedupeKey = []string{"domain:t.evil.example", "ip:10.0.0.7"}, "dns-tunnel|10.0.0.7|t.evil.example"
			ev["summary"] = "10.0.0.7 sent 900 unique subdomains of t.evil.example in 5 min"
			ev["values"] = map[string]any{"confidence": 0.82, "unique_subdomains": 900}
		}),
		"policy with unnamed technique": base(func(f *schema.Finding, ev map[string]any) {
			f.Detector, f.Rule, f.Technique, f.Severity = "policy", "ssh-from-internet", "T1133", "low"
			f.Entities = []string{"ip:2001:db8::9", "mqtt_client:thermo-1", "tag:prod", "thing:thermostat-1", "cert:ab12cd", "domain:not_a_host"}
			ev["values"] = map[string]any{"confidence": 35}
		}),
		"unknown detector, no evidence": {ID: "a1", Time: t0, Detector: "custom", Rule: "r", Severity: "low", State: "active"},
		"unnamed sub-technique": base(func(f *schema.Finding, ev map[string]any) {
			f.Technique, ev["values"] = "T1021.001", map[string]any{"confidence": "high"}
		}),
	}
}

// encode encodes one event or fails the test.
func encode(t testing.TB, enc *Encoder, ev *deliver.Event) []byte {
	t.Helper()
	b, err := enc.Encode(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sessionEvent(s *schema.Session) *deliver.Event {
	return &deliver.Event{Kind: deliver.KindSession, Tenant: s.Tenant, Time: s.End, Session: s}
}

func findingEvent(f *schema.Finding) *deliver.Event {
	return &deliver.Event{Kind: deliver.KindFinding, Tenant: f.Tenant, Time: f.Time, Finding: f}
}

func testEncoder() *Encoder {
	c := DefaultConfig()
	c.ProductVersion = "v1.0.0-test"
	return NewEncoder(c)
}
