package synth

import "encoding/binary"

// The address plan. Devices live in 10.20.16.0/20 and fd00:0:10::/64;
// they resolve names at 10.20.0.2 and talk to services on the internet
// (AWS-looking addresses) and to a few internal ones. A scanner sits at
// 10.20.255.7. Traffic Mirroring sources (ENIs) are 10.0.0.10–25 and the
// sensor is 10.0.0.250.
const (
	numDevices = 4096
	numMirrors = 16
)

var (
	resolver4 = v4(10, 20, 0, 2)
	resolver6 = [16]byte{0xfd, 0, 0, 0, 0, 0x10, 15: 2}
	scanner4  = v4(10, 20, 255, 7)
	sensor4   = v4(10, 0, 0, 250)
	routerMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
)

// vnis are the mirror sessions' VXLAN ids: a small set, as a deployment
// has one session per group of mirrored ENIs.
var vnis = [4]uint32{1001, 1002, 1003, 2001}

// service is a named server the fleet talks to; DNS answers and the
// conversations that follow use the same addresses.
type service struct {
	name     string
	v4       [16]byte
	v6       [16]byte
	tls      bool
	port     uint16
	internal bool
}

var services = func() []service {
	names := []struct {
		name     string
		tls      bool
		port     uint16
		internal bool
	}{
		{"api.fleet.example.com", true, 443, false},
		{"telemetry.fleet.example.com", true, 443, false},
		{"mqtt.fleet.example.com", true, 8883, false},
		{"updates.vendor.example.net", false, 80, false},
		{"cdn.vendor.example.net", true, 443, false},
		{"auth.example.org", true, 443, false},
		{"time.example.com", false, 80, false},
		{"status.example.org", false, 80, false},
		{"logs.example.com", true, 443, false},
		{"s3.example.com", true, 443, false},
		{"registry.corp.example", true, 443, true},
		{"wiki.corp.example", false, 8080, true},
		{"metrics.corp.example", false, 80, true},
		{"ota.vendor.example.net", false, 80, false},
	}
	out := make([]service, len(names))
	for i, n := range names {
		s := service{name: n.name, tls: n.tls, port: n.port, internal: n.internal}
		if n.internal {
			s.v4 = v4(10, 20, 1, byte(10+i))
			s.v6 = [16]byte{0xfd, 0, 0, 0, 0, 0x10, 14: 1, 15: byte(10 + i)}
		} else {
			s.v4 = v4(52, 94, byte(16*i), byte(20+i))
			s.v6 = [16]byte{0x26, 0x00, 0x1f, 0x18, 0x40, byte(i), 15: byte(20 + i)}
		}
		out[i] = s
	}
	return out
}()

// ntpServers are the time servers devices ask (UDP 123).
var ntpServers = [2][16]byte{v4(52, 94, 250, 1), v4(52, 94, 250, 2)}

func v4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

func deviceAddr(i int, v6 bool) [16]byte {
	if v6 {
		a := [16]byte{0xfd, 0, 0, 0, 0, 0x10}
		binary.BigEndian.PutUint16(a[14:], uint16(0x1000+i))
		return a
	}
	return v4(10, 20, byte(16+i/256), byte(i))
}

func deviceMAC(i int) [6]byte {
	return [6]byte{0x02, 0x00, 0x0a, 0x14, byte(i >> 8), byte(i)}
}

type kind uint8

const (
	kindHTTP kind = iota
	kindTLS
	kindDNS
	kindNTP
	kindPing
	kindScan
	kindUDP
)

// kindWeights is the default mix, in percent of its conversations.
var kindWeights = [...]struct {
	k kind
	w int
}{
	{kindHTTP, 18}, {kindTLS, 30}, {kindDNS, 22}, {kindNTP, 5},
	{kindPing, 8}, {kindScan, 10}, {kindUDP, 7},
}

// How a TCP conversation ends.
const (
	endFIN uint8 = iota
	endRST
	endOpen // no teardown: the sensor sees it go idle
)

// conv is one conversation in progress: the per-flow template that each
// packet patches (direction, flags, sequence numbers, payload).
type conv struct {
	kind       kind
	v6         bool
	vlan, qinq uint16 // 802.1Q tag; qinq is an outer 802.1ad tag
	cli, srv   [16]byte
	cliMAC     [6]byte
	cport      uint16
	sport      uint16
	fixedPort  bool // cport is the protocol's (NTP, DHCP, mDNS, a scanner's), not an ephemeral one
	cseq, sseq uint32
	step       int
	steps      int
	mirror     uint8 // index of the mirrored ENI
	svc        uint8 // index in services
	end        uint8
	rounds     uint8 // TCP: request/response rounds
	segs       uint8 // TCP: server segments per response
	segLen     uint16
	id         uint16 // DNS id, ICMP echo id
	nx         bool   // DNS: NXDOMAIN
	answered   bool   // scan: port open (SYN-ACK) rather than closed (RST)
	silent     bool   // scan: filtered, no answer
	// The IoT mix (iot.go) patches these per step where a protocol
	// changes addresses (DHCP, broadcasts, multicast answers).
	peerMAC [6]byte // the other end's MAC on the wire: the router unless on the same segment
	ttl     uint8   // IP TTL both ways when set: same-segment and link-local traffic
	dev     uint16  // the fleet device whose role names the conversation
	peer    uint16  // the other party: an OT device, a second fleet device
	msgs    uint8   // scripted TCP messages after the handshake
	variant uint8   // per-kind flavour (see iot.go)
}

