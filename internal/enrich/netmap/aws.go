package netmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// awsIPRanges is the part of AWS's ip-ranges.json that is used; the
// network_border_group, syncToken and createDate are not. Elements stay
// raw so that a bad one is reported by its index.
type awsIPRanges struct {
	Prefixes     []json.RawMessage `json:"prefixes"`
	IPv6Prefixes []json.RawMessage `json:"ipv6_prefixes"`
}

type awsPrefix struct {
	IPPrefix   string `json:"ip_prefix"`
	IPv6Prefix string `json:"ipv6_prefix"`
	Region     string `json:"region"`
	Service    string `json:"service"`
}

// LoadAWSIPRanges reads AWS's published ip-ranges.json
// (https://ip-ranges.amazonaws.com/ip-ranges.json):
//
//	{"syncToken": "1700000000", "createDate": "2023-11-14-22-13-20",
//	 "prefixes": [{"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2",
//	   "service": "S3", "network_border_group": "ap-northeast-2"}],
//	 "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2",
//	   "service": "EC2", "network_border_group": "us-west-2"}]}
//
// Every prefix gets the tags "aws", "aws:<service>" and
// "aws-region:<region>", lowercased (aws:s3, aws:amazon,
// aws-region:global); a prefix listed under several services gets the
// tags of each once NewMap merges them. No segment is set, so AWS space
// stays "internet" unless a user range names a segment for it.
//
// The file is machine-made, so one bad entry means it is corrupt or not
// ip-ranges.json at all: the whole file is then an error naming the
// entry (prefixes[12].ip_prefix), and the last good version should stay
// in force.
func LoadAWSIPRanges(path string) ([]Range, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseAWSIPRanges(path, data)
}

func parseAWSIPRanges(path string, data []byte) ([]Range, error) {
	var doc awsIPRanges
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Prefixes)+len(doc.IPv6Prefixes) == 0 {
		return nil, fmt.Errorf("%s: no prefixes (is it ip-ranges.json?)", path)
	}
	ranges := make([]Range, 0, len(doc.Prefixes)+len(doc.IPv6Prefixes))
	for _, list := range []struct {
		name, field string
		v6          bool
		items       []json.RawMessage
	}{
		{"prefixes", "ip_prefix", false, doc.Prefixes},
		{"ipv6_prefixes", "ipv6_prefix", true, doc.IPv6Prefixes},
	} {
		for i, raw := range list.items {
			r, field, err := awsRange(raw, list.v6)
			if err != nil {
				if field == "" {
					field = list.field
				}
				return nil, fmt.Errorf("%s: %s[%d].%s: %w", path, list.name, i, field, err)
			}
			ranges = append(ranges, r)
		}
	}
	return ranges, nil
}

// awsRange converts one element; on error it names the field at fault
// when it is not the prefix.
func awsRange(raw json.RawMessage, v6 bool) (Range, string, error) {
	var p awsPrefix
	if err := json.Unmarshal(raw, &p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Range{}, te.Field, err
		}
		return Range{}, "", err
	}
	cidr := p.IPPrefix
	if v6 {
		cidr = p.IPv6Prefix
	}
	prefix, err := parsePrefix(cidr)
	switch {
	case err != nil:
		return Range{}, "", err
	case prefix.Addr().Is6() != v6:
		return Range{}, "", fmt.Errorf("%s is in the wrong list for its address family", cidr)
	}
	tags := []string{"aws"}
	for _, t := range []struct{ field, prefix, value string }{
		{"service", "aws:", p.Service},
		{"region", "aws-region:", p.Region},
	} {
		if t.value == "" {
			continue
		}
		v := strings.ToLower(t.value)
		if err := checkWord(v); err != nil {
			return Range{}, t.field, fmt.Errorf("%q: %w", t.value, err)
		}
		tags = append(tags, t.prefix+v)
	}
	return Range{Prefix: prefix, Tags: tags}, "", nil
}
