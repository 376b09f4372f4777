package netmap

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const awsSample = `{
  "syncToken": "1700000000",
  "createDate": "2023-11-14-22-13-20",
  "prefixes": [
    {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "AMAZON", "network_border_group": "ap-northeast-2"},
    {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", "service": "S3", "network_border_group": "ap-northeast-2"},
    {"ip_prefix": "13.32.0.0/15", "region": "GLOBAL", "service": "CLOUDFRONT", "network_border_group": "GLOBAL"},
    {"ip_prefix": "3.0.0.0/8", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"}
  ],
  "ipv6_prefixes": [
    {"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2", "service": "EC2", "network_border_group": "us-west-2"}
  ]
}`

func TestLoadAWSIPRanges(t *testing.T) {
	ranges, err := LoadAWSIPRanges(writeFile(t, "ip-ranges.json", awsSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 5 {
		t.Fatalf("%d ranges, want 5", len(ranges))
	}
	user := []Range{rng("3.5.140.0/24", "s3-vpce")}
	m := NewMap(ranges, user)
	for _, tc := range []struct {
		ip, segment string
		tags        []string
	}{
		{"3.5.140.9", "s3-vpce", []string{"aws", "aws-region:ap-northeast-2", "aws-region:us-east-1", "aws:amazon", "aws:s3"}},
		{"3.5.141.9", "internet", []string{"aws", "aws-region:ap-northeast-2", "aws-region:us-east-1", "aws:amazon", "aws:s3"}},
		{"13.33.0.1", "internet", []string{"aws", "aws-region:global", "aws:cloudfront"}},
		{"2600:1f14::10", "internet", []string{"aws", "aws-region:us-west-2", "aws:ec2"}},
	} {
		tags, seg := m.Lookup(netip.MustParseAddr(tc.ip))
		if seg != tc.segment {
			t.Errorf("%s: segment %q, want %q", tc.ip, seg, tc.segment)
		}
		if diff := cmp.Diff(tc.tags, tags); diff != "" {
			t.Errorf("%s: tags (-want +got):\n%s", tc.ip, diff)
		}
	}
}

func TestLoadAWSIPRangesErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"bad prefix", `{"prefixes": [{"ip_prefix": "3.5.140.0/22"}, {"ip_prefix": "3.5.140.0/99"}]}`, "prefixes[1].ip_prefix: "},
		{"v6 in v4 list", `{"prefixes": [{"ip_prefix": "2600::/16"}]}`, "prefixes[0].ip_prefix: 2600::/16 is in the wrong list"},
		{"missing v6 prefix", `{"ipv6_prefixes": [{"ip_prefix": "3.0.0.0/8"}]}`, "ipv6_prefixes[0].ipv6_prefix: "},
		{"wrong type", `{"prefixes": [{"ip_prefix": "3.0.0.0/8", "service": 5}]}`, "prefixes[0].service: "},
		{"bad service", `{"prefixes": [{"ip_prefix": "3.0.0.0/8", "service": "A B"}]}`, "prefixes[0].service: \"A B\""},
		{"not ip-ranges", `{"hello": "world"}`, "no prefixes"},
		{"not json", `<html>`, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "ip-ranges.json", tc.content)
			_, err := LoadAWSIPRanges(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}
