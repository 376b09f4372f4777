package hec

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/osprey-ndr/osprey/internal/deliver"
	"github.com/osprey-ndr/osprey/internal/deliver/hec/hectest"
)

// BenchmarkEncode: records/s through the encoder, per kind.
func BenchmarkEncode(b *testing.B) {
	h, err := New(config("http://127.0.0.1:1"))
	if err != nil {
		b.Fatal(err)
	}
	f := testFindings(1)[0]
	s := testSession()
	for _, tc := range []struct {
		name string
		ev   deliver.Event
	}{
		{"finding", deliver.Event{Kind: deliver.KindFinding, Time: f.Time, Finding: &f}},
		{"session", deliver.Event{Kind: deliver.KindSession, Time: s.End, Session: &s}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			enc := h.Encoder()
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf, err = enc.Encode(buf[:0], &tc.ev)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSend: records/s through Send to a local collector (which
// parses every event), in batches of 500 findings — the output's
// default batch.max_records.
func BenchmarkSend(b *testing.B) {
	for _, tc := range []struct {
		name      string
		gzip, ack bool
	}{{"gzip", true, false}, {"plain", false, false}, {"gzip+ack", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := hectest.New(hectest.Options{Token: token, Ack: tc.ack, Discard: true})
			defer srv.Close()
			c := config(srv.URL)
			c.Gzip, c.Ack = tc.gzip, tc.ack
			h, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			recs := records(b, h, testFindings(500))
			size := 0
			for _, r := range recs {
				size += len(r.Data)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := h.Send(b.Context(), recs); n != len(recs) || err != nil {
					b.Fatalf("Send = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSendClient: records/s through Send to a receiver that reads
// the body and answers success without parsing it: the output's own
// cost (encoding excluded), gzip included.
func BenchmarkSendClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	for _, gz := range []bool{true, false} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			c := config(srv.URL)
			c.Gzip = gz
			h, err := New(c)
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			recs := records(b, h, testFindings(500))
			size := 0
			for _, r := range recs {
				size += len(r.Data)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if n, err := h.Send(b.Context(), recs); n != len(recs) || err != nil {
					b.Fatalf("Send = %d, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
		})
	}
}
