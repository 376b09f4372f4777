package synth

// Setting up and playing the IoT mix's conversations: who talks to whom
// (iot.go has the plan), then per step the frame, patching addresses where
// a protocol changes them (DHCP, broadcasts, multicast answers).

// iotConv sets up a conversation of the IoT mix; w < iotShare picks the
// kind, tag the VLAN draw of newConv.
func (g *gen) iotConv(c *conv, w, tag int) {
	r := g.rng
	for _, kw := range iotWeights {
		if w < kw.w {
			c.kind = kw.k
			break
		}
		w -= kw.w
	}
	c.v6 = false
	switch c.kind {
	case kindMQTT:
		ro := roleSensor
		if r.IntN(3) == 0 {
			ro = roleThermostat
		}
		g.fromDevice(c, g.pickDevice(ro), tag)
		c.srv, c.sport = mqttBroker4, 1883
		c.rounds = uint8(1 + r.IntN(6)) // PUBLISH messages
		g.tcpEnd(c, 70, 10)
		c.msgs = 2 + 2*c.rounds + 2 // CONNECT/CONNACK, PUBLISH/ACK, PINGREQ/PINGRESP
		if c.end == endFIN {
			c.msgs++ // DISCONNECT
		}
	case kindModbus:
		c.peer = uint16(r.IntN(len(modbusPLCs)))
		g.plant(c, &hmis[r.IntN(len(hmis))], &modbusPLCs[c.peer], 502, tag)
		c.rounds = uint8(2 + r.IntN(11))
		c.variant = uint8(r.IntN(8)) // 0: asks the device identification first
		g.tcpEnd(c, 50, 10)
		c.msgs = 2 * c.rounds
	case kindS7:
		c.peer = uint16(r.IntN(len(s7PLCs)))
		g.plant(c, &hmis[r.IntN(len(hmis))], &s7PLCs[c.peer], 102, tag)
		c.rounds = uint8(1 + r.IntN(8))
		c.variant = uint8(r.IntN(6)) // 0: reads the module identification (SZL 0x0011) first
		g.tcpEnd(c, 50, 10)
		c.msgs = 4 + 2*c.rounds // COTP connect, S7 setup, then jobs and acks
	case kindDNP3:
		c.peer = uint16(r.IntN(len(rtus)))
		g.plant(c, &scada, &rtus[c.peer], 20000, tag)
		c.rounds = uint8(1 + r.IntN(6))
		g.tcpEnd(c, 50, 10)
		c.msgs = 2 * c.rounds
	case kindBACnet:
		c.peer = uint16(r.IntN(len(controllers)))
		g.plant(c, &bms, &controllers[c.peer], 47808, tag)
		c.cport, c.mirror, c.fixedPort = 47808, numMirrors-2, true
		if tag >= 0 {
			c.vlan = bmsVLAN
		}
		c.variant = uint8(r.IntN(4)) // 0, 1: Who-Is and I-Ams (bit 0: to 255.255.255.255); else ReadProperty
		if c.variant < 2 {
			c.steps = 1 + 1 + r.IntN(len(controllers))
		} else {
			c.steps = 2 * (1 + r.IntN(3))
		}
		return
	case kindDHCP:
		g.fromDevice(c, g.pickDevice(role(1+r.IntN(int(roleWorkstation)))), tag)
		c.cport, c.sport, c.ttl, c.fixedPort = 68, 67, 64, true
		c.variant = uint8(r.IntN(4))
		c.steps = 4
		if c.variant&dhcpRenew != 0 {
			c.steps = 2
		}
		return
	case kindSSH:
		dev := g.pickDevice(roleGateway)
		c.sport = 22
		if r.IntN(3) == 0 { // the gateway (dropbear) pushes a backup
			g.fromDevice(c, dev, tag)
			c.srv, c.variant = backup4, 1
		} else { // an admin (OpenSSH) logs into the gateway
			g.toDevice(c, jumpHost4, dev, tag)
		}
		c.rounds = uint8(1 + r.IntN(20)) // encrypted messages after the key exchange
		g.tcpEnd(c, 85, 5)
		c.msgs = 7 + c.rounds
	case kindTelnet:
		// A few cameras still have telnet open: those of every 64th group
		// of 16 devices, always the same ones.
		dev := 16*64*r.IntN(numDevices/16/64) + 6 + r.IntN(3)
		g.toDevice(c, jumpHost4, dev, tag)
		c.sport, c.msgs, c.end = 23, 12, endFIN
	case kindFTP:
		g.fromDevice(c, g.pickDevice(roleCam), tag)
		c.srv, c.sport, c.msgs = ftpServer4, 21, 11
		g.tcpEnd(c, 90, 10)
	case kindMDNS:
		ro := roleCam
		if r.IntN(3) == 0 {
			ro = roleThermostat
		}
		g.fromDevice(c, g.pickDevice(ro), tag)
		c.srv, c.peerMAC, c.ttl = mdns4, mdnsMAC, 255
		c.cport, c.sport, c.fixedPort = 5353, 5353, true
		c.steps = 1 + r.IntN(3) // announcements are repeated
		return
	case kindLLMNR:
		g.fromDevice(c, g.pickDevice(roleWorkstation), tag)
		c.srv, c.peerMAC, c.ttl, c.sport = llmnr4, llmnrMAC, 1, 5355
		c.steps = 2 // a query and its retransmission, or its answer
		if r.IntN(2) == 0 {
			c.variant = 1 // asks for another workstation, which answers
			c.peer = uint16(g.pickDevice(roleWorkstation))
		} else {
			c.peer = uint16(r.IntN(len(llmnrNames)))
		}
		return
	}
	c.steps = 3 + int(c.msgs) + [...]int{endFIN: 3, endRST: 1, endOpen: 0}[c.end]
}

