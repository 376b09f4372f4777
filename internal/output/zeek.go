package output

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// ZeekOptions shapes a conn.log.
type ZeekOptions struct {
	// LocalNets decide local_orig/local_resp. Nil means Zeek's default
	// Site::local_nets, which is Site::private_address_space
	// (ZeekPrivateNets). Zeek adds the private space to configured
	// local_nets too (Site::private_address_space_is_local); here a
	// configured list replaces it, so include the private ranges to get
	// Zeek's behaviour.
	LocalNets []netip.Prefix
	// VLAN adds Zeek's vlan-logging columns (vlan, inner_vlan).
	VLAN bool
	// Interim also writes interim records; by default only final ones,
	// as Zeek writes one row per connection, at its end.
	Interim bool
	// Now stamps #open and #close (time.Now when nil).
	Now func() time.Time
}

// zeekFields are conn.log's columns and their types, as Zeek 6.1+ writes
// them (ip_proto is the last base column).
var zeekFields = [...]struct{ name, typ string }{
	{"ts", "time"}, {"uid", "string"}, {"id.orig_h", "addr"}, {"id.orig_p", "port"},
	{"id.resp_h", "addr"}, {"id.resp_p", "port"}, {"proto", "enum"}, {"service", "string"},
	{"duration", "interval"}, {"orig_bytes", "count"}, {"resp_bytes", "count"}, {"conn_state", "string"},
	{"local_orig", "bool"}, {"local_resp", "bool"}, {"missed_bytes", "count"}, {"history", "string"},
	{"orig_pkts", "count"}, {"orig_ip_bytes", "count"}, {"resp_pkts", "count"}, {"resp_ip_bytes", "count"},
	{"tunnel_parents", "set[string]"}, {"ip_proto", "count"},
}

// ZeekPrivateNets returns Zeek's Site::private_address_space as of the
// Zeek release the test baselines come from: the IANA special-purpose
// ranges with their 6to4 forms, plus 224.0.0.0/24 and 239.0.0.0/8 (the
// baselines mark 224.0.0.251 local and 224.2.127.254 not).
func ZeekPrivateNets() []netip.Prefix {
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
}

// ZeekConnWriter writes a Zeek-compatible conn.log: the TSV header Zeek's
// ASCII writer emits, one row per connection with Zeek's formatting
// (6-decimal times, "-" for unset, "(empty)" for empty sets, \xHH escapes)
// and #close at Close. Zeek tooling — zeek-cut, RITA — reads it as Zeek's.
type ZeekConnWriter struct {
	w      *bufio.Writer
	opts   ZeekOptions
	local4 []netip.Prefix // LocalNets by family: half the look-ups
	local6 []netip.Prefix
	header bool
	buf    []byte
	n      uint64
}

