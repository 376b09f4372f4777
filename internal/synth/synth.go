// Package synth writes synthetic fleet traffic as pcap, for the demo and
// the benchmarks: TCP conversations with handshakes, data and teardown,
// DNS, NTP, ICMP echo, SYN scans and unanswered UDP, over IPv4 and IPv6,
// some on VLANs, optionally wrapped in VXLAN as AWS Traffic Mirroring
// delivers it. Output is deterministic for a seed.
//
// Frames are written by hand from per-conversation state instead of with
// gopacket's serializer so that a million packets take about a second;
// TCP and UDP checksums are left zero (nothing downstream verifies them),
// IPv4 header checksums are correct.
package synth

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"time"
)

// Config describes the capture to write.
type Config struct {
	Packets   int
	Flows     int     // conversations alive at any time
	VXLAN     bool    // wrap every frame in VXLAN (UDP 4789)
	IPv6Share float64 // share of IPv6 conversations, 0..1
	Seed      int64
	Start     time.Time
}

// Stats says what was written.
type Stats struct {
	Packets, Bytes, Conversations int
}

type kind uint8

const (
	kindHTTP kind = iota
	kindTLS
	kindDNS
	kindNTP
	kindPing
	kindScan
	kindUDPNoise
	numKinds
)

// conv is one conversation in progress.
type conv struct {
	kind         kind
	v6           bool
	vlan         uint16
	cli, srv     [16]byte
	cport, sport uint16
	cseq, sseq   uint32
	step, steps  int
	mirror       int // index of the mirrored ENI (VXLAN outer source)
}

type gen struct {
	cfg   Config
	rng   *rand.Rand
	buf   []byte
	frame []byte
	ts    time.Time
	st    Stats
}

// WritePCAP writes cfg.Packets packets to w as a classic pcap (Ethernet).
func WritePCAP(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Packets <= 0 || cfg.Flows <= 0 {
		return Stats{}, errors.New("synth: packets and flows must be positive")
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x05b7e1)), buf: make([]byte, 0, 4096), ts: cfg.Start}
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	if _, err := w.Write(hdr); err != nil {
		return g.st, err
	}
	convs := make([]conv, cfg.Flows)
	for i := range convs {
		g.newConv(&convs[i])
	}
	// Mean gap between packets: 10 µs (100 k packets/s of fleet traffic).
	// Conversations send in trains, as real traffic does (a TCP window, a
	// request and its answer): the next packet continues the same one with
	// probability 1/2, else another picked at random.
	var c *conv
	for range cfg.Packets {
		if c == nil || g.rng.IntN(2) == 0 {
			c = &convs[g.rng.IntN(len(convs))]
		}
		g.ts = g.ts.Add(time.Duration(2000 + g.rng.IntN(16000)))
		g.packet(c)
		if err := g.writeRecord(w); err != nil {
			return g.st, err
		}
		c.step++
		if c.step >= c.steps {
			g.newConv(c)
			c = nil
		}
	}
	return g.st, nil
}

func (g *gen) newConv(c *conv) {
	g.st.Conversations++
	r := g.rng
	*c = conv{kind: kind(r.IntN(int(numKinds))), v6: r.Float64() < g.cfg.IPv6Share, mirror: r.IntN(16)}
	if r.IntN(8) == 0 {
		c.vlan = uint16(100 + r.IntN(4))
	}
	// Clients in a fleet subnet, servers inside and outside.
	cli, srv := r.Uint32(), r.Uint32()
	if c.v6 {
		copy(c.cli[:], []byte{0xfd, 0x00, 0, 0x10, 0, 0, 0, 0})
		binary.BigEndian.PutUint32(c.cli[12:], cli)
		copy(c.srv[:], []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0})
		binary.BigEndian.PutUint32(c.srv[12:], srv%4096)
	} else {
		c.cli = v4(10, 20, byte(cli>>8), byte(cli))
		c.srv = v4(byte(93+srv%8), 184, byte(srv>>8%16), byte(srv%200))
	}
	c.cport = uint16(32768 + r.IntN(28000))
	c.cseq, c.sseq = r.Uint32(), r.Uint32()
	switch c.kind {
	case kindHTTP:
		c.sport, c.steps = 80, 8+r.IntN(10)
	case kindTLS:
		c.sport, c.steps = 443, 10+r.IntN(30)
	case kindDNS:
		c.sport, c.steps = 53, 2
		c.srv = v4(10, 20, 0, 2)
		if c.v6 {
			c.srv = [16]byte{0xfd, 0, 0, 0x10, 15: 2}
		}
	case kindNTP:
		c.sport, c.steps = 123, 2
	case kindPing:
		c.sport, c.steps = uint16(r.IntN(65536)), 2*(1+r.IntN(4))
	case kindScan:
		c.sport, c.steps = uint16(1+r.IntN(1024)), 1+r.IntN(2)
	case kindUDPNoise:
		c.sport, c.steps = uint16(1024+r.IntN(60000)), 1
	}
}

func v4(a, b, c, d byte) [16]byte {
	return [16]byte{10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d}
}

