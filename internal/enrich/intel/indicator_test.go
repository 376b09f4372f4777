package intel

import (
	"net/netip"
	"testing"
)

func TestParseIndicator(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want indicator
		bad  bool
	}{
		{name: "ipv4", in: "203.0.113.7", want: indicator{kind: kindAddr, addr: netip.MustParseAddr("203.0.113.7")}},
		{name: "ipv6", in: "2001:DB8::1", want: indicator{kind: kindAddr, addr: netip.MustParseAddr("2001:db8::1")}},
		{name: "mapped address is ipv4", in: "::ffff:192.0.2.1", want: indicator{kind: kindAddr, addr: netip.MustParseAddr("192.0.2.1")}},
		{name: "cidr v4 masked", in: "198.51.100.9/24", want: indicator{kind: kindPrefix, prefix: netip.MustParsePrefix("198.51.100.0/24")}},
		{name: "cidr v6", in: "2001:db8:bad::/48", want: indicator{kind: kindPrefix, prefix: netip.MustParsePrefix("2001:db8:bad::/48")}},
		{name: "mapped cidr is ipv4", in: "::ffff:192.0.2.0/120", want: indicator{kind: kindPrefix, prefix: netip.MustParsePrefix("192.0.2.0/24")}},
		{name: "full-length cidr is an address", in: "192.0.2.1/32", want: indicator{kind: kindAddr, addr: netip.MustParseAddr("192.0.2.1")}},
		{name: "domain lowercased", in: "Evil.Example.", want: indicator{kind: kindDomain, domain: "evil.example"}},
		{name: "wildcard domain", in: "*.evil.example", want: indicator{kind: kindDomain, domain: "evil.example"}},
		{name: "underscore and hyphen", in: "_dmarc.my-host.example", want: indicator{kind: kindDomain, domain: "_dmarc.my-host.example"}},
		{name: "bad octet", in: "1.2.3.999", bad: true},
		{name: "leading zero octet", in: "010.1.1.1", bad: true},
		{name: "bad cidr", in: "10.0.0.0/33", bad: true},
		{name: "zone", in: "fe80::1%eth0", bad: true},
		{name: "single label", in: "indicator", bad: true},
		{name: "numeric last label", in: "0.95", bad: true},
		{name: "empty label", in: "evil..example", bad: true},
		{name: "space", in: "evil example.com", bad: true},
		{name: "url", in: "http://evil.example/x", bad: true},
		{name: "long label", in: "a234567890123456789012345678901234567890123456789012345678901234.example", bad: true},
		{name: "empty", in: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIndicator(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("parseIndicator(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseIndicator(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("parseIndicator(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
