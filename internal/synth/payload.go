package synth

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
)

// Payloads are shaped like the real protocols so that application
// decoders (DNS, TLS SNI/ALPN, HTTP host and user agent, NTP) find what
// they look for; bulk data is filler copied from two fixed buffers.

const (
	fillerLen      = 4096
	serverHelloLen = 87
)

// fillers returns printable JSON-ish text (HTTP bodies) and random bytes
// (TLS records), both from the generator's seed.
func fillers(r *rand.Rand) (plain, noise []byte) {
	plain = make([]byte, 0, fillerLen+64)
	for len(plain) < fillerLen {
		plain = append(plain, `{"device":"d-`...)
		plain = strconv.AppendInt(plain, int64(r.IntN(numDevices)), 10)
		plain = append(plain, `","temp":`...)
		plain = strconv.AppendInt(plain, int64(15+r.IntN(20)), 10)
		plain = append(plain, `,"ok":true},`...)
	}
	noise = make([]byte, fillerLen)
	for i := 0; i < len(noise); i += 8 {
		binary.LittleEndian.PutUint64(noise[i:], r.Uint64())
	}
	return plain[:fillerLen], noise
}

// filler appends n bytes of src from a random offset.
func (g *gen) filler(b, src []byte, n int) []byte {
	for n > 0 {
		off := g.rng.IntN(fillerLen / 2)
		k := min(n, fillerLen-off)
		b = append(b, src[off:off+k]...)
		n -= k
	}
	return b
}

// payload appends the payload of kind pk (about n bytes where the
// protocol leaves the size open).
func (g *gen) payload(b []byte, c *conv, fromClient bool, pk payloadKind, n int) []byte {
	switch pk {
	case plHTTPRequest:
		return g.httpRequest(b, c, n)
	case plHTTPResponse:
		return g.httpResponse(b, c)
	case plHTTPBody:
		return g.filler(b, g.plain, int(c.segLen))
	case plClientHello:
		return g.clientHello(b, c)
	case plServerHello:
		b = g.serverHello(b)
		if rest := int(c.segLen) - serverHelloLen; rest > 5 {
			b = g.tlsData(b, rest)
		}
		return b
	case plTLSData:
		return g.tlsData(b, n)
	case plDNS:
		return g.dns(b, c, fromClient)
	case plNTP:
		return g.ntp(b, fromClient)
	case plEcho:
		b = binary.BigEndian.AppendUint64(b, uint64(g.now/1000))
		for i := range n - 8 {
			b = append(b, byte(0x10+i))
		}
		return b
	case plSSDP:
		return append(b, "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: ssdp:all\r\n\r\n"...)
	case plRandom:
		return g.filler(b, g.noise, n)
	case plIoT:
		return g.iotPayload(b, c, n)
	}
	return b
}

func (g *gen) httpRequest(b []byte, c *conv, n int) []byte {
	dev := int64(c.cliMAC[4])<<8 | int64(c.cliMAC[5])
	post := g.rng.IntN(4) == 0
	if post {
		b = append(b, "POST /v1/devices/"...)
		b = strconv.AppendInt(b, dev, 10)
		b = append(b, "/telemetry HTTP/1.1\r\n"...)
	} else {
		b = append(b, "GET /v1/devices/"...)
		b = strconv.AppendInt(b, dev, 10)
		b = append(b, "/config HTTP/1.1\r\n"...)
	}
	b = append(b, "Host: "...)
	b = append(b, services[c.svc].name...)
	b = append(b, "\r\nUser-Agent: fleet-agent/2.3 (linux; arm64)\r\nAccept: application/json\r\n"...)
	if !post {
		return append(b, "\r\n"...)
	}
	b = append(b, "Content-Type: application/json\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, "\r\n\r\n"...)
	return g.filler(b, g.plain, n)
}

// httpResponse writes the first segment of a response whose body runs
// through all c.segs segments of c.segLen bytes; Content-Length says so.
func (g *gen) httpResponse(b []byte, c *conv) []byte {
	const head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: "
	total := int(c.segs) * int(c.segLen)
	// The header holds the body's length, so its own length depends on
	// the number of digits: find the fixed point, or pad with a space
	// (optional whitespace in HTTP) where none exists (9999 vs 10000).
	pad, body := 0, 0
	for d := 1; ; d++ {
		body = total - len(head) - 4 - d
		if nd := ndigits(body); nd == d {
			break
		} else if nd < d {
			pad = 1
			break
		}
	}
	start := len(b)
	b = append(b, head...)
	b = strconv.AppendInt(b, int64(body), 10)
	if pad == 1 {
		b = append(b, ' ')
	}
	b = append(b, "\r\n\r\n"...)
	return g.filler(b, g.plain, int(c.segLen)-(len(b)-start))
}

// clientHello writes a TLS 1.3 ClientHello record with SNI, ALPN and
// supported versions.
func (g *gen) clientHello(b []byte, c *conv) []byte {
	name := services[c.svc].name
	rec := len(b)
	b = append(b, 0x16, 0x03, 0x01, 0, 0) // record; length below
	hs := len(b)
	b = append(b, 0x01, 0, 0, 0, 0x03, 0x03) // ClientHello; length below
	b = g.randomBytes(b, 32)
	b = append(b, 32)
	b = g.randomBytes(b, 32) // session id
	suites := []byte{0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9}
	b = append(b, 0, byte(len(suites)))
	b = append(b, suites...)
	b = append(b, 1, 0) // null compression
	ext := len(b)
	b = append(b, 0, 0)
	// server_name
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)+5))
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)+3))
	b = append(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(name)))
	b = append(b, name...)
	// supported_groups x25519, secp256r1; signature_algorithms; ALPN h2,
	// http/1.1; supported_versions 1.3, 1.2.
	b = append(b, 0x00, 0x0a, 0, 6, 0, 4, 0x00, 0x1d, 0x00, 0x17)
	b = append(b, 0x00, 0x0d, 0, 6, 0, 4, 0x04, 0x03, 0x08, 0x04)
	b = append(b, 0x00, 0x10, 0, 14, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1')
	b = append(b, 0x00, 0x2b, 0, 5, 4, 0x03, 0x04, 0x03, 0x03)
	binary.BigEndian.PutUint16(b[ext:], uint16(len(b)-ext-2))
	hl := len(b) - hs - 4
	b[hs+1], b[hs+2], b[hs+3] = byte(hl>>16), byte(hl>>8), byte(hl)
	binary.BigEndian.PutUint16(b[rec+3:], uint16(len(b)-rec-5))
	return b
}

