// Package syslog is the syslog output (type: syslog): RFC 5424 messages
// over UDP, TCP or TLS, framed by octet counting or line feeds (RFC
// 6587), whose MSG is the record as ArcSight CEF or as JSON
// (docs/outputs-syslog.md).
package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// Syslog is a deliver.Destination that writes records to one receiver
// over one connection, made again when it fails.
type Syslog struct {
	cfg    Config
	enc    *Encoder
	tls    *tls.Config
	dialer net.Dialer

	conn net.Conn // nil until connected, and after a failure
	raw  net.Conn // the TCP connection beneath a TLS one (conn when plain)
	buf  []byte   // the batch, framed
	ends []int    // where each record ends in buf
}

// New reads the section's certificates and builds the encoder; cfg
// must be valid. It connects at the first Send.
func New(cfg Config) (*Syslog, error) {
	enc, err := NewEncoder(cfg)
	if err != nil {
		return nil, err
	}
	s := &Syslog{cfg: cfg, enc: enc, dialer: net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}}
	if cfg.Network == "tls" {
		if s.tls, err = cfg.TLS.Client(host(cfg.Address)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Encoder renders records as this output's messages.
func (s *Syslog) Encoder() deliver.Encoder { return s.enc }

var _ deliver.Counter = (*Syslog)(nil)

// Counts are the messages cut to max_message_size (deliver.Counter).
func (s *Syslog) Counts() map[string]uint64 { return map[string]uint64{"truncated": s.enc.Truncated()} }

// Send writes the records in order: one datagram each over UDP; over TCP
// and TLS the batch framed in one write, after checking that the
// receiver has not closed the connection since the last batch. A
// failure closes the connection (the next Send makes a new one) and is
// an outage: records are never at fault.
//
// Over UDP nothing tells whether a datagram arrived; over TCP a record
// is counted sent once the kernel took it, so one written in the instant
// the receiver dies can be lost (plain syslog has no acknowledgement).
func (s *Syslog) Send(ctx context.Context, batch []deliver.Record) (int, error) {
	if s.conn != nil && !s.alive() {
		s.drop()
	}
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return 0, deliver.Unavailable(fmt.Errorf("syslog %s %s: %w", s.cfg.Network, s.cfg.Address, err))
		}
	}
	// A cancelled context ends a blocked write at once.
	conn := s.conn
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout)); err != nil {
		s.drop()
		return 0, deliver.Unavailable(fmt.Errorf("syslog %s %s: %w", s.cfg.Network, s.cfg.Address, err))
	}
	n, err := s.write(batch)
	if err != nil {
		s.drop()
		return n, deliver.Unavailable(fmt.Errorf("syslog %s %s: %w", s.cfg.Network, s.cfg.Address, err))
	}
	return n, nil
}

func (s *Syslog) write(batch []deliver.Record) (int, error) {
	if s.cfg.Network == "udp" {
		for i := range batch {
			if _, err := s.conn.Write(batch[i].Data); err != nil {
				return i, err
			}
		}
		return len(batch), nil
	}
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	for i := range batch {
		s.buf = s.frame(s.buf, batch[i].Data)
		s.ends = append(s.ends, len(s.buf))
	}
	written, err := s.conn.Write(s.buf)
	if err == nil {
		return len(batch), nil
	}
	// Records written whole before the failure are the receiver's.
	n := 0
	for n < len(s.ends) && s.ends[n] <= written {
		n++
	}
	return n, err
}

// frame appends one message framed for a stream.
func (s *Syslog) frame(dst, msg []byte) []byte {
	if s.cfg.Framing == FramingNonTransparent {
		// The encoder writes no line feed; a record queued by another
		// version could hold one, and it would split the message.
		start := len(dst)
		dst = append(dst, msg...)
		for i := start; i < len(dst); i++ {
			if dst[i] == '\n' {
				dst[i] = ' '
			}
		}
		return append(dst, '\n')
	}
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}

func (s *Syslog) connect(ctx context.Context) error {
	network := s.cfg.Network
	if network == "tls" {
		network = "tcp"
	}
	conn, err := s.dialer.DialContext(ctx, network, s.cfg.Address)
	if err != nil {
		return err
	}
	s.raw, s.conn = conn, conn
	if s.tls != nil {
		tc := tls.Client(conn, s.tls)
		hctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			conn.Close()
			s.raw, s.conn = nil, nil
			return err
		}
		s.conn = tc
	}
	return nil
}

// alive says whether the receiver kept the connection open. Syslog
// receivers send nothing, so a connection that reads end-of-file or an
// error was closed by the peer, and a write to it would be lost; rsyslog's
// own forwarder checks the same way before it sends.
func (s *Syslog) alive() bool {
	if s.cfg.Network == "udp" {
		return true
	}
	switch peek(s.raw) {
	case peekClosed:
		return false
	case peekData:
		// TLS: a post-handshake message (a session ticket) or a
		// close_notify; reading tells which. Plain TCP: whatever a
		// receiver sent is of no use, and reading drains it.
		var b [512]byte
		s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := s.conn.Read(b[:])
		s.conn.SetReadDeadline(time.Time{})
		var ne net.Error
		return err == nil || errors.As(err, &ne) && ne.Timeout()
	}
	return true
}

// drop closes the connection after a failure.
func (s *Syslog) drop() {
	if s.conn != nil {
		s.conn.Close()
	}
	s.conn, s.raw = nil, nil
}

// Close closes the connection (a TLS one with close_notify).
func (s *Syslog) Close() error {
	if s.conn == nil {
		return nil
	}
	s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	err := s.conn.Close()
	s.conn, s.raw = nil, nil
	return err
}

var _ deliver.Destination = (*Syslog)(nil)

// host is the host part of address, the name a TLS receiver is checked
// against by default.
func host(address string) string {
	h, _, _ := net.SplitHostPort(address)
	return h
}
