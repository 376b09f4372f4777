package ocsf

import (
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/schema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestEventsValidate: every session and finding of the fixtures, with
// and without unmapped, encodes to an event the OCSF 1.3.0 table
// accepts.
func TestEventsValidate(t *testing.T) {
	for _, unmapped := range []bool{true, false} {
		c := DefaultConfig()
		c.Unmapped = unmapped
		enc := NewEncoder(c)
		sessions, findings := testSessions(), testFindings(t)
		for _, name := range slices.Sorted(maps.Keys(sessions)) {
			s := sessions[name]
			checkValid(t, "session "+name, encode(t, enc, sessionEvent(&s)))
		}
		for _, name := range slices.Sorted(maps.Keys(findings)) {
			f := findings[name]
			checkValid(t, "finding "+name, encode(t, enc, findingEvent(&f)))
		}
	}
}

func checkValid(t *testing.T, name string, line []byte) {
	t.Helper()
	if errs := validate(line); len(errs) > 0 {
		t.Errorf("%s: %d problems:\n  %s\n%s", name, len(errs), strings.Join(errs, "\n  "), line)
	}
	if !strings.HasPrefix(string(line), `{"time":`) {
		t.Errorf("%s: does not start with time: %.40s", name, line)
	}
}

// TestValidatorCatches: the validator finds what is wrong with an
// event, so that TestEventsValidate can fail.
func TestValidatorCatches(t *testing.T) {
	enc := testEncoder()
	s := testSessions()["tls closed"]
	f := testFindings(t)["dns tunnel"]
	good := map[string][]byte{"session": encode(t, enc, sessionEvent(&s)), "finding": encode(t, enc, findingEvent(&f))}
	for _, tc := range []struct {
		name, of string
		mod      func(ev map[string]any)
		want     string
	}{
		{"required attribute missing", "session", func(ev map[string]any) { delete(ev, "dst_endpoint") }, "dst_endpoint: required"},
		{"required nested attribute missing", "finding", func(ev map[string]any) { delete(obj(ev, "finding_info"), "title") }, "finding_info.title: required"},
		{"attribute not claimed", "session", func(ev map[string]any) { ev["disposition_id"] = 1 }, "disposition_id: not an attribute"},
		{"nested attribute not claimed", "session", func(ev map[string]any) { obj(ev, "src_endpoint")["region"] = "x" }, "src_endpoint.region: not an attribute"},
		{"enum out of range", "session", func(ev map[string]any) { ev["activity_id"], ev["type_uid"] = 8, 400108 }, "activity_id: 8 is not one of"},
		{"finding enum from another class", "finding", func(ev map[string]any) { ev["activity_id"], ev["type_uid"] = 6, 200406 }, "activity_id: 6 is not one of"},
		{"string for an integer", "session", func(ev map[string]any) { obj(ev, "dst_endpoint")["port"] = "443" }, "dst_endpoint.port: want an integer"},
		{"fraction for an integer", "session", func(ev map[string]any) { obj(ev, "traffic")["bytes"] = 1.5 }, "traffic.bytes: want an integer"},
		{"seconds for milliseconds", "session", func(ev map[string]any) { ev["time"] = 1772366400 }, "time: 1772366400 is not Unix milliseconds"},
		{"object for an array", "finding", func(ev map[string]any) { ev["resources"] = map[string]any{"uid": "x"} }, "resources: want an array"},
		{"caption disagrees", "finding", func(ev map[string]any) { ev["severity"] = "Medium" }, `severity: "Medium", want "High"`},
		{"type_uid disagrees", "session", func(ev map[string]any) { ev["type_uid"] = 400101 }, "type_uid:"},
		{"wrong category", "finding", func(ev map[string]any) { ev["category_uid"] = 4 }, "category_uid:"},
		{"bad ip", "session", func(ev map[string]any) { obj(ev, "src_endpoint")["ip"] = "10.0.0" }, "src_endpoint.ip:"},
		{"bad hostname", "session", func(ev map[string]any) { obj(ev, "dst_endpoint")["hostname"] = "a b" }, "dst_endpoint.hostname:"},
		{"bad mac", "session", func(ev map[string]any) { obj(ev, "src_endpoint")["mac"] = "48f17fa3b6ff" }, "src_endpoint.mac:"},
		{"port out of range", "session", func(ev map[string]any) { obj(ev, "src_endpoint")["port"] = 70000 }, "src_endpoint.port:"},
		{"at least one", "session", func(ev map[string]any) {
			ev["src_endpoint"] = map[string]any{"port": 1}
			ev["observables"] = []any{map[string]any{"name": "dst_endpoint.ip", "type_id": 2, "type": "IP Address", "value": "54.86.237.188"}}
		}, "src_endpoint: network_endpoint needs at least one"},
		{"observable names nothing", "finding", func(ev map[string]any) { ev["observables"].([]any)[0].(map[string]any)["name"] = "resources[9].uid" }, "names no attribute"},
		{"observable value differs", "finding", func(ev map[string]any) { ev["observables"].([]any)[0].(map[string]any)["value"] = "x" }, "observables[0].value"},
		{"empty string", "session", func(ev map[string]any) { ev["app_name"] = "" }, "app_name: empty string"},
		{"null", "session", func(ev map[string]any) { ev["tls"] = nil }, "tls: null"},
	} {
		var ev map[string]any
		if err := json.Unmarshal(good[tc.of], &ev); err != nil {
			t.Fatal(err)
		}
		tc.mod(ev)
		b, _ := json.Marshal(ev)
		errs := validate(b)
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
			t.Errorf("%s: problems %q, want one with %q", tc.name, errs, tc.want)
		}
	}
}

