package netmap

import (
	"encoding/binary"
	"net/netip"
)

// IsPublic reports whether ip may be an address on the internet. These
// are not: the unspecified address, loopback, RFC 1918 and IPv6 unique
// local (fc00::/7) space, RFC 6598 shared (CGNAT) space 100.64.0.0/10,
// link-local unicast (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4,
// ff00::/8: mDNS, SSDP and the like stay on the local network),
// 0.0.0.0/8 and the reserved 240.0.0.0/4 with the broadcast address.
// The documentation ranges (192.0.2.0/24, 2001:db8::/32, …) count as
// public: examples and tests use them to stand for internet hosts.
// IPv4-mapped IPv6 addresses are judged as IPv4.
//
// It tests the address bytes itself, as one switch, rather than with
// netip's IsPrivate, IsLoopback, … predicates: those are separate calls
// that each unmap and check the family again, five times the cost on a
// path that every endpoint of every session takes.
func IsPublic(ip netip.Addr) bool {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		switch b[0] {
		case 0, 10, 127:
			return false
		case 100:
			return b[1]&0xc0 != 64
		case 169:
			return b[1] != 254
		case 172:
			return b[1]&0xf0 != 16
		case 192:
			return b[1] != 168
		}
		return b[0] < 224
	}
	if !ip.Is6() {
		return false
	}
	b := ip.As16()
	switch {
	case b[0]&0xfe == 0xfc, b[0] == 0xff:
		return false
	case b[0] == 0xfe:
		return b[1]&0xc0 != 0x80
	}
	// :: and ::1
	return binary.BigEndian.Uint64(b[:8]) != 0 || binary.BigEndian.Uint64(b[8:]) > 1
}
