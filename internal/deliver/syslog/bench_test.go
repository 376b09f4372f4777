package syslog

import (
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"testing"

	"github.com/osprey-ndr/osprey/internal/deliver"
)

// BenchmarkEncode: one record through the encoder, per kind and format.
func BenchmarkEncode(b *testing.B) {
	f, s, m := testFinding("f1"), testSession(), testMetric()
	for _, bc := range []struct {
		name   string
		format string
		ev     *deliver.Event
	}{
		{"finding/cef", FormatCEF, findingEv(&f)},
		{"session/cef", FormatCEF, sessionEv(&s)},
		{"metric/cef", FormatCEF, metricEv(&m)},
		{"finding/json", FormatJSON, findingEv(&f)},
		{"session/json", FormatJSON, sessionEv(&s)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := testEncoder(b, func(c *Config) { c.Format = bc.format })
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = e.Encode(buf[:0], bc.ev)
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSend: batches of 500 encoded sessions (CEF, about 480 bytes
// each) through Send to a local receiver that reads and discards.
func BenchmarkSend(b *testing.B) {
	s := testSession()
	e := testEncoder(b, nil)
	data, _ := e.Encode(nil, sessionEv(&s))
	batch := make([]deliver.Record, 500)
	for i := range batch {
		batch[i] = deliver.Record{Kind: deliver.KindSession, Data: data}
	}
	for _, network := range []string{"udp", "tcp", "tls"} {
		b.Run(network, func(b *testing.B) {
			c := DefaultConfig()
			c.Network = network
			c.Address = discard(b, network, &c.TLS)
			d, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n%len(batch) == 0 {
					if _, err := d.Send(b.Context(), batch); err != nil {
						b.Fatal(err)
					}
				}
				n++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// discard listens on a local port and reads everything sent to it;
// for tls it writes a CA and fills in t.
func discard(b *testing.B, network string, t *TLS) string {
	b.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { pc.Close() })
		go func() {
			buf := make([]byte, 65536)
			for {
				if _, _, err := pc.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		return pc.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	if network == "tls" {
		r := &rsyslog{t: b, dir: b.TempDir()}
		r.certificates()
		cert, err := tls.LoadX509KeyPair(filepath.Join(r.dir, "server.pem"), filepath.Join(r.dir, "server-key.pem"))
		if err != nil {
			b.Fatal(err)
		}
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
		t.CAFile = r.ca
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, conn)
		}
	}()
	return l.Addr().String()
}