// NewZeekConn writes a conn.log to w, buffered; Close writes #close and
// flushes.
func NewZeekConn(w io.Writer, opts ZeekOptions) *ZeekConnWriter {
	if opts.LocalNets == nil {
		opts.LocalNets = ZeekPrivateNets()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	z := &ZeekConnWriter{w: bufio.NewWriterSize(w, 256<<10), opts: opts, buf: make([]byte, 0, 512)}
	for _, p := range opts.LocalNets {
		if p.Addr().Is4() {
			z.local4 = append(z.local4, p)
		} else {
			z.local6 = append(z.local6, p)
		}
	}
	return z
}

func (z *ZeekConnWriter) writeHeader() error {
	z.header = true
	b := append(z.buf[:0], "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t"...)
	b = z.opts.Now().UTC().AppendFormat(b, "2006-01-02-15-04-05")
	b = append(b, "\n#fields"...)
	for _, f := range zeekFields {
		b = append(append(b, '\t'), f.name...)
	}
	if z.opts.VLAN {
		b = append(b, "\tvlan\tinner_vlan"...)
	}
	b = append(b, "\n#types"...)
	for _, f := range zeekFields {
		b = append(append(b, '\t'), f.typ...)
	}
	if z.opts.VLAN {
		b = append(b, "\tint\tint"...)
	}
	z.buf = append(b, '\n')
	_, err := z.w.Write(z.buf)
	return err
}

// WriteSessions implements pipeline.SessionSink.
func (z *ZeekConnWriter) WriteSessions(_ context.Context, batch []schema.Session) error {
	if !z.header {
		if err := z.writeHeader(); err != nil {
			return fmt.Errorf("zeek conn.log: write header: %w", err)
		}
	}
	for i := range batch {
		s := &batch[i]
		if !s.Final && !z.opts.Interim {
			continue
		}
		z.buf = z.appendRow(z.buf[:0], s)
		if _, err := z.w.Write(z.buf); err != nil {
			return fmt.Errorf("zeek conn.log: session %s: %w", s.UID, err)
		}
		z.n++
	}
	return nil
}

// Count is the number of rows written.
func (z *ZeekConnWriter) Count() uint64 { return z.n }

// appendRow formats s as Zeek's conn.log does; the comments name the
// Zeek script rule (base/protocols/conn/main.zeek) each column follows.
func (z *ZeekConnWriter) appendRow(b []byte, s *schema.Session) []byte {
	b = appendZeekTime(b, s.Start)
	b = appendZeekString(append(b, '\t'), s.UID, false)
	b = s.Orig.IP.AppendTo(append(b, '\t'))
	b = strconv.AppendUint(append(b, '\t'), uint64(s.Orig.Port), 10)
	b = s.Resp.IP.AppendTo(append(b, '\t'))
	b = strconv.AppendUint(append(b, '\t'), uint64(s.Resp.Port), 10)
	proto := s.Transport
	if proto == "" {
		proto = "unknown_transport"
	}
	b = append(append(b, '\t'), proto...)
	b = appendZeekOptional(append(b, '\t'), zeekService(s))
	if d := s.End.Sub(s.Start); d > 0 {
		// duration and the payload sizes are set only when c$duration > 0.
		b = appendZeekInterval(append(b, '\t'), d)
		b = strconv.AppendUint(append(b, '\t'), s.OrigBytes, 10)
		b = strconv.AppendUint(append(b, '\t'), s.RespBytes, 10)
	} else {
		b = append(b, "\t-\t-\t-"...)
	}
	b = appendZeekOptional(append(b, '\t'), s.ConnState)
	b = appendZeekBool(append(b, '\t'), z.local(s.Orig.IP))
	b = appendZeekBool(append(b, '\t'), z.local(s.Resp.IP))
	b = strconv.AppendUint(append(b, '\t'), s.MissedBytes, 10)
	b = appendZeekOptional(append(b, '\t'), s.History) // set only when not empty
	b = strconv.AppendUint(append(b, '\t'), s.OrigPkts, 10)
	b = strconv.AppendUint(append(b, '\t'), s.OrigIPBytes, 10)
	b = strconv.AppendUint(append(b, '\t'), s.RespPkts, 10)
	b = strconv.AppendUint(append(b, '\t'), s.RespIPBytes, 10)
	b = append(b, '\t')
	if len(s.TunnelParents) == 0 {
		b = append(b, '-') // the set is created only for tunnelled connections
	}
	for i, p := range s.TunnelParents {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendZeekString(b, p, true)
	}
	b = strconv.AppendUint(append(b, '\t'), uint64(s.Proto), 10)
	if z.opts.VLAN {
		for i := range 2 {
			if i < len(s.VLANs) {
				b = strconv.AppendUint(append(b, '\t'), uint64(s.VLANs[i]), 10)
			} else {
				b = append(b, "\t-"...)
			}
		}
	}
	return append(b, '\n')
}

func (z *ZeekConnWriter) local(a netip.Addr) bool {
	a = a.Unmap()
	nets := z.local6
	if a.Is4() {
		nets = z.local4
	}
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Close writes the #close line and flushes; it does not close the
// underlying writer.
func (z *ZeekConnWriter) Close() error {
	if !z.header {
		if err := z.writeHeader(); err != nil {
			return fmt.Errorf("zeek conn.log: write header: %w", err)
		}
	}
	b := append(z.buf[:0], "#close\t"...)
	b = z.opts.Now().UTC().AppendFormat(b, "2006-01-02-15-04-05")
	b = append(b, '\n')
	if _, err := z.w.Write(b); err != nil {
		return fmt.Errorf("zeek conn.log: write #close: %w", err)
	}
	if err := z.w.Flush(); err != nil {
		return fmt.Errorf("zeek conn.log: flush: %w", err)
	}
	return nil
}

// zeekService is conn.log's service: set, as Zeek sets it, only when an
// analyzer confirmed the protocol (a port guess is not written), and
// named as Zeek names its analyzers.
func zeekService(s *schema.Session) string {
	if s.L7 != nil && s.L7.By != "content" {
		return ""
	}
	switch s.App {
	case "tls":
		return "ssl"
	case "mdns", "llmnr", "netbios":
		return "dns"
	}
	return s.App
}