// scanState makes the scanner sweep ports on one target at a time, as a
// SYN scan does.
type scanState struct {
	target [16]byte
	sport  uint16
	port   uint16
}

func (g *gen) newConv(c *conv) {
	r := g.rng
	dev := r.IntN(numDevices)
	*c = conv{
		v6:      r.Float64() < g.cfg.IPv6Share,
		cliMAC:  deviceMAC(dev),
		peerMAC: routerMAC,
		mirror:  uint8(dev % numMirrors),
		cport:   uint16(32768 + r.IntN(28000)),
		cseq:    r.Uint32(),
		sseq:    r.Uint32(),
		id:      uint16(r.Uint32()),
	}
	c.cli = deviceAddr(dev, c.v6)
	// VLANs only on the wire a sensor taps directly: AWS mirroring
	// delivers untagged frames.
	tag := -1
	if !g.cfg.VXLAN {
		tag = r.IntN(32)
	}
	c.vlan, c.qinq = vlanTags(dev, tag)
	// The IoT mix draws only when asked for, so that the default mix
	// stays the same bytes for a seed.
	if g.cfg.IoT {
		if w := r.IntN(100); w < iotShare {
			g.iotConv(c, w, tag)
			return
		}
	}
	w := r.IntN(100)
	for _, kw := range kindWeights {
		if w < kw.w {
			c.kind = kw.k
			break
		}
		w -= kw.w
	}
	switch c.kind {
	case kindHTTP, kindTLS:
		g.tcpConv(c)
	case kindDNS:
		c.svc = uint8(r.IntN(len(services)))
		c.srv, c.sport, c.steps = resolver4, 53, 2
		if c.v6 {
			c.srv = resolver6
		}
		c.nx = r.IntN(16) == 0
	case kindNTP:
		c.v6 = false // the time servers are IPv4 only
		c.cli = deviceAddr(dev, false)
		c.srv, c.sport, c.steps = ntpServers[r.IntN(2)], 123, 2
		c.cport, c.fixedPort = 123, true
	case kindPing:
		c.srv = services[r.IntN(len(services))].addr(c.v6)
		c.steps = 2 * (1 + r.IntN(4))
		if r.IntN(8) == 0 {
			c.steps = 1 + r.IntN(3) // unanswered: requests only
			c.silent = true
		}
	case kindScan:
		g.scanConv(c)
	case kindUDP:
		c.steps = 1
		if r.IntN(2) == 0 { // SSDP discovery, never answered
			c.v6 = false
			c.cli = deviceAddr(dev, false)
			c.srv, c.sport, c.cport = v4(239, 255, 255, 250), 1900, uint16(49152+r.IntN(16384))
		} else {
			c.srv = services[r.IntN(len(services))].addr(c.v6)
			c.sport = uint16(1024 + r.IntN(60000))
		}
	}
}

// vlanTags says how a device's conversation is tagged on the tapped wire:
// tag is a draw in 0..31 (-1: untagged wire).
func vlanTags(dev, tag int) (vlan, qinq uint16) {
	switch {
	case tag < 0:
	case tag < 8:
		vlan = uint16(100 + dev%6)
	case tag == 8:
		vlan, qinq = uint16(10+dev%3), 300
	}
	return vlan, qinq
}

func (s *service) addr(v6 bool) [16]byte {
	if v6 {
		return s.v6
	}
	return s.v4
}

func (g *gen) tcpConv(c *conv) {
	r := g.rng
	// Pick a service of the right kind.
	for {
		c.svc = uint8(r.IntN(len(services)))
		if services[c.svc].tls == (c.kind == kindTLS) {
			break
		}
	}
	s := &services[c.svc]
	c.srv, c.sport = s.addr(c.v6), s.port
	c.rounds = uint8(1 + r.IntN(4))
	c.segs = uint8(1 + r.IntN(6))
	c.segLen = uint16(200 + r.IntN(1201))
	switch e := r.IntN(100); {
	case e < 70:
		c.end = endFIN
	case e < 85:
		c.end = endRST
	default:
		c.end = endOpen
	}
	c.steps = 3 + int(c.rounds)*(2+int(c.segs)) + [...]int{endFIN: 3, endRST: 1, endOpen: 0}[c.end]
}

func (g *gen) scanConv(c *conv) {
	r := g.rng
	st := &g.scan
	if st.port == 0 || st.port > 1024 {
		st.target = deviceAddr(r.IntN(numDevices), false)
		st.sport = uint16(40000 + r.IntN(20000))
		st.port = 1
	}
	c.v6 = false
	c.cli, c.srv = scanner4, st.target
	c.cport, c.sport, c.fixedPort = st.sport, st.port, true
	st.port += uint16(1 + r.IntN(3))
	switch v := r.IntN(10); {
	case v < 6: // closed: RST-ACK
		c.steps = 2
	case v < 9: // filtered: no answer
		c.steps, c.silent = 1, true
	default: // open: SYN-ACK, then the scanner's RST
		c.steps, c.answered = 3, true
	}
}
