package capture

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/errgroup"
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
	// datagrams over them (and so over cores); 0 means GOMAXPROCS.
	Sockets int
	// ReceiveBuffer is SO_RCVBUF in bytes (SO_RCVBUFFORCE is tried first,
	// which lets root exceed net.core.rmem_max); 0 keeps the default.
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
	// receive buffer was full (SO_RXQ_OVFL), summed over sockets. The
	// kernel reports the count with the next datagram a socket receives.
	KernelDrops uint64
}

// UDPSocketStats are one socket's counters.
type UDPSocketStats struct {
	Addr netip.AddrPort
	Kind decode.LinkType
	UDPStats
}

// UDPSource receives mirrored traffic: one stream per socket.
type UDPSource struct {
	socks []*udpSocket
}

type udpSocket struct {
	conn  *net.UDPConn
	kind  decode.LinkType
	local netip.AddrPort // as bound (the wildcard address for 0.0.0.0)

	datagrams, bytes, errors, drops atomic.Uint64
}

// NewUDPSource opens every socket now, so that address errors show at
// start and tests can learn the ports chosen for ":0".
func NewUDPSource(cfg UDPConfig) (*UDPSource, error) {
	if len(cfg.Listen) == 0 {
		return nil, errors.New("udp: no listen address")
	}
	n := cfg.Sockets
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	s := &UDPSource{}
	for _, l := range cfg.Listen {
		if l.Kind != decode.LinkVXLANPayload && l.Kind != decode.LinkGENEVEPayload {
			s.Close()
			return nil, fmt.Errorf("udp %s: kind %d is neither VXLAN nor GENEVE payload", l.Addr, l.Kind)
		}
		addr := l.Addr
		for i := 0; i < n; i++ {
			sock, err := listenUDP(addr, l.Kind, cfg.ReceiveBuffer)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("udp %s: %w", addr, err)
			}
			if i == 0 { // later sockets join the same port (":0" resolved)
				addr = net.JoinHostPort(hostOf(addr), fmt.Sprint(sock.local.Port()))
			}
			s.socks = append(s.socks, sock)
		}
	}
	return s, nil
}

// hostOf keeps the host part of addr as written (so that "0.0.0.0" stays
// IPv4-only and "[::]" dual-stack for the sockets that join the port).
func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return h
}

func listenUDP(addr string, kind decode.LinkType, rcvbuf int) (*udpSocket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
				serr = fmt.Errorf("SO_REUSEPORT: %w", serr)
				return
			}
			// Control messages that come with every datagram: the kernel's
			// drop counter, the receive time and the destination address
			// (which a wildcard bind does not tell). Each is optional.
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
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
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	return &udpSocket{conn: conn, kind: kind, local: local}, nil
}

// Name implements Source.
func (s *UDPSource) Name() string {
	if len(s.socks) == 0 {
		return "udp"
	}
	return "udp:" + s.socks[0].local.String()
}

// Streams implements Source: one per socket.
func (s *UDPSource) Streams() int { return len(s.socks) }

// Addrs lists the local address of every socket, in stream order.
func (s *UDPSource) Addrs() []netip.AddrPort {
	out := make([]netip.AddrPort, len(s.socks))
	for i, k := range s.socks {
		out[i] = k.local
	}
	return out
}

// Addr is the local address of the socket of stream i.
func (s *UDPSource) Addr(i int) netip.AddrPort { return s.socks[i].local }

// Stats sums the sockets' counters; safe at any time.
func (s *UDPSource) Stats() UDPStats {
	var st UDPStats
	for _, k := range s.socks {
		st.add(k.stats())
	}
	return st
}

// SocketStats lists each socket's counters, in stream order; safe at any
// time. Kernel drops per socket show which receive buffer is too small.
func (s *UDPSource) SocketStats() []UDPSocketStats {
	out := make([]UDPSocketStats, len(s.socks))
	for i, k := range s.socks {
		out[i] = UDPSocketStats{Addr: k.local, Kind: k.kind, UDPStats: k.stats()}
	}
	return out
}

func (st *UDPStats) add(o UDPStats) {
	st.Datagrams += o.Datagrams
	st.Bytes += o.Bytes
	st.ReadErrors += o.ReadErrors
	st.KernelDrops += o.KernelDrops
}

func (k *udpSocket) stats() UDPStats {
	return UDPStats{Datagrams: k.datagrams.Load(), Bytes: k.bytes.Load(), ReadErrors: k.errors.Load(), KernelDrops: k.drops.Load()}
}

// Close closes every socket. Run closes them too when it returns.
func (s *UDPSource) Close() error {
	var errs []error
	for _, k := range s.socks {
		if err := k.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run implements Source: it reads every socket on its own goroutine until
// ctx is done or a handler fails, then closes them. It can run only once.
func (s *UDPSource) Run(ctx context.Context, h Handler) error {
	g, gctx := errgroup.WithContext(ctx)
	// Closing the sockets is what wakes the blocked reads.
	stop := context.AfterFunc(gctx, func() { s.Close() })
	defer stop()
	defer s.Close()
	for i, k := range s.socks {
		g.Go(func() error { return k.run(gctx, i, h) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (k *udpSocket) run(ctx context.Context, stream int, h Handler) error {
	b, err := newUDPBatch(k.conn)
	if err != nil {
		return fmt.Errorf("udp %s: %w", k.local, err)
	}
	f := Frame{LinkType: k.kind}
	for {
		n, err := b.recv()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			k.errors.Add(1)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOMEM) || errors.Is(err, unix.ENOBUFS) {
				continue
			}
			return fmt.Errorf("udp %s: recvmmsg: %w", k.local, err)
		}
		for i := range n {
			k.fill(b, i, &f)
			if err := h(stream, &f); err != nil {
				return err
			}
		}
	}
}

// fill makes f the i-th datagram of the batch and counts it.
func (k *udpSocket) fill(b *udpBatch, i int, f *Frame) {
	m := b.message(i)
	if m.dropsValid {
		k.drops.Store(uint64(m.drops))
	}
	k.datagrams.Add(1)
	k.bytes.Add(uint64(len(m.data)))
	f.Data = m.data
	f.CaptureLen, f.WireLen = len(m.data), len(m.data)
	f.Timestamp = m.ts
	f.OuterSrc = m.src
	dst := k.local.Addr()
	if m.dst.IsValid() {
		dst = m.dst
	}
	f.OuterDst = netip.AddrPortFrom(dst, k.local.Port())
}
