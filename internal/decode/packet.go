package decode

import (
	"net/netip"
	"time"
)

// MaxTunnels is how many nested encapsulations a packet may carry
// (AWS Gateway Load Balancer: GENEVE → VXLAN → inner frame needs 2).
const MaxTunnels = 4

// TunnelKind names an encapsulation.
type TunnelKind uint8

const (
	TunnelNone TunnelKind = iota
	TunnelVXLAN
	TunnelGENEVE
	TunnelGRE
	TunnelERSPAN2
	TunnelERSPAN3
)

func (k TunnelKind) String() string {
	switch k {
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGENEVE:
		return "geneve"
	case TunnelGRE:
		return "gre"
	case TunnelERSPAN2:
		return "erspan2"
	case TunnelERSPAN3:
		return "erspan3"
	}
	return "none"
}

// Tunnel is one encapsulation layer with the outer headers that carried it,
// so that the meter can account the outer conversation as Zeek does and
// sessions can keep their mirror metadata.
type Tunnel struct {
	Kind TunnelKind
	VNI  uint32 // VXLAN/GENEVE VNI, ERSPAN session id, GRE key

	// Outer network and transport headers. For packets received by a UDP
	// listener the kernel removed them; the listener fills Src and SrcPort
	// from the datagram's sender and Dst/DstPort from the socket.
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // zero for GRE/ERSPAN
	IPProto          uint8  // 17 for VXLAN/GENEVE, 47 for GRE/ERSPAN
	IPLen            int    // outer IP total length
	PayloadLen       int    // outer transport payload length (UDP payload or GRE packet)
}

// Packet is one decoded frame. Fields describe the innermost IP packet;
// Tunnels lists the encapsulations from outermost to innermost.
type Packet struct {
	Timestamp  time.Time
	CaptureLen int // bytes captured
	WireLen    int // bytes on the wire (original length)

	Tunnels    [MaxTunnels]Tunnel
	NumTunnels int

	SrcMAC, DstMAC [6]byte
	HasEthernet    bool
	VLANs          [2]uint16
	NumVLANs       int

	// EtherType of the innermost frame (0x0800, 0x86dd, 0x0806 for ARP…).
	EtherType uint16
	IsARP     bool

	IPVersion uint8 // 0 when the frame carries no IP packet
	Src, Dst  netip.Addr
	IPProto   uint8 // innermost upper-layer protocol, after IPv6 extension headers
	TTL       uint8 // TTL or hop limit
	// IPLen is the IP packet length from the header (IPv4 total length,
	// IPv6 payload length + 40), so that truncated captures are metered by
	// what was on the wire, not what was captured.
	IPLen       int
	IPHeaderLen int // including IPv6 extension headers

	// Fragments: only the first fragment carries ports; later fragments
	// have Fragment set and FragOffset > 0 and are metered without ports.
	Fragment   bool
	FragOffset uint16 // in bytes
	FragID     uint32

	SrcPort, DstPort uint16 // TCP/UDP/SCTP ports; zero otherwise
	ICMPType         uint8
	ICMPCode         uint8
	ICMPID           uint16 // echo identifier, when present

	// TCP header fields.
	TCPFlags  uint8
	Seq, Ack  uint32
	Window    uint16
	TCPHdrLen int
	// TCPOptions are the option bytes, when captured (for fingerprints).
	TCPOptions []byte

	// PayloadLen is the transport payload length derived from IPLen (so
	// correct for truncated captures); Payload is what was captured of it.
	PayloadLen int
	Payload    []byte

	// Truncated is set when the capture holds less than the IP length says.
	Truncated bool
	// BadChecksum is set, when Config.VerifyChecksums is on, for a TCP or
	// UDP segment whose checksum is wrong.
	BadChecksum bool
}

// TCP flag bits as in the TCP header.
const (
	TCPFlagFIN = 0x01
	TCPFlagSYN = 0x02
	TCPFlagRST = 0x04
	TCPFlagPSH = 0x08
	TCPFlagACK = 0x10
	TCPFlagURG = 0x20
	TCPFlagECE = 0x40
	TCPFlagCWR = 0x80
)

// Reset clears p for reuse without releasing its storage.
func (p *Packet) Reset() { *p = Packet{} }
