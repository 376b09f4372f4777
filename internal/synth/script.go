package synth

// TCP flags.
const (
	fin = 0x01
	syn = 0x02
	rst = 0x04
	psh = 0x08
	ack = 0x10
)

// payload kinds, written by gen.payload.
type payloadKind uint8

const (
	plNone payloadKind = iota
	plHTTPRequest
	plHTTPResponse // first segment of a response: status line and headers
	plHTTPBody
	plClientHello
	plServerHello
	plTLSData
	plDNS
	plNTP
	plEcho
	plSSDP
	plRandom
	plIoT // the IoT mix: the kind's builder, n is the message index
)

// packet builds the frame for step c.step of the conversation into g.buf.
func (g *gen) packet(c *conv) {
	switch c.kind {
	case kindHTTP, kindTLS:
		g.tcpStep(c)
	case kindScan:
		switch {
		case c.step == 0:
			g.tcp(c, true, syn, plNone, 0)
		case c.answered && c.step == 1:
			g.tcp(c, false, syn|ack, plNone, 0)
		case c.answered:
			g.tcp(c, true, rst, plNone, 0)
		default:
			g.tcp(c, false, rst|ack, plNone, 0)
		}
	case kindDNS:
		g.udp(c, c.step == 0, plDNS, 0)
	case kindNTP:
		g.udp(c, c.step == 0, plNTP, 48)
	case kindUDP:
		if c.sport == 1900 {
			g.udp(c, true, plSSDP, 0)
		} else {
			g.udp(c, true, plRandom, 20+g.rng.IntN(200))
		}
	case kindPing:
		g.icmpEcho(c, c.silent || c.step%2 == 0)
	default:
		g.iotPacket(c)
	}
}

// tcpStep plays a TCP conversation: handshake, rounds of request (client),
// response (c.segs server segments) and the client's ACK, then the end.
func (g *gen) tcpStep(c *conv) {
	tls := c.kind == kindTLS
	switch c.step {
	case 0:
		g.tcp(c, true, syn, plNone, 0)
		return
	case 1:
		g.tcp(c, false, syn|ack, plNone, 0)
		return
	case 2:
		g.tcp(c, true, ack, plNone, 0)
		return
	}
	j := c.step - 3
	round := 2 + int(c.segs)
	if j < int(c.rounds)*round {
		first := j < round
		switch k := j % round; {
		case k == 0:
			pk := plHTTPRequest
			if tls {
				pk = plTLSData
				if first {
					pk = plClientHello
				}
			}
			g.tcp(c, true, psh|ack, pk, 100+g.rng.IntN(400))
		case k <= int(c.segs):
			pk := plHTTPBody
			switch {
			case tls && first && k == 1:
				pk = plServerHello
			case tls:
				pk = plTLSData
			case k == 1:
				pk = plHTTPResponse
			}
			flags := uint8(ack)
			if k == int(c.segs) {
				flags |= psh
			}
			g.tcp(c, false, flags, pk, int(c.segLen))
		default:
			g.tcp(c, true, ack, plNone, 0)
		}
		return
	}
	g.teardown(c, j-int(c.rounds)*round)
}

// teardown plays step e of a TCP conversation's end (c.end).
func (g *gen) teardown(c *conv, e int) {
	switch {
	case c.end == endRST:
		g.tcp(c, true, rst|ack, plNone, 0)
	case e == 0:
		g.tcp(c, true, fin|ack, plNone, 0)
	case e == 1:
		g.tcp(c, false, fin|ack, plNone, 0)
	default:
		g.tcp(c, true, ack, plNone, 0)
	}
}