// tcpEnd draws how a TCP conversation ends: fin and rst in percent, the
// rest left open.
func (g *gen) tcpEnd(c *conv, fin, rst int) {
	switch e := g.rng.IntN(100); {
	case e < fin:
		c.end = endFIN
	case e < fin+rst:
		c.end = endRST
	default:
		c.end = endOpen
	}
}

// fromDevice makes fleet device dev the client.
func (g *gen) fromDevice(c *conv, dev, tag int) {
	c.dev = uint16(dev)
	c.cli, c.cliMAC = deviceAddr(dev, false), deviceMAC(dev)
	c.mirror = uint8(dev % numMirrors)
	c.vlan, c.qinq = vlanTags(dev, tag)
}

// toDevice makes fleet device dev the server of a client behind the
// router.
func (g *gen) toDevice(c *conv, cli [16]byte, dev, tag int) {
	g.fromDevice(c, dev, tag)
	c.srv, c.peerMAC = c.cli, c.cliMAC
	c.cli, c.cliMAC = cli, routerMAC
}

// plant sets up a conversation on the plant or building segment: both
// ends on the wire, on the OT VLAN where the wire is tagged.
func (g *gen) plant(c *conv, cli, srv *otDevice, port uint16, tag int) {
	c.cli, c.cliMAC, c.srv, c.peerMAC = cli.addr, cli.mac, srv.addr, srv.mac
	c.sport, c.ttl = port, 64
	c.mirror = numMirrors - 1
	c.vlan, c.qinq = 0, 0
	if tag >= 0 {
		c.vlan = plantVLAN
	}
}

// serverFirst says whether the server speaks first (a banner).
func (k kind) serverFirst() bool { return k == kindTelnet || k == kindFTP }

// iotPacket builds the frame for step c.step of an IoT conversation.
func (g *gen) iotPacket(c *conv) {
	switch c.kind {
	case kindDHCP:
		g.dhcpStep(c)
	case kindBACnet:
		g.bacnetStep(c)
	case kindMDNS:
		g.udp(c, true, plIoT, 0)
	case kindLLMNR:
		g.llmnrStep(c)
	default:
		g.scriptStep(c)
	}
}

// scriptStep plays a scripted TCP conversation: the handshake, c.msgs
// messages taking turns (the client first unless the kind has a banner)
// and c.end.
func (g *gen) scriptStep(c *conv) {
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
	i := c.step - 3
	if i >= int(c.msgs) {
		g.teardown(c, i-int(c.msgs))
		return
	}
	fromClient := (i%2 == 0) != c.kind.serverFirst()
	flags := uint8(psh | ack)
	if c.kind == kindMQTT && i%2 == 1 && i > 1 && i < 2+2*int(c.rounds) {
		flags = ack // the broker acknowledges a QoS 0 PUBLISH in TCP only
	}
	g.tcp(c, fromClient, flags, plIoT, i)
}

// dhcpStep plays DISCOVER, OFFER, REQUEST, ACK from 0.0.0.0 to the
// broadcast address, the server answering the offered address (or the
// broadcast address when the client asks); a renewal is unicast.
func (g *gen) dhcpStep(c *conv) {
	dev := int(c.dev)
	fromClient := c.step%2 == 0
	c.cli, c.cliMAC = deviceAddr(dev, false), deviceMAC(dev)
	c.srv, c.peerMAC = gateway4, routerMAC
	if c.variant&dhcpRenew == 0 {
		switch {
		case fromClient:
			c.cli, c.srv, c.peerMAC = zero4, bcast4, bcastMAC
		case c.variant&dhcpBroadcast != 0:
			c.cli, c.cliMAC = bcast4, bcastMAC
		}
	}
	g.udp(c, fromClient, plIoT, 0)
}

// bacnetStep plays a Who-Is from the BMS workstation and the I-Am of
// each controller in turn, all broadcast; or ReadProperty requests to
// one controller and their acknowledgements.
func (g *gen) bacnetStep(c *conv) {
	if c.variant >= 2 {
		g.udp(c, c.step%2 == 0, plIoT, 0)
		return
	}
	c.srv, c.peerMAC = building4, bcastMAC
	if c.variant&1 != 0 {
		c.srv = bcast4
	}
	c.cli, c.cliMAC = bms.addr, bms.mac
	if c.step > 0 {
		ctl := &controllers[(int(c.peer)+c.step-1)%len(controllers)]
		c.cli, c.cliMAC = ctl.addr, ctl.mac
	}
	g.udp(c, true, plIoT, 0)
}

// llmnrStep sends a query to the LLMNR group, then repeats it or, when
// the name is a workstation's, that workstation answers (unicast).
func (g *gen) llmnrStep(c *conv) {
	if c.step == 1 && c.variant == 1 {
		other := int(c.peer)
		c.srv, c.peerMAC = deviceAddr(other, false), deviceMAC(other)
		g.udp(c, false, plIoT, 0)
		return
	}
	g.udp(c, true, plIoT, 0)
}
