// Package synth writes synthetic fleet traffic as a classic pcap, for the
// demo and the benchmarks. The mix looks like a fleet of devices: TCP
// conversations (HTTP and TLS) with handshake, data both ways and a FIN or
// RST teardown — some left open —, DNS queries and answers, NTP, ICMP
// echo, SYN scans and unanswered UDP, over IPv4 and IPv6, some on VLANs
// (802.1Q and 802.1ad). With Config.VXLAN every frame is wrapped as AWS
// VPC Traffic Mirroring delivers it. Output is deterministic for a seed.
//
// Frames are built by hand from per-conversation state (addresses, ports,
// sequence numbers) rather than with gopacket's serializer, so that a
// million packets take well under a second on one core without an
// allocation per packet. Every checksum is valid: IPv4 header, TCP, UDP
// and ICMP/ICMPv6, so a sensor that verifies checksums (Zeek without -C,
// decode.verify_checksums) drops nothing. The one exception is the outer
// UDP header of VXLAN, whose checksum is zero as RFC 7348 recommends and
// as AWS sends it.
//
// With Config.IoT 35 % of the conversations (iotShare) come from an
// IoT/OT and extra-IT mix instead: MQTT, Modbus/TCP, S7comm, DNP3,
// BACnet/IP, DHCP, SSH, Telnet, FTP, mDNS and LLMNR, written byte for byte
// as the protocols specify so that Wireshark and nDPI recognise them, from
// devices whose role (and so host name and protocols) follows from their
// index. Without it the output is unchanged, byte for byte.
package synth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Config describes the capture to write.
type Config struct {
	Packets   int     // exact number of packets written
	Flows     int     // conversations alive at any time
	VXLAN     bool    // wrap every frame in VXLAN (UDP 4789), as AWS Traffic Mirroring does
	IPv6Share float64 // share of IPv6 conversations, 0..1
	IoT       bool    // add the IoT/OT and extra-IT mix (iotShare % of conversations, IPv4)
	Seed      int64   // same seed (and config), same bytes
	Start     time.Time
}

// Stats says what was written.
type Stats struct {
	Packets       int // packets written (= Config.Packets)
	Bytes         int // frame bytes written, without pcap record headers
	Conversations int // conversations that sent at least one packet
}

// DefaultStart is the time of the first packet when Config.Start is zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	recordHeaderLen = 16
	// outerLen is what VXLAN adds in front of the inner frame: Ethernet,
	// IPv4, UDP and the VXLAN header.
	outerLen = 14 + 20 + 8 + 8
)

type gen struct {
	cfg   Config
	rng   *rand.Rand
	w     *bufio.Writer
	buf   []byte // one pcap record: header, room for the outer headers, frame
	room  int    // where the inner frame starts in buf
	now   int64  // ns since the epoch
	ipID  uint16
	scan  scanState
	st    Stats
	plain []byte // printable filler (HTTP bodies)
	noise []byte // random filler (TLS records)
	frag  []byte // scratch for a DNP3 link frame's user data
}

// WritePCAP writes cfg.Packets packets to w as a classic pcap with the
// Ethernet link type and microsecond timestamps. w is buffered here.
func WritePCAP(w io.Writer, cfg Config) (Stats, error) {
	switch {
	case cfg.Packets < 0:
		return Stats{}, fmt.Errorf("synth: packets = %d, want ≥ 0", cfg.Packets)
	case cfg.Flows <= 0:
		return Stats{}, fmt.Errorf("synth: flows = %d, want > 0", cfg.Flows)
	case cfg.IPv6Share < 0 || cfg.IPv6Share > 1:
		return Stats{}, fmt.Errorf("synth: ipv6 share = %v, want 0..1", cfg.IPv6Share)
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	g := &gen{
		cfg:  cfg,
		rng:  rand.New(rand.NewPCG(uint64(cfg.Seed), 0x05b7e1)),
		w:    bufio.NewWriterSize(w, 1<<20),
		buf:  make([]byte, 0, 4096),
		now:  cfg.Start.UnixNano(),
		frag: make([]byte, 0, 256),
	}
	g.room = recordHeaderLen
	if cfg.VXLAN {
		g.room += outerLen
	}
	g.plain, g.noise = fillers(g.rng)

	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond pcap
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	if _, err := g.w.Write(hdr[:]); err != nil {
		return g.st, fmt.Errorf("synth: write pcap header: %w", err)
	}

	convs := make([]conv, cfg.Flows)
	// Room for four times the live conversations, so that a run's
	// claims and releases reuse the table's slots rather than grow it.
	live := make(liveTuples, 4*cfg.Flows)
	for i := range convs {
		g.newConv(&convs[i])
		live.claim(&convs[i])
	}
	// Conversations send in trains, as real traffic does (a window of
	// segments, a request and its answer): the next packet continues the
	// same conversation with probability 1/2, else another one at random.
	// The gaps average 10 µs, 100 k packets/s of fleet traffic.
	var c *conv
	for i := range cfg.Packets {
		if c == nil || g.rng.IntN(2) == 0 {
			c = &convs[g.rng.IntN(len(convs))]
		}
		g.now += int64(2000 + g.rng.IntN(16000))
		if c.step == 0 {
			g.st.Conversations++
		}
		g.packet(c)
		if err := g.flushRecord(); err != nil {
			return g.st, fmt.Errorf("synth: write packet %d: %w", i+1, err)
		}
		c.step++
		if c.step >= c.steps {
			live.release(c)
			g.newConv(c)
			live.claim(c)
			c = nil
		}
	}
	if err := g.w.Flush(); err != nil {
		return g.st, fmt.Errorf("synth: flush: %w", err)
	}
	return g.st, nil
}

// flushRecord writes buf (the record header is filled in here) in one call.
func (g *gen) flushRecord() error {
	b := g.buf
	n := len(b) - recordHeaderLen
	us := g.now / 1000
	binary.LittleEndian.PutUint32(b[0:], uint32(us/1e6))
	binary.LittleEndian.PutUint32(b[4:], uint32(us%1e6))
	binary.LittleEndian.PutUint32(b[8:], uint32(n))
	binary.LittleEndian.PutUint32(b[12:], uint32(n))
	g.st.Packets++
	g.st.Bytes += n
	_, err := g.w.Write(b)
	return err
}

// liveTuples counts the conversations in progress by address and port
// pair, so that a new one never takes the ephemeral port of a live one
// between the same ends: two TCP connections on one 4-tuple at once do
// not happen on a real network, and would be one flow with two sequence
// spaces to a meter.
type liveTuples map[tuple]int

type tuple struct {
	cli, srv     [16]byte
	cport, sport uint16
}

func tupleOf(c *conv) tuple { return tuple{c.cli, c.srv, c.cport, c.sport} }

// claim takes c's tuple, moving its ephemeral port on past those in use.
func (l liveTuples) claim(c *conv) {
	for !c.fixedPort && l[tupleOf(c)] > 0 {
		c.cport++
		if c.cport < 32768 {
			c.cport = 32768
		}
	}
	l[tupleOf(c)]++
}

func (l liveTuples) release(c *conv) {
	k := tupleOf(c)
	if l[k]--; l[k] <= 0 {
		delete(l, k)
	}
}
