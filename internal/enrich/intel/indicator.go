package intel

import (
	"errors"
	"net/netip"
	"strings"
)

// kind is what an indicator names.
type kind uint8

const (
	kindAddr   kind = iota + 1 // one address; a full-length CIDR is one too
	kindPrefix                 // a CIDR range
	kindDomain                 // a domain and its subdomains
)

// maxDomainLen is the longest name DNS can carry in text form (RFC 1035).
const maxDomainLen = 253

var errNotIndicator = errors.New("not an IP address, CIDR or domain name")

// indicator is one parsed feed entry.
type indicator struct {
	kind   kind
	addr   netip.Addr   // kindAddr, unmapped, no zone
	prefix netip.Prefix // kindPrefix, masked, unmapped
	domain string       // kindDomain: lowercase, no trailing dot or leading "*."
}

// parseIndicator reads an IPv4 or IPv6 address, a CIDR of either family, or
// a domain name. IPv4-mapped IPv6 addresses and ranges are stored as IPv4 so
// that they match the same traffic.
func parseIndicator(s string) (indicator, error) {
	if s == "" {
		return indicator{}, errors.New("empty")
	}
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return indicator{}, errNotIndicator
		}
		a := p.Addr()
		bits := p.Bits()
		if a.Is4In6() && bits >= 96 {
			a, bits = a.Unmap(), bits-96
		}
		if bits == a.BitLen() {
			return indicator{kind: kindAddr, addr: a}, nil
		}
		return indicator{kind: kindPrefix, prefix: netip.PrefixFrom(a, bits).Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return indicator{}, errors.New("an address with a zone")
		}
		return indicator{kind: kindAddr, addr: a.Unmap()}, nil
	}
	d, ok := domainKey(s)
	if !ok {
		return indicator{}, errNotIndicator
	}
	return indicator{kind: kindDomain, domain: d}, nil
}

// domainKey validates a listed domain and returns the key it is matched by.
// It asks for at least two labels and a last label that is not all digits,
// so that CSV headers, scores and mistyped addresses ("1.2.3.999") are not
// taken for names. A leading "*." is accepted: subdomains match anyway.
func domainKey(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "*."), ".")
	if len(s) == 0 || len(s) > maxDomainLen {
		return "", false
	}
	labels, labelLen, digitsOnly := 1, 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if labelLen == 0 {
				return "", false
			}
			labels, labelLen, digitsOnly = labels+1, 0, true
			continue
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
			digitsOnly = false
		default:
			return "", false
		}
		if labelLen++; labelLen > 63 {
			return "", false
		}
	}
	if labels < 2 || labelLen == 0 || digitsOnly {
		return "", false
	}
	return strings.ToLower(s), true
}
