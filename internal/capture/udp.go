package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/osprey-ndr/osprey/internal/decode"
)

// UDPListen is one listen address and what arrives on it.
type UDPListen struct {
	Addr string          // "0.0.0.0:4789"; port 0 picks a free port
	Kind decode.LinkType // decode.LinkVXLANPayload or decode.LinkGENEVEPayload
}

// UDPConfig configures a UDPSource.
type UDPConfig struct {
	Listen []UDPListen
	// Sockets per address, bound with SO_REUSEPORT so the kernel spreads
	// datagrams over them (and so over cores).
	Sockets int
	// ReceiveBuffer is SO_RCVBUF in bytes (SO_RCVBUFFORCE is tried first,
	// which lets root exceed net.core.rmem_max).
	ReceiveBuffer int
}

// DefaultUDPConfig listens for VXLAN on 4789 and GENEVE on 6081.
func DefaultUDPConfig() UDPConfig {
	return UDPConfig{
		Listen:        []UDPListen{{"0.0.0.0:4789", decode.LinkVXLANPayload}, {"0.0.0.0:6081", decode.LinkGENEVEPayload}},
		Sockets:       runtime.GOMAXPROCS(0),
		ReceiveBuffer: 32 << 20,
	}
}

// UDPStats counts what the listener received.
type UDPStats struct {
	Datagrams, Bytes, ReadErrors uint64
	// KernelDrops are datagrams the kernel dropped because a socket's
	// receive buffer was full (SO_RXQ_OVFL), summed over sockets.
	KernelDrops uint64
}

// UDPSource receives mirrored traffic: one stream per socket.
type UDPSource struct {
	socks []*udpSocket
}

type udpSocket struct {
	conn                            *net.UDPConn
	kind                            decode.LinkType
	local                           netip.AddrPort
	datagrams, bytes, errors, drops atomic.Uint64
}

// NewUDPSource opens every socket now, so that address errors show at
// start and tests can learn the ports chosen for ":0".
func NewUDPSource(cfg UDPConfig) (*UDPSource, error) {
	if len(cfg.Listen) == 0 {
		return nil, errors.New("udp: no listen address")
	}
	n := max(cfg.Sockets, 1)
	s := &UDPSource{}
	for _, l := range cfg.Listen {
		addr := l.Addr
		for i := 0; i < n; i++ {
			sock, err := listenUDP(addr, l.Kind, cfg.ReceiveBuffer)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("udp %s: %w", addr, err)
			}
			if i == 0 { // later sockets join the same port (":0" resolved)
				addr = sock.local.String()
			}
			s.socks = append(s.socks, sock)
		}
	}
	return s, nil
}

func listenUDP(addr string, kind decode.LinkType, rcvbuf int) (*udpSocket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
				return
			}
			// The kernel's drop counter arrives with every datagram.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			if rcvbuf > 0 {
				if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	return &udpSocket{conn: conn, kind: kind, local: conn.LocalAddr().(*net.UDPAddr).AddrPort()}, nil
}

// Name implements Source.
func (s *UDPSource) Name() string { return "udp" }

// Streams implements Source: one per socket.
func (s *UDPSource) Streams() int { return len(s.socks) }

// Addrs lists the local address of every socket.
func (s *UDPSource) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.socks))
	for i, k := range s.socks {
		out[i] = k.local
	}
	return out
}

// Stats sums the sockets' counters; safe at any time.
func (s *UDPSource) Stats() UDPStats {
	var st UDPStats
	for _, k := range s.socks {
		st.Datagrams += k.datagrams.Load()
		st.Bytes += k.bytes.Load()
		st.ReadErrors += k.errors.Load()
		st.KernelDrops += k.drops.Load()
	}
	return st
}

// Close closes every socket.
func (s *UDPSource) Close() error {
	var errs []error
	for _, k := range s.socks {
		errs = append(errs, k.conn.Close())
	}
	return errors.Join(errs...)
}

// Run implements Source: it reads every socket on its own goroutine until
// ctx is done, then closes them.
func (s *UDPSource) Run(ctx context.Context, h Handler) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.socks))
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	for i, k := range s.socks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = k.read(ctx, i, h)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return ctx.Err()
}

// batchSize is how many datagrams one recvmmsg call may return.
const batchSize = 32

// batchReader is what ipv4.PacketConn and ipv6.PacketConn share.
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

func (k *udpSocket) read(ctx context.Context, stream int, h Handler) error {
	// recvmmsg through x/net: one system call for up to batchSize
	// datagrams, where ReadMsgUDP would make one each.
	var br batchReader = ipv4.NewPacketConn(k.conn)
	if k.local.Addr().Is6() && !k.local.Addr().Is4In6() {
		br = ipv6.NewPacketConn(k.conn)
	}
	ms := make([]ipv4.Message, batchSize)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, 65536)}
		ms[i].OOB = make([]byte, 64)
	}
	f := Frame{LinkType: k.kind, OuterDst: k.local}
	for {
		n, err := br.ReadBatch(ms, 0)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			k.errors.Add(1)
			continue
		}
		now := time.Now()
		for i := range n {
			m := &ms[i]
			if m.NN > 0 {
				if d, ok := rxqOverflow(m.OOB[:m.NN]); ok {
					k.drops.Store(uint64(d))
				}
			}
			k.datagrams.Add(1)
			k.bytes.Add(uint64(m.N))
			f.Data = m.Buffers[0][:m.N]
			f.CaptureLen, f.WireLen = m.N, m.N
			f.Timestamp = now
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				f.OuterSrc = ua.AddrPort()
				f.OuterSrc = netip.AddrPortFrom(f.OuterSrc.Addr().Unmap(), f.OuterSrc.Port())
			}
			if err := h(stream, &f); err != nil {
				return err
			}
		}
	}
}

// rxqOverflow reads the SO_RXQ_OVFL counter (datagrams dropped by the
// socket since it was opened) from control messages, without allocating.
func rxqOverflow(oob []byte) (uint32, bool) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0])) // the kernel aligns control messages
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return 0, false
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SO_RXQ_OVFL && l >= unix.CmsgLen(4) {
			return binary.NativeEndian.Uint32(oob[unix.CmsgLen(0):]), true
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return 0, false
}
