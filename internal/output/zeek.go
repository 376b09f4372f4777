package output

import (
	"bufio"
	"context"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ZeekOptions shapes a conn.log.
type ZeekOptions struct {
	// LocalNets decide local_orig/local_resp; nil means Zeek's default
	// Site::local_nets, the private and link-local ranges.
	LocalNets []netip.Prefix
	// VLAN adds Zeek's vlan-logging columns (vlan, inner_vlan).
	VLAN bool
	// Interim also writes interim records (Zeek writes one row per
	// connection, at its end).
	Interim bool
	// Now stamps #open and #close (time.Now when zero).
	Now func() time.Time
}

// zeekFields are conn.log's columns and types, as Zeek 6+ writes them.
var zeekFields = []struct{ name, typ string }{
	{"ts", "time"}, {"uid", "string"}, {"id.orig_h", "addr"}, {"id.orig_p", "port"},
	{"id.resp_h", "addr"}, {"id.resp_p", "port"}, {"proto", "enum"}, {"service", "string"},
	{"duration", "interval"}, {"orig_bytes", "count"}, {"resp_bytes", "count"}, {"conn_state", "string"},
	{"local_orig", "bool"}, {"local_resp", "bool"}, {"missed_bytes", "count"}, {"history", "string"},
	{"orig_pkts", "count"}, {"orig_ip_bytes", "count"}, {"resp_pkts", "count"}, {"resp_ip_bytes", "count"},
	{"tunnel_parents", "set[string]"}, {"ip_proto", "count"},
}

// defaultLocalNets is Zeek's default Site::private_address_space (the
// IANA special-purpose registries), which Zeek counts as local when
// Site::local_nets is empty.
var defaultLocalNets = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "2002::/24", "10.0.0.0/8", "2002:a00::/24", "100.64.0.0/10", "2002:6440::/26",
		"127.0.0.0/8", "2002:7f00::/24", "169.254.0.0/16", "2002:a9fe::/32", "172.16.0.0/12", "2002:ac10::/28",
		"192.0.0.0/24", "2002:c000::/40", "192.0.2.0/24", "2002:c000:200::/40", "192.168.0.0/16", "2002:c0a8::/32",
		"198.18.0.0/15", "2002:c612::/31", "198.51.100.0/24", "2002:c633:6400::/40", "203.0.113.0/24",
		"2002:cb00:7100::/40", "224.0.0.0/24", "2002:e000::/40", "239.0.0.0/8", "2002:ef00::/24", "240.0.0.0/4",
		"2002:f000::/20", "255.255.255.255/32", "2002:ffff:ffff::/48", "::/128", "::1/128", "64:ff9b:1::/48",
		"100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// ZeekConnWriter writes a Zeek-compatible conn.log (TSV with the #fields
// header) that Zeek tooling such as zeek-cut and RITA reads. Zeek logs
// only TCP, UDP and ICMP connections; other protocols are skipped here
// (they stay in the JSON output).
type ZeekConnWriter struct {
	w      *bufio.Writer
	opts   ZeekOptions
	header bool
	buf    []byte
}

// NewZeekConn writes a conn.log to w.
func NewZeekConn(w io.Writer, opts ZeekOptions) *ZeekConnWriter {
	if opts.LocalNets == nil {
		opts.LocalNets = defaultLocalNets
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &ZeekConnWriter{w: bufio.NewWriterSize(w, 256<<10), opts: opts}
}

func (z *ZeekConnWriter) writeHeader() {
	z.header = true
	b := z.buf[:0]
	b = append(b, "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t"...)
	b = z.opts.Now().UTC().AppendFormat(b, "2006-01-02-15-04-05")
	b = append(b, "\n#fields"...)
	for _, f := range zeekFields {
		b = append(b, '\t')
		b = append(b, f.name...)
	}
	if z.opts.VLAN {
		b = append(b, "\tvlan\tinner_vlan"...)
	}
	b = append(b, "\n#types"...)
	for _, f := range zeekFields {
		b = append(b, '\t')
		b = append(b, f.typ...)
	}
	if z.opts.VLAN {
		b = append(b, "\tint\tint"...)
	}
	b = append(b, '\n')
	z.buf = b
	_, _ = z.w.Write(b)
}

// WriteSessions implements pipeline.SessionSink.
func (z *ZeekConnWriter) WriteSessions(_ context.Context, batch []schema.Session) error {
	if !z.header {
		z.writeHeader()
	}
	for i := range batch {
		s := &batch[i]
		if (!s.Final && !z.opts.Interim) || s.Transport == "unknown_transport" {
			continue
		}
		z.buf = z.appendRow(z.buf[:0], s)
		if _, err := z.w.Write(z.buf); err != nil {
			return err
		}
	}
	return nil
}

func (z *ZeekConnWriter) appendRow(b []byte, s *schema.Session) []byte {
	tab := func(b []byte) []byte { return append(b, '\t') }
	b = appendTime(b, s.Start)
	b = append(tab(b), s.UID...)
	b = s.Orig.IP.AppendTo(tab(b))
	b = strconv.AppendUint(tab(b), uint64(s.Orig.Port), 10)
	b = s.Resp.IP.AppendTo(tab(b))
	b = strconv.AppendUint(tab(b), uint64(s.Resp.Port), 10)
	b = append(tab(b), s.Transport...)
	b = appendString(tab(b), s.App)
	if d := s.End.Sub(s.Start); d > 0 {
		// Zeek sets duration and sizes only for connections longer than 0.
		b = strconv.AppendFloat(tab(b), d.Seconds(), 'f', 6, 64)
		b = strconv.AppendUint(tab(b), s.OrigBytes, 10)
		b = strconv.AppendUint(tab(b), s.RespBytes, 10)
	} else {
		b = append(b, "\t-\t-\t-"...)
	}
	b = appendString(tab(b), s.ConnState)
	b = appendBool(tab(b), z.local(s.Orig.IP))
	b = appendBool(tab(b), z.local(s.Resp.IP))
	b = strconv.AppendUint(tab(b), s.MissedBytes, 10)
	b = appendString(tab(b), s.History)
	b = strconv.AppendUint(tab(b), s.OrigPkts, 10)
	b = strconv.AppendUint(tab(b), s.OrigIPBytes, 10)
	b = strconv.AppendUint(tab(b), s.RespPkts, 10)
	b = strconv.AppendUint(tab(b), s.RespIPBytes, 10)
	b = tab(b)
	if len(s.TunnelParents) == 0 {
		b = append(b, '-')
	}
	for i, p := range s.TunnelParents {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p...)
	}
	b = strconv.AppendUint(tab(b), uint64(s.Proto), 10)
	if z.opts.VLAN {
		for i := range 2 {
			if i < len(s.VLANs) {
				b = strconv.AppendUint(tab(b), uint64(s.VLANs[i]), 10)
			} else {
				b = append(b, "\t-"...)
			}
		}
	}
	return append(b, '\n')
}

func (z *ZeekConnWriter) local(a netip.Addr) bool {
	for _, p := range z.opts.LocalNets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func appendTime(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(100000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 'T')
	}
	return append(b, 'F')
}

// Close writes the #close line and flushes.
func (z *ZeekConnWriter) Close() error {
	if !z.header {
		z.writeHeader()
	}
	b := append(z.buf[:0], "#close\t"...)
	b = z.opts.Now().UTC().AppendFormat(b, "2006-01-02-15-04-05")
	b = append(b, '\n')
	_, _ = z.w.Write(b)
	return z.w.Flush()
}