func obj(ev map[string]any, k string) map[string]any { return ev[k].(map[string]any) }

// TestSessionActivity: the activity and status chosen per record.
func TestSessionActivity(t *testing.T) {
	enc := testEncoder()
	sessions := testSessions()
	for name, want := range map[string]struct {
		activity, status, direction, boundary int
	}{
		"tls closed":               {activityClose, statusSuccess, directionOutbound, boundaryExternal},
		"ipv6 refused":             {activityRefuse, statusFailure, directionUnknown, 0},
		"unanswered attempt":       {activityFail, statusFailure, directionOther, 0},
		"reset":                    {activityReset, 0, directionOutbound, boundaryExternal},
		"interim":                  {activityTraffic, 0, directionOutbound, boundaryExternal},
		"dns over udp":             {activityClose, statusSuccess, directionLateral, boundaryInternal},
		"icmp echo":                {activityClose, statusSuccess, directionInbound, boundaryExternal},
		"loopback":                 {activityClose, statusSuccess, directionLateral, boundaryLocalhost},
		"aws flow record rejected": {activityTraffic, statusFailure, directionOutbound, boundaryExternal},
		"netflow ingress accepted": {activityTraffic, statusSuccess, directionOutbound, boundaryExternal},
	} {
		s := sessions[name]
		var ev networkActivity
		if err := json.Unmarshal(encode(t, enc, sessionEvent(&s)), &ev); err != nil {
			t.Fatal(err)
		}
		got := struct{ activity, status, direction, boundary int }{ev.ActivityID, ev.StatusID, ev.ConnectionInfo.DirectionID, ev.ConnectionInfo.BoundaryID}
		if got != want {
			t.Errorf("%s: activity, status, direction, boundary %v, want %v", name, got, want)
		}
		if ev.TypeUID != 400100+int64(want.activity) {
			t.Errorf("%s: type_uid %d", name, ev.TypeUID)
		}
	}
}

