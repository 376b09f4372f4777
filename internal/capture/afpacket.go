package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
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
}

// AFPacketSource captures live from an interface through an AF_PACKET
// socket, in pure Go (github.com/mdlayher/packet, no libpcap, no cgo).
type AFPacketSource struct {
	cfg    AFPacketConfig
	conn   *packet.Conn
	link   decode.LinkType
	frames atomic.Uint64
}

// NewAFPacketSource opens the socket now, so permission errors show at start.
func NewAFPacketSource(cfg AFPacketConfig) (*AFPacketSource, error) {
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, err
	}
	conn, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
	if err != nil {
		return nil, err
	}
	if cfg.Promiscuous {
		if err := conn.SetPromiscuous(true); err != nil {
			conn.Close()
			return nil, fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	link := decode.LinkEthernet
	if len(ifi.HardwareAddr) == 0 && ifi.Flags&net.FlagLoopback == 0 {
		link = decode.LinkRaw // tun and other interfaces without a link header
	}
	return &AFPacketSource{cfg: cfg, conn: conn, link: link}, nil
}

// Name implements Source.
func (s *AFPacketSource) Name() string { return "afpacket:" + s.cfg.Interface }

// Streams implements Source.
func (s *AFPacketSource) Streams() int { return 1 }

// KernelStats returns the kernel's counters of the socket: packets and
// drops since the previous call.
func (s *AFPacketSource) KernelStats() (packets, drops uint32, err error) {
	st, err := s.conn.Stats()
	if err != nil {
		return 0, 0, err
	}
	return st.Packets, st.Drops, nil
}

// Run implements Source until ctx is done.
func (s *AFPacketSource) Run(ctx context.Context, h Handler) error {
	stop := context.AfterFunc(ctx, func() { _ = s.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	defer s.conn.Close()
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, s.cfg.Snaplen)
	var n int
	var rerr error
	// recv with MSG_TRUNC returns the frame's full length even when the
	// buffer holds less; the raw syscall avoids the per-packet address
	// allocation of ReadFrom.
	read := func(fd uintptr) bool {
		r, _, e := unix.Syscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), unix.MSG_TRUNC, 0, 0)
		if e == unix.EAGAIN {
			return false
		}
		n, rerr = int(r), nil
		if e != 0 {
			rerr = e
		}
		return true
	}
	f := Frame{LinkType: s.link}
	for {
		if err := rc.Read(read); err != nil || rerr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil {
				err = rerr
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return err
		}
		s.frames.Add(1)
		f.WireLen, f.CaptureLen = n, min(n, len(buf))
		f.Data = buf[:f.CaptureLen]
		f.Timestamp = time.Now()
		if err := h(0, &f); err != nil {
			return err
		}
	}
}
