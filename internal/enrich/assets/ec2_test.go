package assets

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/google/go-cmp/cmp"
)

// fakeEC2 answers the EC2 Query API with the responses in
// testdata/ec2/<Action>-<page>.xml: a first page whose nextToken must
// come back to get the second. A request in failRegion gets
// UnauthorizedOperation.
type fakeEC2 struct {
	t          *testing.T
	failRegion string
	mu         sync.Mutex
	calls      []string // "region Action NextToken"
}

var (
	nextTokenRE  = regexp.MustCompile(`<nextToken>([^<]+)</nextToken>`)
	credentialRE = regexp.MustCompile(`Credential=AKIDTEST/\d+/([^/]+)/ec2/aws4_request`)
)

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action, token := r.Form.Get("Action"), r.Form.Get("NextToken")
	m := credentialRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		f.t.Errorf("%s: not signed with the static credentials: %q", action, r.Header.Get("Authorization"))
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	region := m[1]
	f.mu.Lock()
	f.calls = append(f.calls, strings.TrimSpace(fmt.Sprintf("%s %s %s", region, action, token)))
	f.mu.Unlock()
	if r.Form.Get("Version") != "2016-11-15" || r.Form.Get("MaxResults") != "1000" {
		f.t.Errorf("%s: Version %q, MaxResults %q", action, r.Form.Get("Version"), r.Form.Get("MaxResults"))
	}
	if region == f.failRegion {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>`)
		return
	}
	first, err := os.ReadFile("testdata/ec2/" + action + "-1.xml")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	body := first
	if token != "" {
		// The second page only for the token the first one gave.
		if m := nextTokenRE.FindSubmatch(first); m == nil || string(m[1]) != token {
			f.t.Errorf("%s: NextToken %q, not the first page's", action, token)
			http.Error(w, "bad token", http.StatusBadRequest)
			return
		}
		if body, err = os.ReadFile("testdata/ec2/" + action + "-2.xml"); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.Write(body)
}

func testAWSConfig(srv *httptest.Server) aws.Config {
	return aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRET", ""),
		HTTPClient:  srv.Client(),
	}
}

func TestLoadEC2(t *testing.T) {
	fake := &fakeEC2{t: t}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	snap, err := LoadEC2(context.Background(), testAWSConfig(srv), EC2Config{Endpoint: srv.URL, TagKeys: []string{"Role", "Tier"}})
	if err != nil {
		t.Fatalf("LoadEC2: %v", err)
	}
	wantCalls := []string{
		"eu-west-1 DescribeInstances", "eu-west-1 DescribeInstances instances-page-2",
		"eu-west-1 DescribeNetworkInterfaces", "eu-west-1 DescribeNetworkInterfaces interfaces-page-2",
		"eu-west-1 DescribeTrafficMirrorSessions", "eu-west-1 DescribeTrafficMirrorSessions sessions-page-2",
	}
	if diff := cmp.Diff(wantCalls, fake.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	const src = "ec2:eu-west-1"
	want := &Snapshot{
		Assets: []Asset{
			{ID: "i-1", Name: "db-1", Account: "123456789012", Region: "eu-west-1", VPC: "vpc-1", Subnet: "subnet-1", Type: "m5.large",
				Tags: []string{"Name=db-1", "Role=datastore", "datastore", "env=prod"},
				IPs:  addrs("10.0.1.10", "10.0.1.11", "54.0.0.10", "2001:db8:1::10"), Interfaces: []string{"eni-1"}, Source: src},
			{ID: "i-2", Name: "plc-gw", Account: "210987654321", Region: "eu-west-1", VPC: "vpc-2", Subnet: "subnet-2", Type: "t3.small",
				Tags: []string{"Name=plc-gw", "Tier=edge", "edge"},
				IPs:  addrs("10.0.2.20", "10.0.3.30"), Interfaces: []string{"eni-2", "eni-3"}, Source: src},
			{ID: "eni-nlb", Name: "ELB net/web-nlb/0123456789abcdef", Account: "123456789012", Region: "eu-west-1", VPC: "vpc-1", Subnet: "subnet-1",
				Type: "network_load_balancer", Tags: []string{"team=web"}, IPs: addrs("10.0.1.50", "54.0.0.50"), Interfaces: []string{"eni-nlb"}, Source: src},
			{ID: "eni-vpce", Name: "727180483921", Account: "123456789012", Region: "eu-west-1", VPC: "vpc-1", Subnet: "subnet-1",
				Type: "vpc_endpoint", IPs: addrs("10.0.1.60"), Interfaces: []string{"eni-vpce"}, Source: src},
		},
		Interfaces: []Interface{
			{ID: "eni-1", Asset: "i-1", MAC: "02:00:00:00:00:01", Subnet: "subnet-1", VPC: "vpc-1",
				IPs: addrs("10.0.1.10", "10.0.1.11", "54.0.0.10", "2001:db8:1::10", "2001:db8:1::11")},
			{ID: "eni-2", Asset: "i-2", MAC: "02:00:00:00:00:02", Subnet: "subnet-2", VPC: "vpc-2", IPs: addrs("10.0.2.20")},
			{ID: "eni-3", Asset: "i-2", MAC: "02:00:00:00:00:03", Subnet: "subnet-3", VPC: "vpc-2", IPs: addrs("10.0.3.30")},
			{ID: "eni-nlb", Asset: "eni-nlb", MAC: "02:00:00:00:00:50", Subnet: "subnet-1", VPC: "vpc-1", IPs: addrs("10.0.1.50", "54.0.0.50")},
			{ID: "eni-vpce", Asset: "eni-vpce", MAC: "02:00:00:00:00:60", Subnet: "subnet-1", VPC: "vpc-1", IPs: addrs("10.0.1.60")},
		},
		Mirrors: []MirrorSession{
			{ID: "tmms-1", VNI: 4242, Interface: "eni-1", Target: "tmt-1"},
			{ID: "tmms-2", VNI: 77, Interface: "eni-2", Target: "tmt-1"},
		},
	}
	if diff := cmp.Diff(want, snap, cmpAddr); diff != "" {
		t.Errorf("snapshot (-want +got):\n%s", diff)
	}

	// Mirrored traffic from the primary address of eni-1 resolves to
	// db-1, and the address only DescribeNetworkInterfaces knew too.
	inv := NewInventory(snap)
	s, eni, a := inv.ByMirror(netip.MustParseAddr("10.0.1.10"), 4242)
	if s == nil || s.ID != "tmms-1" || eni == nil || eni.ID != "eni-1" || assetID(a) != "i-1" {
		t.Errorf("ByMirror(10.0.1.10, 4242) = %v, %v, %v", s, eni, a)
	}
	for ip, want := range map[string]string{"2001:db8:1::11": "i-1", "10.0.3.30": "i-2", "54.0.0.50": "eni-nlb", "10.0.1.99": ""} {
		if got := assetID(inv.ByIP(netip.MustParseAddr(ip))); got != want {
			t.Errorf("ByIP(%s) = %q, want %q", ip, got, want)
		}
	}
}

func TestLoadEC2ErrorNamesRegionAndCall(t *testing.T) {
	fake := &fakeEC2{t: t, failRegion: "us-east-1"}
	srv := httptest.NewServer(fake)
	defer srv.Close()

	_, err := LoadEC2(context.Background(), testAWSConfig(srv), EC2Config{Regions: []string{"eu-west-1", "us-east-1"}, Endpoint: srv.URL})
	if err == nil {
		t.Fatal("LoadEC2 succeeded, want UnauthorizedOperation in us-east-1")
	}
	for _, want := range []string{"us-east-1", "DescribeInstances", "UnauthorizedOperation"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := LoadEC2(context.Background(), aws.Config{}, EC2Config{}); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region: error = %v", err)
	}
}
