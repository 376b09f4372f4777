package synth

import (
	"encoding/binary"
	"strconv"
)

// Payloads of the IoT mix's IT protocols (SSH, Telnet and FTP are in
// loginpayload.go), each as its specification lays it out. Names come
// from the device's role, so that every protocol names a device the same
// way.

// zeros pads BOOTP's empty fields and its 300-byte minimum.
var zeros [300]byte

// iotPayload appends the payload of message i (TCP) or step c.step (UDP)
// of an IoT conversation.
func (g *gen) iotPayload(b []byte, c *conv, i int) []byte {
	switch c.kind {
	case kindMQTT:
		return g.mqtt(b, c, i)
	case kindModbus:
		return g.modbus(b, c, i)
	case kindS7:
		return g.s7(b, c, i)
	case kindDNP3:
		return g.dnp3(b, c, i)
	case kindBACnet:
		return bacnet(b, c)
	case kindDHCP:
		return dhcp(b, c)
	case kindSSH:
		return g.ssh(b, c, i)
	case kindTelnet:
		return telnet(b, c, i)
	case kindFTP:
		return ftp(b, c, i)
	case kindMDNS:
		return mdns(b, c)
	case kindLLMNR:
		return llmnr(b, c)
	}
	return b
}

// appendHost appends device dev's host name: "cam-0042" is device 42.
func appendHost(b []byte, dev int) []byte {
	b = append(b, roleNames[roleOf(dev)]...)
	return append(b, '-', byte('0'+dev/1000%10), byte('0'+dev/100%10), byte('0'+dev/10%10), byte('0'+dev%10))
}

func hostLen(dev int) int { return len(roleNames[roleOf(dev)]) + 5 }

// appendHostLabel appends the host name as a DNS label.
func appendHostLabel(b []byte, dev int) []byte {
	return appendHost(append(b, byte(hostLen(dev))), dev)
}

// mix hashes a conversation's id and a message number, so that a request
// and its response derive the same parameters without keeping state.
func mix(a, b uint32) uint32 {
	h := a*0x9e3779b1 ^ (b+0x7f4a7c15)*0x85ebca77
	h ^= h >> 15
	h *= 0x2c1b3c6d
	h ^= h >> 12
	h *= 0x297a2d39
	return h ^ h>>15
}

func appendHex(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for s := 60; s >= 0; s -= 4 {
		b = append(b, digits[v>>s&0xf])
	}
	return b
}

// mqtt writes message i: CONNECT, CONNACK, c.rounds PUBLISH (QoS 0) each
// acknowledged in TCP only, PINGREQ, PINGRESP and DISCONNECT.
func (g *gen) mqtt(b []byte, c *conv, i int) []byte {
	p := 2 + 2*int(c.rounds)
	switch {
	case i == 0:
		return mqttConnect(b, c)
	case i == 1:
		return append(b, 0x20, 2, 0, 0) // CONNACK: no session, accepted
	case i < p && i%2 == 1:
		return b
	case i < p:
		return g.mqttPublish(b, c)
	case i == p:
		return append(b, 0xc0, 0) // PINGREQ
	case i == p+1:
		return append(b, 0xd0, 0) // PINGRESP
	}
	return append(b, 0xe0, 0) // DISCONNECT
}

// mqttConnect writes a CONNECT (MQTT 3.1.1) with the device's host name as
// client id; half the devices, always the same, log in with a token.
func mqttConnect(b []byte, c *conv) []byte {
	dev := int(c.dev)
	login := dev/16%2 == 0
	start := len(b)
	flags := byte(0x02) // clean session
	if login {
		flags |= 0xc0 // user name, password
	}
	b = append(b, 0x10, 0, 0, 4, 'M', 'Q', 'T', 'T', 4, flags, 0, 60) // keep-alive 60 s
	b = append(b, 0, byte(hostLen(dev)))
	b = appendHost(b, dev)
	if login {
		b = append(b, 0, 5, 'f', 'l', 'e', 'e', 't', 0, 16)
		b = appendHex(b, uint64(dev+1)*0x9e3779b97f4a7c15)
	}
	return mqttLength(b, start)
}

