package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// AFPacketConfig configures live capture.
type AFPacketConfig struct {
	Interface   string
	Promiscuous bool
	Snaplen     int // bytes kept of each frame (65535 when 0)
	// ReceiveBuffer is the socket's SO_RCVBUF in bytes (SO_RCVBUFFORCE is
	// tried first); 0 keeps the kernel default.
	ReceiveBuffer int
}

// AFPacketStats counts what the socket received. The kernel counters are
// running sums (the kernel resets its own on every read).
type AFPacketStats struct {
	Frames        uint64
	Bytes         uint64 // frame lengths on the wire, before the snaplen cut
	KernelPackets uint64 // frames the kernel queued for the socket
	KernelDrops   uint64 // frames it dropped because the socket was full
}

// AFPacketSource captures live from an interface through an AF_PACKET
// socket, in pure Go (github.com/mdlayher/packet, no libpcap, no cgo).
type AFPacketSource struct {
	cfg  AFPacketConfig
	conn *packet.Conn
	link decode.LinkType

	frames, bytes atomic.Uint64
	mu            sync.Mutex // guards the kernel sums
	kpkts, kdrops uint64
	closeOnce     sync.Once
	closeErr      error
}

// NewAFPacketSource opens the socket now, so permission errors show at
// start (errors.Is(err, unix.EPERM) without CAP_NET_RAW).
func NewAFPacketSource(cfg AFPacketConfig) (*AFPacketSource, error) {
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("afpacket %s: %w", cfg.Interface, err)
	}
	conn, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
	if err != nil {
		return nil, fmt.Errorf("afpacket %s: %w", cfg.Interface, err)
	}
	s := &AFPacketSource{cfg: cfg, conn: conn}
	if err := s.setup(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("afpacket %s: %w", cfg.Interface, err)
	}
	return s, nil
}

func (s *AFPacketSource) setup() error {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	var hwtype uint16
	var serr error
	err = rc.Control(func(fd uintptr) {
		if n := s.cfg.ReceiveBuffer; n > 0 {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n); serr != nil {
					serr = fmt.Errorf("SO_RCVBUF %d: %w", n, serr)
					return
				}
			}
		}
		ifr, err := unix.NewIfreq(s.cfg.Interface)
		if err != nil {
			serr = err
			return
		}
		if err := unix.IoctlIfreq(int(fd), unix.SIOCGIFHWADDR, ifr); err != nil {
			serr = fmt.Errorf("SIOCGIFHWADDR: %w", err)
			return
		}
		hwtype = ifr.Uint16() // sa_family of ifr_hwaddr is the ARPHRD_ type
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	if s.link, err = arphrdLink(hwtype); err != nil {
		return err
	}
	if s.cfg.Promiscuous {
		if err := s.conn.SetPromiscuous(true); err != nil {
			return fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	return nil
}

// arphrdLink maps the interface's hardware type to what the frames of a
// SOCK_RAW packet socket start with.
func arphrdLink(hw uint16) (decode.LinkType, error) {
	switch hw {
	case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
		return decode.LinkEthernet, nil
	case unix.ARPHRD_NONE, unix.ARPHRD_RAWIP, unix.ARPHRD_PPP, unix.ARPHRD_TUNNEL,
		unix.ARPHRD_TUNNEL6, unix.ARPHRD_SIT, unix.ARPHRD_IPGRE, unix.ARPHRD_IP6GRE:
		return decode.LinkRaw, nil // tun, wireguard, ppp, ip tunnels: no link header
	}
	return 0, fmt.Errorf("hardware type ARPHRD %d: unsupported link layer", hw)
}

// Name implements Source.
func (s *AFPacketSource) Name() string { return "afpacket:" + s.cfg.Interface }

// Streams implements Source.
func (s *AFPacketSource) Streams() int { return 1 }

// LinkType is what the frames start with.
func (s *AFPacketSource) LinkType() decode.LinkType { return s.link }

// Stats returns the counters; safe at any time. The kernel's are read
// through PACKET_STATISTICS (the library's Stats) while the socket is open.
func (s *AFPacketSource) Stats() (AFPacketStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.pollKernel()
	return AFPacketStats{Frames: s.frames.Load(), Bytes: s.bytes.Load(), KernelPackets: s.kpkts, KernelDrops: s.kdrops}, err
}

// pollKernel adds the kernel's counters since the last read; s.mu held.
func (s *AFPacketSource) pollKernel() error {
	st, err := s.conn.Stats()
	if err != nil {
		return err
	}
	s.kpkts += uint64(st.Packets)
	s.kdrops += uint64(st.Drops)
	return nil
}

// Close closes the socket; Run closes it too when it returns.
func (s *AFPacketSource) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		_ = s.pollKernel() // keep the last counts
		s.mu.Unlock()
		s.closeErr = s.conn.Close()
	})
	return s.closeErr
}

// Run implements Source until ctx is done.
func (s *AFPacketSource) Run(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	defer s.Close()
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, s.cfg.Snaplen)
	var n int
	var rerr syscall.Errno
	// recv with MSG_TRUNC returns the frame's full length even when the
	// buffer holds less; the raw syscall avoids the per-packet address
	// allocation of ReadFrom.
	read := func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), unix.MSG_TRUNC, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		n, rerr = int(r), e
		return true
	}
	f := Frame{LinkType: s.link}
	for {
		err := rc.Read(read)
		if err == nil && rerr != 0 {
			err = rerr
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("afpacket %s: %w", s.cfg.Interface, err)
		}
		s.frames.Add(1)
		s.bytes.Add(uint64(n))
		f.WireLen, f.CaptureLen = n, min(n, len(buf))
		f.Data = buf[:f.CaptureLen]
		f.Timestamp = time.Now()
		if err := h(0, &f); err != nil {
			return err
		}
	}
}
