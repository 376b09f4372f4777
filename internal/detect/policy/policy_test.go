package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// mustLoad compiles a policy file given as text.
func mustLoad(t testing.TB, text string) *Set {
	t.Helper()
	p, err := Load("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(p)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// fired runs one session through a detector and lists the rules that fired.
func fired(d *Detector, s *schema.Session) []string {
	var rules []string
	d.Session(s, func(r detect.Report) { rules = append(rules, r.Rule) })
	return rules
}

// session is 10.0.0.5:40000 (vm) → 10.20.0.7:22/tcp (datastore); edit
// it with the given functions.
func session(edits ...func(*schema.Session)) *schema.Session {
	s := &schema.Session{
		UID: "C1", Seq: 2, Transport: "tcp", Proto: 6, App: "ssh", Direction: "internal",
		Start: time.Unix(1000, 0), End: time.Unix(1010, 0),
		Orig:      schema.Endpoint{IP: netip.MustParseAddr("10.0.0.5"), Port: 40000, Tags: []string{"vm"}, Segment: "compute", Asset: "i-vm"},
		Resp:      schema.Endpoint{IP: netip.MustParseAddr("10.20.0.7"), Port: 22, Tags: []string{"datastore", "prod"}, Segment: "datastores", Asset: "i-db", AssetName: "orders-db"},
		OrigBytes: 1000, RespBytes: 5000, OrigPkts: 10, RespPkts: 12,
	}
	for _, e := range edits {
		e(s)
	}
	return s
}

func fromInternet(s *schema.Session) {
	s.Orig = schema.Endpoint{IP: netip.MustParseAddr("203.0.113.9"), Port: 50000, Segment: "internet"}
	s.Direction = "inbound"
}

func TestSemantics(t *testing.T) {
	for _, tc := range []struct {
		name, policy string
		session      *schema.Session
		want         []string
	}{
		{"deny matches", `{version: 1, rules: [{name: ssh-from-internet, deny: {from: {segment: internet}, to: {port: 22}}}]}`,
			session(fromInternet), []string{"ssh-from-internet"}},
		{"deny other source", `{version: 1, rules: [{name: ssh-from-internet, deny: {from: {segment: internet}, to: {port: 22}}}]}`,
			session(), nil},
		{"allow wins over deny", `{version: 1, rules: [
			{name: no-ssh, deny: {to: {port: 22}}},
			{name: bastion, allow: {from: {tag: vm}, to: {port: 22}}}]}`,
			session(), nil},
		{"allow only where it matches", `{version: 1, rules: [
			{name: no-ssh, deny: {to: {port: 22}}},
			{name: bastion, allow: {from: {tag: bastion}}}]}`,
			session(), []string{"no-ssh"}},
		{"allow exempts every rule of its policy", `{version: 1, rules: [
			{name: bastion, allow: {from: {asset: i-vm}}},
			{name: no-ssh, deny: {to: {port: 22}}},
			{name: db-ingress, to: {tag: datastore}, only_from: {tag: web}}]}`,
			session(), nil},
		{"only_from violated", `{version: 1, rules: [{name: db-ingress, to: {tag: datastore}, only_from: {tag: vm}}]}`,
			session(fromInternet), []string{"db-ingress"}},
		{"only_from kept", `{version: 1, rules: [{name: db-ingress, to: {tag: datastore}, only_from: {tag: vm}}]}`,
			session(), nil},
		{"only_from out of scope", `{version: 1, rules: [{name: web-ingress, to: {tag: web}, only_from: {segment: dmz}}]}`,
			session(fromInternet), nil},
		{"only_to violated", `{version: 1, rules: [{name: vm-egress, from: {tag: vm}, only_to: {segment: [compute, web]}}]}`,
			session(), []string{"vm-egress"}},
		{"only_to kept", `{version: 1, rules: [{name: vm-egress, from: {tag: vm}, only_to: {segment: [compute, datastores]}}]}`,
			session(), nil},
		{"known tags: any tag, both ends tagged", `{version: 1, rules: [{name: known, require_known_tags: true}]}`,
			session(), nil},
		{"known tags: any tag, source untagged", `{version: 1, rules: [{name: known, require_known_tags: true}]}`,
			session(fromInternet), []string{"known"}},
		{"known tags: list, one end outside", `{version: 1, rules: [{name: known, require_known_tags: [vm, web]}]}`,
			session(), []string{"known"}},
		{"known tags: list, both inside", `{version: 1, rules: [{name: known, require_known_tags: [vm, datastore]}]}`,
			session(), nil},
		{"port range in", `{version: 1, rules: [{name: r, deny: {to: {port: "1-1023"}}}]}`, session(), []string{"r"}},
		{"port range out", `{version: 1, rules: [{name: r, deny: {to: {port: ["1024-65535", 21]}}}]}`, session(), nil},
		{"port not for icmp", `{version: 1, rules: [{name: r, deny: {to: {port: 22}}}]}`,
			session(func(s *schema.Session) { s.Transport, s.Proto = "icmp", 1 }), nil},
		{"cidr in", `{version: 1, rules: [{name: r, deny: {to: {cidr: 10.20.0.0/16}}}]}`, session(), []string{"r"}},
		{"cidr out", `{version: 1, rules: [{name: r, deny: {to: {cidr: [10.30.0.0/16, 10.20.0.8]}}}]}`, session(), nil},
		{"cidr single address", `{version: 1, rules: [{name: r, deny: {to: {cidr: 10.20.0.7}}}]}`, session(), []string{"r"}},
		{"cidr ipv4-mapped address", `{version: 1, rules: [{name: r, deny: {to: {cidr: 10.20.0.0/16}}}]}`,
			session(func(s *schema.Session) { s.Resp.IP = netip.MustParseAddr("::ffff:10.20.0.7") }), []string{"r"}},
		{"cidr ipv6", `{version: 1, rules: [{name: r, deny: {from: {cidr: "2001:db8::/32"}}}]}`,
			session(func(s *schema.Session) { s.Orig.IP = netip.MustParseAddr("2001:db8::5") }), []string{"r"}},
		{"cidr ipv6 not ipv4", `{version: 1, rules: [{name: r, deny: {from: {cidr: "::/0"}}}]}`, session(), nil},
		{"tag any-of", `{version: 1, rules: [{name: r, deny: {to: {tag: [web, prod]}}}]}`, session(), []string{"r"}},
		{"asset", `{version: 1, rules: [{name: r, deny: {from: {asset: i-vm}, to: {asset: [i-x, i-db]}}}]}`, session(), []string{"r"}},
		{"not", `{version: 1, rules: [{name: r, deny: {to: {tag: datastore}, from: {not: {tag: vm}}}}]}`, session(), nil},
		{"not fires", `{version: 1, rules: [{name: r, deny: {to: {tag: datastore}, from: {not: {tag: vm}}}}]}`,
			session(fromInternet), []string{"r"}},
		{"proto", `{version: 1, rules: [{name: r, deny: {proto: udp, to: {port: 22}}}]}`, session(), nil},
		{"app", `{version: 1, rules: [{name: r, deny: {app: [telnet, ssh]}}]}`, session(), []string{"r"}},
		{"direction", `{version: 1, rules: [{name: r, deny: {direction: inbound, to: {port: 22}}}]}`, session(fromInternet), []string{"r"}},
		{"direction other", `{version: 1, rules: [{name: r, deny: {direction: outbound}}]}`, session(fromInternet), nil},
		{"scope narrows deny", `{version: 1, rules: [{name: r, from: {segment: internet}, deny: {to: {port: 22}}}]}`, session(), nil},
		{"default deny", `{version: 1, rules: [{name: all, deny: {}}, {name: ok, allow: {app: dns}}]}`, session(), []string{"all"}},
		{"cel when", `{version: 1, rules: [{name: big, when: 'dst.segment == "datastores" && orig_bytes > 500'}]}`, session(), []string{"big"}},
		{"cel when false", `{version: 1, rules: [{name: big, when: 'orig_bytes > 100000000'}]}`, session(), nil},
		{"cel tags and scope", `{version: 1, rules: [{name: r, from: {segment: compute}, when: '"prod" in dst.tags && src.ip == "10.0.0.5"'}]}`,
			session(), []string{"r"}},
		{"cel in allow", `{version: 1, rules: [{name: r, deny: {to: {port: 22}}}, {name: small, allow: {when: 'bytes < 10000'}}]}`,
			session(), nil},
		{"cel flow action", `{version: 1, rules: [{name: r, when: 'flow.action == "reject" && duration > duration("5s")'}]}`,
			session(func(s *schema.Session) { s.Flow = &schema.Flow{Action: "reject"} }), []string{"r"}},
		{"cel runtime error does not fire", `{version: 1, rules: [{name: r, when: 'bytes / (packets - 22) > 0'}]}`, session(), nil},
		{"every rule that fires reports", `{version: 1, rules: [{name: a, deny: {app: ssh}}, {name: b, deny: {to: {port: 22}}}]}`,
			session(), []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fired(NewDetector(mustLoad(t, tc.policy)), tc.session)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules fired (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReport(t *testing.T) {
	set := mustLoad(t, `
version: 1
name: baseline
rules:
  - name: ssh-in
    severity: high
    technique: T1021.004
    deny: {to: {port: 22}}
`)
	var got []detect.Report
	NewDetector(set).Session(session(), func(r detect.Report) { got = append(got, r) })
	want := []detect.Report{{
		Time: time.Unix(1010, 0), Rule: "ssh-in", Severity: detect.High, Technique: "T1021.004",
		Entities:  []string{"ip:10.0.0.5", "asset:i-vm", "ip:10.20.0.7", "asset:i-db", "port:22"},
		DedupeKey: "policy/baseline/ssh-in|asset:i-vm|asset:i-db",
		Summary:   `10.0.0.5 (i-vm) → 10.20.0.7 (orders-db):22/tcp is denied (policy "baseline", rule "ssh-in")`,
		Sessions:  []string{"C1/2"},
		Values:    map[string]float64{"bytes": 6000, "packets": 22, "orig_bytes": 1000, "resp_bytes": 5000},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}
