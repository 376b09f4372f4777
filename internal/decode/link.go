package decode

// LinkType says how a frame starts. Values below 0x10000 are the
// tcpdump.org LINKTYPE_ numbers used by pcap and pcapng; the others are
// Osprey's own, for payloads a UDP listener receives with the outer IP/UDP
// headers already removed by the kernel.
type LinkType uint32

const (
	LinkNull      LinkType = 0   // BSD loopback
	LinkEthernet  LinkType = 1   // Ethernet II / 802.3
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6 (also DLT 12 and 14 on some systems)
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkIPv4      LinkType = 228
	LinkIPv6      LinkType = 229
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2

	LinkVXLANPayload  LinkType = 0x10001 // starts at the VXLAN header
	LinkGENEVEPayload LinkType = 0x10002 // starts at the GENEVE header
)
