package defender

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// BenchmarkReport is parse + validate + convert of one report (the
// testdata report: 3 TCP and 1 UDP listening ports, network counters, 3
// connections, 4 custom metrics; 14 metrics out), on one goroutine.
func BenchmarkReport(b *testing.B) {
	p := testParser(b)
	long := readTestdata(b, "report-long.json")
	short := readTestdata(b, "report-short.json")
	at := time.Now()
	for _, tc := range []struct {
		name    string
		payload []byte
		format  Format
	}{{"json", long, FormatJSON}, {"short-json", short, FormatJSON}, {"cbor", toCBOR(b, short), FormatCBOR}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.payload)))
			dst := make([]schema.DeviceMetric, 0, 32)
			for b.Loop() {
				r, err := p.Parse(tc.payload, tc.format)
				if err != nil {
					b.Fatal(err)
				}
				dst = r.AppendMetrics(dst[:0], "", "cam-1", at)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
		})
	}
}

// countSink counts metrics and drops them.
type countSink struct{ n atomic.Int64 }

func (s *countSink) WriteMetrics(_ context.Context, batch []schema.DeviceMetric) error {
	s.n.Add(int64(len(batch)))
	return nil
}

func (s *countSink) Close() error { return nil }

// BenchmarkEmbeddedBroker is a report's whole way through the embedded
// broker: an MQTT client publishes short-JSON reports at QoS 1 for 1000
// things and waits for every ACCEPTED reply, the sink counting metrics.
func BenchmarkEmbeddedBroker(b *testing.B) {
	cfg := DefaultConfig()
	cfg.MQTT.Listen = "127.0.0.1:0"
	cfg.MinReportInterval = 0
	cfg.FlushInterval = 5 * time.Millisecond
	sink := &countSink{}
	c, err := New(cfg, sink, nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go c.Run(ctx)
	addr, _, err := c.Addrs(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var replies atomic.Int64
	got := make(chan struct{}, 1)
	opts := paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("bench").SetOrderMatters(false)
	client := paho.NewClient(opts)
	if t := client.Connect(); t.Wait() && t.Error() != nil {
		b.Fatal(t.Error())
	}
	defer client.Disconnect(0)
	if t := client.Subscribe("$aws/things/+/defender/metrics/json/accepted", 1, func(paho.Client, paho.Message) {
		replies.Add(1)
		select {
		case got <- struct{}{}:
		default:
		}
	}); t.Wait() && t.Error() != nil {
		b.Fatal(t.Error())
	}
	body := string(readTestdata(b, "report-short.json"))
	var id int64 = 1
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		thing := fmt.Sprintf("bench-%d", i%1000)
		if i%1000 == 0 {
			id++
		}
		payload := strings.Replace(body, "1700000300", fmt.Sprint(id), 1)
		client.Publish("$aws/things/"+thing+"/defender/metrics/json", 1, false, payload)
		// A window of reports in flight, as a fleet publishes.
		for int64(i+1)-replies.Load() > 512 {
			<-got
		}
	}
	for replies.Load() < int64(b.N) {
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			b.Fatalf("%d of %d replies", replies.Load(), b.N)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