// mqttPublish writes a QoS 0 PUBLISH of a JSON reading to
// fleet/d-<dev>/telemetry.
func (g *gen) mqttPublish(b []byte, c *conv) []byte {
	dev := int64(c.dev)
	start := len(b)
	b = append(b, 0x30, 0, 0, 0) // remaining length, topic length: below
	b = append(b, "fleet/d-"...)
	b = strconv.AppendInt(b, dev, 10)
	b = append(b, "/telemetry"...)
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start-4))
	b = append(b, `{"device":"d-`...)
	b = strconv.AppendInt(b, dev, 10)
	b = append(b, `","ts":`...)
	b = strconv.AppendInt(b, g.now/1e9, 10)
	t := 150 + g.rng.IntN(150)
	b = append(b, `,"temp":`...)
	b = strconv.AppendInt(b, int64(t/10), 10)
	b = append(b, '.', byte('0'+t%10))
	b = append(b, `,"rh":`...)
	b = strconv.AppendInt(b, int64(30+g.rng.IntN(40)), 10)
	b = append(b, `,"battery":`...)
	b = strconv.AppendInt(b, int64(20+int(c.dev)%80), 10)
	b = append(b, '}')
	return mqttLength(b, start)
}

// mqttLength fills in the remaining length of the packet at start, whose
// fixed header left one byte for it; a longer one shifts the rest.
func mqttLength(b []byte, start int) []byte {
	n := len(b) - start - 2
	if n < 128 {
		b[start+1] = byte(n)
		return b
	}
	b = append(b, 0)
	copy(b[start+3:], b[start+2:len(b)-1])
	b[start+1], b[start+2] = byte(n%128)|0x80, byte(n/128)
	return b
}

// dhcpClients are the vendor class (option 60) and parameter request list
// (option 55) of each role's DHCP client: busybox udhcpc, dhcpcd, Windows.
var dhcpClients = [...]struct{ vendor, prl string }{
	roleSensor:      {"udhcp 1.35.0", "\x01\x03\x06\x0c\x0f\x1c\x2a"},
	roleCam:         {"udhcp 1.31.1", "\x01\x03\x06\x0c\x0f\x1c\x2a"},
	roleThermostat:  {"dhcpcd-9.4.1:Linux-5.15.61:armv7l:Freescale i.MX6", "\x01\x79\x21\x03\x06\x0c\x0f\x1a\x1c\x2a\x33\x36\x3a\x3b\x77"},
	roleGateway:     {"dhcpcd-9.4.1:Linux-6.1.21-v8+:aarch64:BCM2835", "\x01\x79\x21\x03\x06\x0c\x0f\x1a\x1c\x2a\x33\x36\x3a\x3b\x77"},
	roleWorkstation: {"MSFT 5.0", "\x01\x03\x06\x0f\x1f\x21\x2b\x2c\x2e\x2f\x77\x79\xf9\xfc"},
}

