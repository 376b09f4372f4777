//go:build unix

package flowlog

import (
	"bytes"
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

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

// cpuTime is the CPU time the process has used, GC included. Other
// processes on a shared machine stretch wall time but not this, so
// lines/cpu-s says what one core does whatever else runs beside it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRead reads input b.N times over and reports lines per second of
// wall time and of CPU time.
func benchRead(b *testing.B, input []byte, lines int) {
	b.Helper()
	r, err := New(DefaultConfig(), &discard{}, collect.RejectFunc(func(collect.BadInput) {}))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		st, err := r.Read(context.Background(), "bench", bytes.NewReader(input))
		if err != nil || st.Records != uint64(lines) {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(float64(lines)*float64(b.N)/(cpuTime(b)-cpu).Seconds(), "lines/cpu-s")
}

// vpcLines is a default-format file as a busy VPC's S3 object holds it:
// a few hundred interfaces of one account; each accepted connection logged
// in both directions, as an interface's flow log does, and one record per
// rejected attempt (one in seven). With unique set, every record is a
// tuple of its own and no community id is asked for twice.
func vpcLines(n int, unique bool) []byte {
	var buf bytes.Buffer
	buf.WriteString(defaultHeader + "\n")
	for i := 0; i < n; i++ {
		src := fmt.Sprintf("10.0.%d.%d", i%256, i/256%256)
		dst := fmt.Sprintf("203.0.%d.%d", i%97, i%251)
		sport, eni, t := 32768+i%28000, i%300, 1700000000+i/1000
		if unique || i%7 == 0 || i+1 == n {
			action := "ACCEPT"
			if i%7 == 0 {
				action = "REJECT"
			}
			fmt.Fprintf(&buf, "2 123456789010 eni-%017x %s %s %d 443 6 %d %d %d %d %s OK\n", eni, src, dst, sport, 1+i%50, 60+i*13%90000, t, t+60, action)
			continue
		}
		fmt.Fprintf(&buf, "2 123456789010 eni-%017x %s %s %d 443 6 %d %d %d %d ACCEPT OK\n", eni, src, dst, sport, 1+i%50, 60+i*13%90000, t, t+60)
		fmt.Fprintf(&buf, "2 123456789010 eni-%017x %s %s 443 %d 6 %d %d %d %d ACCEPT OK\n", eni, dst, src, sport, 1+i%40, 80+i*17%90000, t, t+60)
		i++
	}
	return buf.Bytes()
}

func BenchmarkVPCv2(b *testing.B) {
	const n = 100000
	benchRead(b, vpcLines(n, false), n)
}

func BenchmarkVPCv2Unique(b *testing.B) {
	const n = 100000
	benchRead(b, vpcLines(n, true), n)
}

// azureRecords is an NSG version 2 file: records of one minute each,
// 60 tuples per rule.
func azureRecords(records int) ([]byte, int) {
	var buf bytes.Buffer
	buf.WriteString(`{"records":[`)
	n := 0
	for i := range records {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `{"time":"2018-11-13T12:%02d:35.3899262Z","category":"NetworkSecurityGroupFlowEvent",`+
			`"resourceId":"/SUBSCRIPTIONS/AAAA0A0A-BB1B-CC2C-DD3D-EEEEEE4E4E4E/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG",`+
			`"properties":{"Version":2,"flows":[{"rule":"DefaultRule_AllowInternetOutBound","flows":[{"mac":"000D3AF87856","flowTuples":[`, i%60)
		for j := range 60 {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `"%d,10.5.16.4,203.0.%d.%d,%d,443,T,O,A,E,%d,%d,%d,%d"`, 1542110379+i*60+j, j, i%250, 30000+j, j+1, 60*j+100, j+2, 80*j+200)
			n++
		}
		buf.WriteString(`]}]}]}}`)
	}
	buf.WriteString("]}")
	return buf.Bytes(), n
}

func BenchmarkAzure(b *testing.B) {
	input, n := azureRecords(500)
	benchRead(b, input, n)
}

// gcpLines is a Cloud Storage export: one LogEntry a line.
func gcpLines(n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, `{"insertId":"%x","jsonPayload":{"bytes_sent":"%d","connection":{"dest_ip":"203.0.113.%d","dest_port":443,"protocol":6,"src_ip":"10.87.40.%d","src_port":%d},`+
			`"dest_location":{"asn":15169,"continent":"America","country":"usa"},"end_time":"2019-06-14T03:45:37.301953198Z","packets_sent":"%d","reporter":"SRC","rtt_msec":"36",`+
			`"src_instance":{"project_id":"my-project","region":"us-east1","vm_name":"vm-%d","zone":"us-east1-b"},`+
			`"src_vpc":{"project_id":"my-project","subnetwork_name":"default","vpc_name":"default"},"start_time":"2019-06-14T03:45:37.186193305Z"},`+
			`"logName":"projects/my-project/logs/compute.googleapis.com%%2Fvpc_flows","resource":{"labels":{"project_id":"my-project"},"type":"gce_subnetwork"},`+
			`"timestamp":"2019-06-14T03:50:10.845445834Z"}`+"\n", i, 100+i, i%250, i%200, 30000+i%30000, 1+i%40, i%20)
	}
	return buf.Bytes()
}

func BenchmarkGCP(b *testing.B) {
	const n = 20000
	benchRead(b, gcpLines(n), n)
}
