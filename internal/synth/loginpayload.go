package synth

import "encoding/binary"

// Payloads of the IoT mix's remote-login protocols: SSH, Telnet and FTP,
// with the device's host name where a server or user shows it.

// SSH software: variant 0 is an admin's OpenSSH logging into a gateway's
// dropbear, variant 1 the gateway's dropbear client pushing to an OpenSSH
// server.
var sshSoftware = [2]struct {
	banner                         string
	kex, hostKey, cipher, mac, zip string
}{
	{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2",
		"sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
		"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
		"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
		"none,zlib@openssh.com",
	},
	{
		"SSH-2.0-dropbear_2022.83",
		"curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group14-sha256,diffie-hellman-group14-sha1,kexguess2@matt.ucc.asn.au",
		"ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-256,ssh-rsa",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr",
		"hmac-sha1,hmac-sha2-256",
		"none",
	},
}

// ssh writes message i: both banners, both KEXINITs, the curve25519
// exchange and NEWKEYS, then encrypted packets (chacha20-poly1305: noise).
func (g *gen) ssh(b []byte, c *conv, i int) []byte {
	client := i%2 == 0
	sw := &sshSoftware[c.variant]
	if !client {
		sw = &sshSoftware[1-c.variant]
	}
	switch i {
	case 0, 1:
		b = append(b, sw.banner...)
		return append(b, '\r', '\n')
	case 2, 3:
		p := len(b)
		b = append(b, 0, 0, 0, 0, 0, 20) // KEXINIT
		b = g.randomBytes(b, 16)         // cookie
		b = sshString(b, sw.kex)
		b = sshString(b, sw.hostKey)
		for _, l := range [...]string{sw.cipher, sw.cipher, sw.mac, sw.mac, sw.zip, sw.zip, "", ""} {
			b = sshString(b, l)
		}
		b = append(b, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
		return g.sshPad(b, p)
	case 4:
		p := len(b)
		b = append(b, 0, 0, 0, 0, 0, 30, 0, 0, 0, 32) // KEX_ECDH_INIT, Q_C
		b = g.randomBytes(b, 32)
		return g.sshPad(b, p)
	case 5:
		// KEX_ECDH_REPLY: the host key (the same for a server every
		// time), Q_S and the signature; then NEWKEYS.
		p := len(b)
		b = append(b, 0, 0, 0, 0, 0, 31, 0, 0, 0, 51)
		b = sshString(b, "ssh-ed25519")
		b = append(b, 0, 0, 0, 32)
		key := uint64(binary.BigEndian.Uint32(c.srv[12:]))
		for k := range uint64(4) {
			b = binary.LittleEndian.AppendUint64(b, (key+k)*0x9e3779b97f4a7c15)
		}
		b = append(b, 0, 0, 0, 32)
		b = g.randomBytes(b, 32)
		b = append(b, 0, 0, 0, 83)
		b = sshString(b, "ssh-ed25519")
		b = append(b, 0, 0, 0, 64)
		b = g.randomBytes(b, 64)
		b = g.sshPad(b, p)
		return g.sshNewKeys(b)
	case 6:
		b = g.sshNewKeys(b)
	}
	// An encrypted packet: length, payload and padding, 16-byte tag.
	n := 8 * (2 + int(mix(uint32(c.id), uint32(i))%24))
	return g.filler(b, g.noise, 4+n+16)
}

func (g *gen) sshNewKeys(b []byte) []byte {
	p := len(b)
	b = append(b, 0, 0, 0, 0, 0, 21)
	return g.sshPad(b, p)
}

func sshString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// sshPad finishes the binary packet at p: random padding of 4 bytes or
// more to a multiple of 8, the packet and padding lengths.
func (g *gen) sshPad(b []byte, p int) []byte {
	n := len(b) - p
	pad := 8 - n%8
	if pad < 4 {
		pad += 8
	}
	b = g.filler(b, g.noise, pad)
	binary.BigEndian.PutUint32(b[p:], uint32(len(b)-p-4))
	b[p+4] = byte(pad)
	return b
}

var telnetPasswords = [...]string{"admin", "12345", "default", "cam2019"}

// telnet writes message i of a login to a camera's busybox telnetd: the
// option negotiation, login and password, a command and exit.
func telnet(b []byte, c *conv, i int) []byte {
	dev := int(c.dev)
	switch i {
	case 0: // DO TERMINAL-TYPE, WILL ECHO, WILL SUPPRESS-GO-AHEAD
		return append(b, 0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03)
	case 1: // WILL TERMINAL-TYPE, DO ECHO, DO SUPPRESS-GO-AHEAD
		return append(b, 0xff, 0xfb, 0x18, 0xff, 0xfd, 0x01, 0xff, 0xfd, 0x03)
	case 2: // SB TERMINAL-TYPE SEND SE
		return append(b, 0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0)
	case 3: // SB TERMINAL-TYPE IS "XTERM" SE
		return append(b, 0xff, 0xfa, 0x18, 0x00, 'X', 'T', 'E', 'R', 'M', 0xff, 0xf0)
	case 4:
		b = appendHost(append(b, "\r\n"...), dev)
		return append(b, " login: "...)
	case 5:
		return append(b, "admin\r\n"...)
	case 6:
		return append(b, "admin\r\nPassword: "...)
	case 7:
		b = append(b, telnetPasswords[dev/16%len(telnetPasswords)]...)
		return append(b, "\r\n"...)
	case 8:
		return append(b, "\r\n\r\nBusyBox v1.31.1 (2022-06-14 10:21:37 CST) built-in shell (ash)\r\n\r\n# "...)
	case 9:
		return append(b, "uname -a\r\n"...)
	case 10:
		b = appendHost(append(b, "uname -a\r\nLinux "...), dev)
		return append(b, " 4.9.37 #1 SMP PREEMPT Tue Jun 14 10:19:02 CST 2022 armv7l GNU/Linux\r\n# "...)
	}
	return append(b, "exit\r\n"...)
}

// ftp writes message i of a camera's login to the snapshot FTP server.
func ftp(b []byte, c *conv, i int) []byte {
	dev := int(c.dev)
	switch i {
	case 0:
		return append(b, "220 files.corp.example FTP server ready.\r\n"...)
	case 1:
		b = appendHost(append(b, "USER "...), dev)
	case 2:
		b = appendHost(append(b, "331 Password required for "...), dev)
	case 3:
		b = append(b, "PASS snap-"...)
		b = appendHex(b, uint64(dev+7)*0x9e3779b97f4a7c15)
	case 4:
		b = appendHost(append(b, "230 User "...), dev)
		b = append(b, " logged in."...)
	case 5:
		b = append(b, "SYST"...)
	case 6:
		b = append(b, "215 UNIX Type: L8"...)
	case 7:
		b = append(b, "PWD"...)
	case 8:
		b = appendHost(append(b, `257 "/upload/`...), dev)
		b = append(b, `" is the current directory`...)
	case 9:
		b = append(b, "QUIT"...)
	default:
		b = append(b, "221 Goodbye."...)
	}
	return append(b, '\r', '\n')
}