// dhcp writes step c.step of DISCOVER, OFFER, REQUEST, ACK (or of a
// renewal's REQUEST, ACK) for device c.dev, leased its fleet address.
func dhcp(b []byte, c *conv) []byte {
	dev := int(c.dev)
	addr, mac := deviceAddr(dev, false), deviceMAC(dev)
	renew := c.variant&dhcpRenew != 0
	client := c.step%2 == 0
	msg := [...]byte{1, 2, 3, 5}[c.step] // DISCOVER, OFFER, REQUEST, ACK
	if renew {
		msg = [...]byte{3, 5}[c.step]
	}
	start := len(b)
	op := byte(1)
	if !client {
		op = 2
	}
	b = append(b, op, 1, 6, 0)
	b = binary.BigEndian.AppendUint32(b, c.cseq) // xid
	flags := byte(0)
	if c.variant&dhcpBroadcast != 0 && !renew {
		flags = 0x80
	}
	b = append(b, 0, 0, flags, 0)
	if renew { // ciaddr
		b = append(b, addr[12:]...)
	} else {
		b = append(b, 0, 0, 0, 0)
	}
	if client { // yiaddr
		b = append(b, 0, 0, 0, 0)
	} else {
		b = append(b, addr[12:]...)
	}
	b = append(b, zeros[:8]...) // siaddr, giaddr
	b = append(b, mac[:]...)
	b = append(b, zeros[:10+64+128]...) // chaddr padding, sname, file
	b = append(b, 99, 130, 83, 99, 53, 1, msg)
	if client {
		b = append(b, 61, 7, 1)
		b = append(b, mac[:]...)
		if msg == 3 && !renew {
			b = append(b, 50, 4)
			b = append(b, addr[12:]...)
			b = append(b, 54, 4)
			b = append(b, gateway4[12:]...)
		}
		b = append(b, 57, 2, 0x05, 0xdc, 12, byte(hostLen(dev)))
		b = appendHost(b, dev)
		cl := &dhcpClients[roleOf(dev)]
		b = append(b, 60, byte(len(cl.vendor)))
		b = append(b, cl.vendor...)
		b = append(b, 55, byte(len(cl.prl)))
		b = append(b, cl.prl...)
	} else {
		b = append(b, 54, 4)
		b = append(b, gateway4[12:]...)
		b = append(b, 51, 4, 0, 1, 0x51, 0x80, 58, 4, 0, 0, 0xa8, 0xc0, 59, 4, 0, 1, 0x27, 0x50) // lease 1 day, T1, T2
		b = append(b, 1, 4, 255, 255, 240, 0, 28, 4, 10, 20, 31, 255, 3, 4)
		b = append(b, gateway4[12:]...)
		b = append(b, 6, 4)
		b = append(b, resolver4[12:]...)
		b = append(b, 15, 9, 'f', 'l', 'e', 'e', 't', '.', 'l', 'a', 'n')
	}
	b = append(b, 255)
	if n := len(b) - start; n < 300 {
		b = append(b, zeros[:300-n]...)
	}
	return b
}

const (
	httpService = "\x05_http\x04_tcp\x05local\x00"
	localDomain = "\x05local\x00"
)

// mdns writes a device's announcement (RFC 6762, 6763): its _http._tcp
// service instance (PTR, SRV, TXT) and its address (A), unique records
// with the cache-flush bit.
func mdns(b []byte, c *conv) []byte {
	dev := int(c.dev)
	b = append(b, 0, 0, 0x84, 0, 0, 0, 0, 4, 0, 0, 0, 0)
	b = append(b, httpService...)
	b = append(b, 0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, byte(1+hostLen(dev)+len(httpService))) // PTR, TTL 4500
	b = append(appendHostLabel(b, dev), httpService...)
	b = append(appendHostLabel(b, dev), httpService...)
	b = append(b, 0, 33, 0x80, 1, 0, 0, 0, 120, 0, byte(6+1+hostLen(dev)+len(localDomain))) // SRV, TTL 120
	b = append(b, 0, 0, 0, 0, 0, 80)
	b = append(appendHostLabel(b, dev), localDomain...)
	b = append(appendHostLabel(b, dev), httpService...)
	b = append(b, 0, 16, 0x80, 1, 0, 0, 0x11, 0x94, 0, 7, 6, 'p', 'a', 't', 'h', '=', '/') // TXT
	b = append(appendHostLabel(b, dev), localDomain...)
	b = append(b, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4) // A
	a := deviceAddr(dev, false)
	return append(b, a[12:]...)
}

// llmnrNames are names workstations ask for that nobody answers.
var llmnrNames = [...]string{"wpad", "nas-01", "printer-2f", "fileserver", "isatap"}

// llmnr writes a query (RFC 4795) for a name, or for another
// workstation's name and that workstation's answer.
func llmnr(b []byte, c *conv) []byte {
	answer := c.step == 1 && c.variant == 1
	flags, an := byte(0), byte(0)
	if answer {
		flags, an = 0x80, 1
	}
	b = binary.BigEndian.AppendUint16(b, c.id)
	b = append(b, flags, 0, 0, 1, 0, an, 0, 0, 0, 0)
	if c.variant == 1 {
		b = appendHostLabel(b, int(c.peer))
	} else {
		name := llmnrNames[c.peer]
		b = append(b, byte(len(name)))
		b = append(b, name...)
	}
	b = append(b, 0, 0, 1, 0, 1) // A, IN
	if !answer {
		return b
	}
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4)
	a := deviceAddr(int(c.peer), false)
	return append(b, a[12:]...)
}
