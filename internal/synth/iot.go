package synth

// The IoT/OT and extra-IT mix (Config.IoT). Fleet devices take a role from
// their index (dev%16), so that the same device always has the same host
// name and speaks the same protocols: a device inventory built from the
// capture makes sense. Residues 0, 1 and 15 have no role, which keeps the
// roles off the .0, .1 (the gateway) and .255 addresses.
//
// The plant (10.30.1.0/24: HMIs, a SCADA master, Schneider, Siemens and
// SEL controllers) and the building network (10.30.2.0/24: a BMS
// workstation, BACnet controllers) are fixed tables: each controller
// speaks one protocol and always answers with the same identity.

const iotShare = 35 // percent of conversations drawn from iotWeights

// The IoT kinds follow the default ones.
const (
	kindMQTT kind = kindUDP + 1 + iota
	kindModbus
	kindS7
	kindDNP3
	kindBACnet
	kindDHCP
	kindSSH
	kindTelnet
	kindFTP
	kindMDNS
	kindLLMNR
)

// iotWeights is the IoT mix, in percent of all conversations; the weights
// add up to iotShare.
var iotWeights = [...]struct {
	k kind
	w int
}{
	{kindMQTT, 8}, {kindModbus, 5}, {kindS7, 3}, {kindDNP3, 2}, {kindBACnet, 2},
	{kindDHCP, 3}, {kindSSH, 3}, {kindTelnet, 1}, {kindFTP, 2}, {kindMDNS, 4}, {kindLLMNR, 2},
}

type role uint8

const (
	roleNone role = iota
	roleSensor
	roleCam
	roleThermostat
	roleGateway
	roleWorkstation
)

var roleOfResidue = [16]role{
	2: roleSensor, 3: roleSensor, 4: roleSensor, 5: roleSensor,
	6: roleCam, 7: roleCam, 8: roleCam,
	9: roleThermostat, 10: roleThermostat,
	11: roleGateway, 12: roleGateway,
	13: roleWorkstation, 14: roleWorkstation,
}

// roleNames prefix the host names: "cam-0042" is device 42.
var roleNames = [...]string{
	roleNone: "dev", roleSensor: "sensor", roleCam: "cam", roleThermostat: "thermostat",
	roleGateway: "gw", roleWorkstation: "ws",
}

func roleOf(dev int) role { return roleOfResidue[dev%16] }

// pickDevice draws a device of role ro (a role holds at least 2 of 16
// residues, so this takes a few draws).
func (g *gen) pickDevice(ro role) int {
	for {
		if d := g.rng.IntN(numDevices); roleOf(d) == ro {
			return d
		}
	}
}