// packet builds the frame for step c.step of the conversation.
func (g *gen) packet(c *conv) {
	fromClient := true
	var flags uint8
	var payload int
	proto := uint8(6)
	switch c.kind {
	case kindHTTP, kindTLS:
		last := c.steps - 1
		switch {
		case c.step == 0:
			flags = 0x02 // SYN
		case c.step == 1:
			flags, fromClient = 0x12, false // SYN-ACK
		case c.step == 2:
			flags = 0x10
		case c.step == last-1:
			flags = 0x11 // FIN-ACK
		case c.step == last:
			flags, fromClient = 0x11, false
		default:
			flags = 0x18
			fromClient = c.step%3 == 0
			if fromClient {
				payload = 100 + g.rng.IntN(400)
			} else {
				payload = 500 + g.rng.IntN(900)
			}
		}
	case kindScan:
		flags = 0x02
		if c.step == 1 {
			flags, fromClient = 0x14, false // RST-ACK: closed port
		}
	case kindDNS, kindNTP:
		proto, fromClient = 17, c.step == 0
		payload = 48
		if c.kind == kindDNS {
			payload = 30 + g.rng.IntN(20)
			if !fromClient {
				payload += 16 * (1 + g.rng.IntN(4))
			}
		}
	case kindUDPNoise:
		proto, payload = 17, 20+g.rng.IntN(200)
	case kindPing:
		proto, payload, fromClient = 1, 56, c.step%2 == 0
		if c.v6 {
			proto = 58
		}
	}
	b := g.buf[:0]
	src, dst, sp, dp := c.cli, c.srv, c.cport, c.sport
	if !fromClient {
		src, dst, sp, dp = dst, src, dp, sp
	}
	b = ethernet(b, c.vlan, c.v6)
	l4 := 8 + payload // UDP and ICMP headers
	if proto == 6 {
		l4 = 20 + payload
	}
	b = ipHeader(b, c.v6, proto, src, dst, l4)
	switch proto {
	case 6:
		seq, ack := &c.cseq, c.sseq
		if !fromClient {
			seq, ack = &c.sseq, c.cseq
		}
		b = binary.BigEndian.AppendUint16(b, sp)
		b = binary.BigEndian.AppendUint16(b, dp)
		b = binary.BigEndian.AppendUint32(b, *seq)
		if flags&0x10 == 0 {
			ack = 0
		}
		b = binary.BigEndian.AppendUint32(b, ack)
		b = append(b, 5<<4, flags, 0xfa, 0xf0, 0, 0, 0, 0)
		*seq += uint32(payload)
		if flags&0x03 != 0 {
			*seq++
		}
	case 17:
		b = binary.BigEndian.AppendUint16(b, sp)
		b = binary.BigEndian.AppendUint16(b, dp)
		b = binary.BigEndian.AppendUint16(b, uint16(l4))
		b = append(b, 0, 0)
	default:
		typ := uint8(8)
		if c.v6 {
			typ = 128
		}
		if !fromClient {
			typ = 0
			if c.v6 {
				typ = 129
			}
		}
		b = append(b, typ, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, c.sport)
		b = binary.BigEndian.AppendUint16(b, uint16(c.step/2))
	}
	pl := len(b)
	for i := 0; i < payload; i++ {
		b = append(b, byte(i))
	}
	if c.kind == kindDNS { // a DNS header with empty sections, so DNS decoders accept it
		clear(b[pl : pl+12])
		binary.BigEndian.PutUint16(b[pl:], uint16(c.cport))
		if !fromClient {
			b[pl+2] = 0x81
		}
	}
	if g.cfg.VXLAN {
		b = g.vxlan(b, c)
	}
	g.frame = b
	g.buf = b[:0]
}

func ethernet(b []byte, vlan uint16, v6 bool) []byte {
	b = append(b, 0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02)
	if vlan != 0 {
		b = append(b, 0x81, 0x00)
		b = binary.BigEndian.AppendUint16(b, vlan)
	}
	if v6 {
		return append(b, 0x86, 0xdd)
	}
	return append(b, 0x08, 0x00)
}

func ipHeader(b []byte, v6 bool, proto uint8, src, dst [16]byte, l4 int) []byte {
	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(l4))
		b = append(b, proto, 64)
		b = append(b, src[:]...)
		return append(b, dst[:]...)
	}
	start := len(b)
	b = append(b, 0x45, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(20+l4))
	b = append(b, 0, 0, 0x40, 0, 64, proto, 0, 0)
	b = append(b, src[12:]...)
	b = append(b, dst[12:]...)
	binary.BigEndian.PutUint16(b[start+10:], checksum(b[start:start+20]))
	return b
}

func checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// vxlan wraps frame as AWS Traffic Mirroring does: the mirrored ENI's
// address as outer source, the sensor as destination, VNI per session.
func (g *gen) vxlan(frame []byte, c *conv) []byte {
	out := make([]byte, 0, len(frame)+50)
	out = ethernet(out, 0, false)
	src := v4(172, 31, 0, byte(10+c.mirror))
	dst := v4(172, 31, 0, 250)
	out = ipHeader(out, false, 17, src, dst, 8+8+len(frame))
	out = binary.BigEndian.AppendUint16(out, uint16(49152+c.mirror*97+int(c.cport)%97))
	out = binary.BigEndian.AppendUint16(out, 4789)
	out = binary.BigEndian.AppendUint16(out, uint16(16+len(frame)))
	out = append(out, 0, 0, 0x08, 0, 0, 0)
	out = binary.BigEndian.AppendUint32(out, uint32(1000+c.mirror)<<8)
	return append(out, frame...)
}

func (g *gen) writeRecord(w io.Writer) error {
	var h [16]byte
	us := g.ts.UnixMicro()
	binary.LittleEndian.PutUint32(h[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(h[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(g.frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(g.frame)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(g.frame)
	g.st.Packets++
	g.st.Bytes += len(g.frame)
	return err
}