// TestSessionMapping checks the attributes of a few sessions one by one.
func TestSessionMapping(t *testing.T) {
	enc := testEncoder()
	sessions := testSessions()
	decode := func(name string) networkActivity {
		s := sessions[name]
		var ev networkActivity
		if err := json.Unmarshal(encode(t, enc, sessionEvent(&s)), &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev := decode("tls closed")
	want := networkEndpoint{IP: "54.86.237.188", Port: 443, MAC: "74:ac:b9:3f:d2:7d", Hostname: "api.example.com",
		Location: &location{Country: "US", City: "Ashburn"}, AS: &autonomousSystem{Number: 14618, Name: "AMAZON-AES"}}
	if diff := cmp.Diff(want, ev.DstEndpoint); diff != "" {
		t.Errorf("dst_endpoint (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&networkEndpoint{IP: "10.0.0.5", Port: 40354, MAC: "48:f1:7f:a3:b6:ff", UID: "i-0abc", Name: "web-1"}, ev.SrcEndpoint); diff != "" {
		t.Errorf("src_endpoint (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&networkTraffic{Bytes: 9939, BytesOut: 459, BytesIn: 9480, Packets: 12, PacketsOut: 7, PacketsIn: 5}, ev.Traffic); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&tlsInfo{Version: "1.3", SNI: "api.example.com", Cipher: "TLS_AES_128_GCM_SHA256",
		SANs: []san{{"api.example.com", "DNS"}, {"10.1.2.3", "IP Address"}}}, ev.TLS); diff != "" {
		t.Errorf("tls (-want +got):\n%s", diff)
	}
	if ev.Time != t0.UnixMilli()+1500 || ev.StartTime != t0.UnixMilli() || ev.Duration != 1500 {
		t.Errorf("time %d start %d duration %d", ev.Time, ev.StartTime, ev.Duration)
	}
	if m := ev.Metadata; m.UID != "CFXXGGaiP4w8/0" || m.CorrelationUID != "CFXXGGaiP4w8" || m.TenantUID != "acme" || m.Version != "1.3.0" ||
		m.Product != (product{Name: "Osprey", VendorName: "Osprey", Version: "v1.0.0-test"}) || m.LogName != "sessions" {
		t.Errorf("metadata %+v", m)
	}
	if c := ev.ConnectionInfo; c.UID != "1:bIIcsFKdGXLKqpxEBc/g62+EmQI=" || c.ProtocolName != "tcp" || c.ProtocolNum != 6 || c.ProtocolVerID != 4 {
		t.Errorf("connection_info %+v", c)
	}
	if ev.JA4[0].Value != "t13d1516h2_8daaf6152771_b186095e22b6" || ev.AppName != "tls" || ev.StatusCode != "SF" || ev.StatusDetail != "fin" {
		t.Errorf("ja4 %v app %q status %q/%q", ev.JA4, ev.AppName, ev.StatusCode, ev.StatusDetail)
	}

	ev = decode("http with port and query")
	if diff := cmp.Diff(&urlInfo{URLString: "http://example.com:8080/a/b?x=1&y=2", Scheme: "http", Hostname: "example.com", Path: "/a/b", QueryString: "x=1&y=2", Port: 8080}, ev.URL); diff != "" {
		t.Errorf("url (-want +got):\n%s", diff)
	}
	if ev.DstEndpoint.Hostname != "example.com" {
		t.Errorf("dst hostname %q", ev.DstEndpoint.Hostname)
	}
	ev = decode("http to an address")
	if ev.URL == nil || ev.URL.Hostname != "" || ev.URL.Path != "/upload" || ev.DstEndpoint.Hostname != "" {
		t.Errorf("url %+v, dst hostname %q", ev.URL, ev.DstEndpoint.Hostname)
	}
	ev = decode("tls hello only")
	if ev.TLS != nil || ev.DstEndpoint.Hostname != "" {
		t.Errorf("tls %+v hostname %q: no version, no valid hostname", ev.TLS, ev.DstEndpoint.Hostname)
	}
	ev = decode("icmp echo")
	if ev.SrcEndpoint.Port != 0 || ev.DstEndpoint.Port != 0 || ev.ConnectionInfo.ProtocolName != "icmp" {
		t.Errorf("icmp types are not ports: %+v %+v", ev.SrcEndpoint, ev.DstEndpoint)
	}
	ev = decode("aws flow record rejected")
	if s := ev.SrcEndpoint; s.InstanceUID != "i-0abc" || s.InterfaceUID != "eni-1" || s.VpcUID != "vpc-1" || s.SubnetUID != "subnet-1" || s.Zone != "euw1-az1" ||
		!slices.Equal(s.IntermediateIPs, []string{"10.0.9.9"}) || ev.DstEndpoint.SvcName != "S3" || ev.DstEndpoint.VpcUID != "" || ev.ConnectionInfo.TCPFlags != 2 {
		t.Errorf("flow record: src %+v dst %+v", s, ev.DstEndpoint)
	}
	if u := ev.Unmapped["flow"].(map[string]any); u["account"] != "123456789012" || u["region"] != "eu-west-1" {
		t.Errorf("unmapped flow %v", u)
	}
	ev = decode("netflow ingress accepted")
	if ev.DstEndpoint.InterfaceUID != "3" || ev.SrcEndpoint.InterfaceUID != "" {
		t.Errorf("ingress: interface on the receiver: src %+v dst %+v", ev.SrcEndpoint, ev.DstEndpoint)
	}
	ev = decode("dns over udp")
	if dns := ev.Unmapped["dns"].(map[string]any); dns["query"] != "example.org" {
		t.Errorf("unmapped dns %v", dns)
	}
	if !slices.ContainsFunc(ev.Observables, func(o observable) bool {
		return o.Name == "unmapped.dns.query" && o.Value == "example.org" && o.TypeID == 1
	}) {
		t.Errorf("observables %+v", ev.Observables)
	}
	ev = decode("ipv6 refused")
	if ev.ConnectionInfo.ProtocolVerID != 6 {
		t.Errorf("protocol_ver_id %d", ev.ConnectionInfo.ProtocolVerID)
	}
}

// TestFindingMapping: activity, status, severity, attacks, confidence,
// resources and evidence per finding.
func TestFindingMapping(t *testing.T) {
	enc := testEncoder()
	findings := testFindings(t)
	type summary struct {
		Activity, Status, Severity int
		StatusDetail, Comment      string
		Attacks                    []attack
		ConfidenceID               int
		Score                      *int
	}
	scan := []attack{{Technique: &technique{"T1046", "Network Service Discovery"}, Tactic: &technique{"TA0007", "Discovery"}}}
	score := func(n int) *int { return &n }
	for name, want := range map[string]summary{
		"raised":                        {activityCreate, findingNew, 3, "", "", scan, 0, nil},
		"repeated":                      {activityUpdate, findingNew, 3, "", "", scan, 0, nil},
		"acknowledged true positive":    {activityUpdate, findingInProgress, 3, "true_positive", "ticket SOC-12", scan, 0, nil},
		"acknowledged":                  {activityUpdate, findingInProgress, 3, "acknowledged", "", scan, 0, nil},
		"cleared":                       {activityClosed, findingResolved, 5, "cleared", "", scan, 0, nil},
		"evicted":                       {activityClosed, findingResolved, 3, "cleared (evicted)", "", scan, 0, nil},
		"false positive":                {activityClosed, findingSuppressed, 3, "false_positive", "", scan, 0, nil},
		"benign positive":               {activityClosed, findingSuppressed, 1, "benign_positive", "", scan, 0, nil},
		"unknown detector, no evidence": {activityCreate, findingNew, 2, "", "", nil, 0, nil},
		"dns tunnel": {activityCreate, findingNew, 4, "", "", []attack{{
			Technique: &technique{"T1071", "Application Layer Protocol"}, SubTechnique: &technique{"T1071.004", "DNS"}, Tactic: &technique{"TA0011", "Command and Control"},
		}}, 3, score(82)},
		"policy with unnamed technique": {activityCreate, findingNew, 2, "", "", []attack{{Technique: &technique{UID: "T1133"}}}, 2, score(35)},
		"unnamed sub-technique": {activityCreate, findingNew, 3, "", "", []attack{{
			Technique: &technique{"T1021", "Remote Services"}, SubTechnique: &technique{UID: "T1021.001"}, Tactic: &technique{"TA0008", "Lateral Movement"},
		}}, 0, nil},
	} {
		f := findings[name]
		var ev detectionFinding
		if err := json.Unmarshal(encode(t, enc, findingEvent(&f)), &ev); err != nil {
			t.Fatal(err)
		}
		got := summary{ev.ActivityID, ev.StatusID, ev.SeverityID, ev.StatusDetail, ev.Comment, ev.FindingInfo.Attacks, ev.ConfidenceID, ev.ConfidenceScore}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}

	f := findings["repeated"]
	var ev detectionFinding
	json.Unmarshal(encode(t, enc, findingEvent(&f)), &ev)
	last := t0.Add(2 * 60e9).UnixMilli()
	if ev.Time != last || ev.StartTime != t0.UnixMilli() || ev.EndTime != last || ev.Count != 40 ||
		ev.FindingInfo.FirstSeenTime != t0.UnixMilli() || ev.FindingInfo.LastSeenTime != last || ev.FindingInfo.CreatedTime != t0.UnixMilli() {
		t.Errorf("times %d %d %d %+v", ev.Time, ev.StartTime, ev.EndTime, ev.FindingInfo)
	}
	if fi := ev.FindingInfo; fi.UID != f.ID || fi.Title != "10.0.0.5 probed 212 hosts on 22/tcp in 60 s" || !slices.Equal(fi.Types, []string{"horizontal-scan"}) ||
		fi.Analytic != (analytic{UID: "horizontal-scan/horizontal-scan", Name: "horizontal-scan", TypeID: 2, Type: "Behavioral"}) {
		t.Errorf("finding_info %+v", fi)
	}
	if diff := cmp.Diff([]resource{{"i-0abc", "Asset"}, {"10.0.0.5", "IP Address"}, {"22", "Port"}}, ev.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	if len(ev.Evidences) != 1 || string(ev.Evidences[0].Data) != `{"sessions":["CKd1/0","CKd2/0"],"sessions_omitted":3,"count":40,"values":{"hosts":212,"threshold":100}}` {
		t.Errorf("evidences %s", ev.Evidences)
	}
	if ev.Metadata.UID != f.ID+"/active/40" || ev.Metadata.CorrelationUID != f.DedupeKey || ev.Metadata.LogName != "findings" {
		t.Errorf("metadata %+v", ev.Metadata)
	}

	// The policy finding's entities: Osprey's own types are resources
	// without observables; a domain that is no hostname_t is not one.
	f = findings["policy with unnamed technique"]
	ev = detectionFinding{}
	json.Unmarshal(encode(t, enc, findingEvent(&f)), &ev)
	var obs []string
	for _, o := range ev.Observables {
		obs = append(obs, o.Type+" "+o.Value)
	}
	if diff := cmp.Diff([]string{"IP Address 2001:db8::9", "Resource UID thermostat-1", "Hash ab12cd"}, obs); diff != "" {
		t.Errorf("observables (-want +got):\n%s", diff)
	}
	if len(ev.Resources) != 6 || ev.Resources[1] != (resource{"thermo-1", "mqtt_client"}) {
		t.Errorf("resources %+v", ev.Resources)
	}
}

func TestEncodeErrors(t *testing.T) {
	enc := testEncoder()
	m := schema.DeviceMetric{Device: "ip:10.0.0.5", Name: "aws:num-listening-tcp-ports", Time: t0}
	if _, err := enc.Encode(nil, &deliver.Event{Kind: deliver.KindMetric, Metric: &m}); !errors.Is(err, ErrMetrics) {
		t.Errorf("metric: %v", err)
	}
	for name, f := range map[string]schema.Finding{
		"state":    {ID: "x", State: "open", Severity: "low"},
		"severity": {ID: "x", State: "active", Severity: "urgent"},
		"evidence": {ID: "x", State: "active", Severity: "low", Evidence: json.RawMessage(`[1]`)},
	} {
		dst := []byte("kept")
		out, err := enc.Encode(dst, findingEvent(&f))
		if err == nil || !strings.Contains(err.Error(), name) || string(out) != "kept" {
			t.Errorf("%s: %q, %v", name, out, err)
		}
	}
}

func TestEventTime(t *testing.T) {
	for in, want := range map[string]int64{`{"time":1772366400000,"class_uid":4001}`: 1772366400000, `{"time":5}`: 5, `{"class_uid":1,"time":5}`: -1, `{"time":"x"}`: -1, ``: -1} {
		got, ok := eventTime([]byte(in))
		if !ok {
			got = -1
		}
		if got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
}

// TestGolden compares one session and one finding with the files in
// testdata (go test -run Golden -update rewrites them), for review of
// the whole event.
func TestGolden(t *testing.T) {
	enc := testEncoder()
	s := testSessions()["tls closed"]
	f := testFindings(t)["dns tunnel"]
	for name, line := range map[string][]byte{
		"network_activity.json":  encode(t, enc, sessionEvent(&s)),
		"detection_finding.json": encode(t, enc, findingEvent(&f)),
	} {
		var v any
		json.Unmarshal(line, &v)
		pretty, _ := json.MarshalIndent(v, "", "  ")
		pretty = append(pretty, '\n')
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, pretty, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(pretty)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