// serverHello writes a TLS 1.3 ServerHello record (serverHelloLen bytes).
func (g *gen) serverHello(b []byte) []byte {
	b = append(b, 0x16, 0x03, 0x03, 0, 82, 0x02, 0, 0, 78, 0x03, 0x03)
	b = g.randomBytes(b, 32)
	b = append(b, 32)
	b = g.randomBytes(b, 32)
	b = append(b, 0x13, 0x01, 0) // TLS_AES_128_GCM_SHA256, null compression
	return append(b, 0, 6, 0x00, 0x2b, 0, 2, 0x03, 0x04)
}

// tlsData writes one application-data record of n bytes in all.
func (g *gen) tlsData(b []byte, n int) []byte {
	n = max(n, 6)
	b = append(b, 0x17, 0x03, 0x03, byte((n-5)>>8), byte(n-5))
	return g.filler(b, g.noise, n-5)
}

func (g *gen) randomBytes(b []byte, n int) []byte {
	for range n / 8 {
		b = binary.LittleEndian.AppendUint64(b, g.rng.Uint64())
	}
	return b
}

// dns writes a query for the conversation's service name (A, or AAAA over
// IPv6) or its answer: the service's address, or NXDOMAIN.
func (g *gen) dns(b []byte, c *conv, query bool) []byte {
	s := &services[c.svc]
	flags, an := uint16(0x0100), uint16(0)
	if !query {
		flags, an = 0x8180, 1
		if c.nx {
			flags, an = 0x8183, 0
		}
	}
	b = binary.BigEndian.AppendUint16(b, c.id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = append(b, 0, 1, byte(an>>8), byte(an), 0, 0, 0, 0)
	name := s.name
	for len(name) > 0 {
		i := 0
		for i < len(name) && name[i] != '.' {
			i++
		}
		b = append(b, byte(i))
		b = append(b, name[:i]...)
		if i < len(name) {
			i++
		}
		name = name[i:]
	}
	qtype := byte(1)
	if c.v6 {
		qtype = 28
	}
	b = append(b, 0, 0, qtype, 0, 1)
	if an == 0 {
		return b
	}
	b = append(b, 0xc0, 12, 0, qtype, 0, 1, 0, 0, 0x01, 0x2c) // TTL 300
	if c.v6 {
		b = append(b, 0, 16)
		return append(b, s.v6[:]...)
	}
	b = append(b, 0, 4)
	return append(b, s.v4[12:]...)
}

// ntp writes an NTPv4 client request (mode 3) or server reply (mode 4).
func (g *gen) ntp(b []byte, client bool) []byte {
	// NTP time counts from 1900; the fraction is in 1/2^32 s.
	sec := uint64(g.now/1e9) + 2208988800
	frac := uint64(g.now%1e9) << 32 / 1e9
	ts := sec<<32 | frac
	if client {
		b = append(b, 0x23)
		b = append(b, make([]byte, 39)...)
		return binary.BigEndian.AppendUint64(b, ts)
	}
	b = append(b, 0x24, 2, 6, 0xec, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 'G', 'P', 'S', 0)
	b = binary.BigEndian.AppendUint64(b, ts-1<<32) // reference
	b = binary.BigEndian.AppendUint64(b, ts-1<<20) // origin: the request
	b = binary.BigEndian.AppendUint64(b, ts-1<<16) // receive
	return binary.BigEndian.AppendUint64(b, ts)    // transmit
}

func ndigits(v int) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