// Servers of the IoT mix. The gateway is the fleet segment's router and
// DHCP server; the jump host logs into devices with SSH and telnet.
var (
	gateway4    = v4(10, 20, 16, 1)
	jumpHost4   = v4(10, 20, 0, 22)
	mqttBroker4 = v4(10, 20, 1, 30)
	ftpServer4  = v4(10, 20, 1, 40)
	backup4     = v4(10, 20, 1, 50) // OpenSSH server the gateways push backups to
	zero4       = v4(0, 0, 0, 0)
	bcast4      = v4(255, 255, 255, 255)
	mdns4       = v4(224, 0, 0, 251)
	llmnr4      = v4(224, 0, 0, 252)
	bcastMAC    = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	mdnsMAC     = [6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	llmnrMAC    = [6]byte{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc}
)

// otDevice is a host of the plant or building network.
type otDevice struct {
	addr  [16]byte
	mac   [6]byte
	unit  uint16 // Modbus unit id, DNP3 address, BACnet device instance
	name  string // BACnet object-name
	model string // Modbus ProductCode, S7 order code (MLFB), BACnet model-name
	rev   string // Modbus MajorMinorRevision
}

func otHost(net, host byte, oui [3]byte, unit uint16, name, model, rev string) otDevice {
	return otDevice{
		addr: v4(10, 30, net, host),
		mac:  [6]byte{oui[0], oui[1], oui[2], 0x1e, net, host},
		unit: unit, name: name, model: model, rev: rev,
	}
}

// Vendor OUIs, so that an inventory's MAC lookup names the makers.
var (
	ouiAdvantech = [3]byte{0x00, 0x0b, 0xab}
	ouiSchneider = [3]byte{0x00, 0x80, 0xf4} // Telemecanique
	ouiSiemens   = [3]byte{0x00, 0x1b, 0x1b}
	ouiSEL       = [3]byte{0x00, 0x30, 0xa7}
	ouiDelta     = [3]byte{0x00, 0x40, 0xae}
	ouiLocal     = [3]byte{0x02, 0x00, 0x0a}
)

const (
	plantNet    = 1
	buildingNet = 2
	plantVLAN   = 30
	bmsVLAN     = 40
	dnp3Master  = 1 // the SCADA master's DNP3 address
	bacnetDelta = 8 // BACnet vendor id of Delta Controls
)

var (
	hmis = [...]otDevice{
		otHost(plantNet, 2, ouiAdvantech, 0, "", "", ""),
		otHost(plantNet, 3, ouiAdvantech, 0, "", "", ""),
		otHost(plantNet, 4, ouiAdvantech, 0, "", "", ""),
	}
	scada      = otHost(plantNet, 5, ouiAdvantech, dnp3Master, "", "", "")
	modbusPLCs = [...]otDevice{
		otHost(plantNet, 10, ouiSchneider, 1, "", "BMX P34 2020", "v3.20"),
		otHost(plantNet, 11, ouiSchneider, 1, "", "BMX P34 2020", "v3.20"),
		otHost(plantNet, 12, ouiSchneider, 1, "", "BMX P34 2010", "v2.90"),
		otHost(plantNet, 13, ouiSchneider, 2, "", "BME P58 2040", "v4.10"),
		otHost(plantNet, 14, ouiSchneider, 1, "", "BMX P34 2020", "v3.20"),
		otHost(plantNet, 15, ouiSchneider, 3, "", "BME P58 2040", "v4.10"),
	}
	s7PLCs = [...]otDevice{
		otHost(plantNet, 20, ouiSiemens, 0, "", "6ES7 315-2EH14-0AB0", ""),
		otHost(plantNet, 21, ouiSiemens, 0, "", "6ES7 315-2EH14-0AB0", ""),
		otHost(plantNet, 22, ouiSiemens, 0, "", "6ES7 317-2EK14-0AB0", ""),
		otHost(plantNet, 23, ouiSiemens, 0, "", "6ES7 315-2EH14-0AB0", ""),
	}
	rtus = [...]otDevice{
		otHost(plantNet, 30, ouiSEL, 10, "", "", ""),
		otHost(plantNet, 31, ouiSEL, 11, "", "", ""),
		otHost(plantNet, 32, ouiSEL, 12, "", "", ""),
		otHost(plantNet, 33, ouiSEL, 13, "", "", ""),
	}
	bms         = otHost(buildingNet, 10, ouiLocal, 0, "", "", "")
	building4   = v4(10, 30, buildingNet, 255)
	controllers = [...]otDevice{
		otHost(buildingNet, 20, ouiDelta, 2001, "AHU-01", "DSC-1616EX", ""),
		otHost(buildingNet, 21, ouiDelta, 2002, "AHU-02", "DSC-1616EX", ""),
		otHost(buildingNet, 22, ouiDelta, 2003, "CHW-PLANT", "DSC-1280E", ""),
		otHost(buildingNet, 23, ouiDelta, 2004, "VAV-2-01", "DVC-V322", ""),
		otHost(buildingNet, 24, ouiDelta, 2005, "VAV-2-02", "DVC-V322", ""),
		otHost(buildingNet, 25, ouiDelta, 2006, "BOILER-1", "DSC-1280E", ""),
		otHost(buildingNet, 26, ouiDelta, 2007, "LIGHTING-3F", "DLC-E1616", ""),
		otHost(buildingNet, 27, ouiDelta, 2008, "METER-MAIN", "DSC-1212E", ""),
	}
)

// DHCP variants (bits of conv.variant).
const (
	dhcpRenew     = 1 // unicast REQUEST/ACK from a leased address
	dhcpBroadcast = 2 // the client sets the broadcast flag: replies to 255.255.255.255
)
