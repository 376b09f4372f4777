package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many datagrams one recvmmsg call may return.
const batchSize = 32

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// oobSize holds the control messages asked for: SO_RXQ_OVFL (24 bytes),
// SCM_TIMESTAMPNS (32), IP_PKTINFO (32) and IPV6_PKTINFO (40).
const oobSize = 160

// udpBatch calls recvmmsg(2) directly on reused buffers. It replaces
// x/net's ipv4.PacketConn.ReadBatch, which makes the same system call but
// allocates a *net.UDPAddr and its IP for every datagram; here the sender
// is parsed from a reused sockaddr into a netip.AddrPort, so receiving
// allocates nothing.
type udpBatch struct {
	rc    syscall.RawConn
	hdrs  [batchSize]unix.Mmsghdr
	iovs  [batchSize]unix.Iovec
	names [batchSize]unix.RawSockaddrInet6 // large enough for IPv4 too
	// oob is uint64 so that control messages are 8-byte aligned, as the
	// kernel's CMSG_ALIGN assumes.
	oob  [batchSize][oobSize / 8]uint64
	bufs []byte // batchSize × maxDatagram

	n     int
	errno syscall.Errno
	read  func(fd uintptr) bool // bound once, so that Read does not allocate
	now   time.Time             // fallback receive time of the batch
}

// datagram is one received datagram, parsed.
type datagram struct {
	data       []byte
	src        netip.AddrPort
	dst        netip.Addr // from IP_PKTINFO; invalid when absent
	ts         time.Time
	drops      uint32 // SO_RXQ_OVFL: the socket's drops since it opened
	dropsValid bool
}

func newUDPBatch(conn *net.UDPConn) (*udpBatch, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &udpBatch{rc: rc, bufs: make([]byte, batchSize*maxDatagram)}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i*maxDatagram]
		b.iovs[i].SetLen(maxDatagram)
		h := &b.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.Iovlen = 1
		h.Control = (*byte)(unsafe.Pointer(&b.oob[i][0]))
	}
	b.read = b.recvmmsg
	return b, nil
}

func (b *udpBatch) recvmmsg(fd uintptr) bool {
	// The kernel overwrites the lengths: reset them for every call.
	for i := range b.hdrs {
		b.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		b.hdrs[i].Hdr.SetControllen(oobSize)
		b.hdrs[i].Hdr.Flags = 0
	}
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), batchSize, 0, 0, 0)
	if e == unix.EAGAIN || e == unix.EWOULDBLOCK {
		return false // wait in the netpoller
	}
	b.n, b.errno = int(n), e
	return true
}

// recv blocks until at least one datagram is there and returns how many
// the batch holds.
func (b *udpBatch) recv() (int, error) {
	if err := b.rc.Read(b.read); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, b.errno
	}
	b.now = time.Now()
	return b.n, nil
}

// message parses the i-th datagram of the last recv.
func (b *udpBatch) message(i int) datagram {
	h := &b.hdrs[i]
	m := datagram{
		data: b.bufs[i*maxDatagram : i*maxDatagram+min(int(h.Len), maxDatagram)],
		src:  sockaddrAddrPort(&b.names[i], h.Hdr.Namelen),
		ts:   b.now,
	}
	oob := unsafe.Slice((*byte)(unsafe.Pointer(&b.oob[i][0])), oobSize)
	parseControl(oob[:min(int(h.Hdr.Controllen), oobSize)], &m)
	return m
}

// sockaddrAddrPort reads a sockaddr_in or sockaddr_in6 without allocating.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6, namelen uint32) netip.AddrPort {
	port := func(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }
	switch {
	case sa.Family == unix.AF_INET && namelen >= unix.SizeofSockaddrInet4:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port(&sa4.Port))
	case sa.Family == unix.AF_INET6 && namelen >= unix.SizeofSockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port(&sa.Port))
	}
	return netip.AddrPort{}
}

// parseControl reads the control messages asked for in listenUDP.
func parseControl(oob []byte, m *datagram) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return
		}
		data := oob[unix.CmsgLen(0):l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SO_RXQ_OVFL && len(data) >= 4:
			m.drops, m.dropsValid = binary.NativeEndian.Uint32(data), true
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&data[0]))
			m.ts = time.Unix(int64(ts.Sec), int64(ts.Nsec))
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			m.dst = netip.AddrFrom4((*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0])).Addr)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			m.dst = netip.AddrFrom16((*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0])).Addr).Unmap()
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
}
