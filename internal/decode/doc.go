// Package decode turns raw frames into Packet values: link layer (Ethernet,
// Linux cooked SLL/SLL2, raw IP, BSD loopback), VLAN tags, tunnels (VXLAN,
// GENEVE, GRE, ERSPAN II/III, nested up to MaxTunnels), IPv4/IPv6 with
// extension headers and fragments, and the TCP, UDP, SCTP and ICMP headers.
// It is pure (no I/O, no globals): a Decoder fills a caller-owned Packet in
// place and counts what it saw in its Stats.
//
// The decoder is written by hand rather than with gopacket's
// DecodingLayerParser because the sensor's budget is ≥ 2 M packets/s per
// core for decode and meter together with zero allocations per packet:
// gopacket's layers allocate for GENEVE options and IPv6 extension headers
// and cost more per layer than that budget allows. gopacket remains the
// oracle of this package's differential test (differential_test.go).
package decode
