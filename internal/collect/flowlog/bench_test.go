package flowlog

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/osprey-ndr/osprey/internal/collect"
	"github.com/osprey-ndr/osprey/internal/schema"
)

// discard counts sessions, so that the benchmarks measure the parser.
type discard struct{ n int }

func (d *discard) WriteSessions(_ context.Context, b []schema.Session) error {
	d.n += len(b)
	return nil
}

func (d *discard) Close() error { return nil }

// benchRead reads input b.N times over and reports lines per second.
func benchRead(b *testing.B, input []byte, lines int) {
	b.Helper()
	r, err := New(DefaultConfig(), &discard{}, collect.RejectFunc(func(collect.BadInput) {}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := r.Read(context.Background(), "bench", bytes.NewReader(input))
		if err != nil || st.Records != uint64(lines) {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// vpcLines is a default-format file: a few hundred interfaces of one
// account talking to many peers, as a busy VPC's S3 object holds.
func vpcLines(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString(defaultHeader + "\n")
	for i := range n {
		action := "ACCEPT"
		if i%7 == 0 {
			action = "REJECT"
		}
		fmt.Fprintf(&buf, "2 123456789010 eni-%017x 10.0.%d.%d 203.0.%d.%d %d 443 6 %d %d %d %d %s OK\n",
			i%300, i%256, i/256%256, i%97, i%251, 32768+i%28000, 1+i%50, 60+i*13%90000, 1700000000+i/1000, 1700000060+i/1000, action)
	}
	return buf.Bytes()
}

func BenchmarkVPCv2(b *testing.B) {
	const n = 100000
	benchRead(b, vpcLines(n), n)
}
