package netmap

import "net/netip"

// IsPublic reports whether ip may be an address on the internet. These
// are not: the unspecified address, loopback, RFC 1918 and IPv6 unique
// local (fc00::/7) space, RFC 6598 shared (CGNAT) space 100.64.0.0/10,
// link-local unicast (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4,
// ff00::/8: mDNS, SSDP and the like stay on the local network),
// 0.0.0.0/8 and the reserved 240.0.0.0/4 with the broadcast address.
// The documentation ranges (192.0.2.0/24, 2001:db8::/32, …) count as
// public: examples and tests use them to stand for internet hosts.
// IPv4-mapped IPv6 addresses are judged as IPv4.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsLoopback() || ip.IsPrivate() ||
		ip.IsLinkLocalUnicast() || ip.IsMulticast() {
		return false
	}
	if ip.Is4() {
		b := ip.As4()
		switch {
		case b[0] == 0, b[0] >= 240:
			return false
		case b[0] == 100 && b[1]&0xc0 == 64:
			return false
		}
	}
	return true
}
