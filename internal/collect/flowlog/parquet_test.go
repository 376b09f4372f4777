package flowlog

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
)

// vpcParquet has the columns and types AWS documents for Parquet
// delivery ("Parquet data type" in the available-fields table): INT_32
// for version, ports, protocol, tcp-flags and traffic-path, INT_64 for
// counts and times, STRING for the rest; nil is a field AWS left empty.
type vpcParquet struct {
	Version     int32   `parquet:"version"`
	AccountID   *string `parquet:"account_id,optional"`
	InterfaceID *string `parquet:"interface_id,optional"`
	Srcaddr     *string `parquet:"srcaddr,optional"`
	Dstaddr     *string `parquet:"dstaddr,optional"`
	Srcport     *int32  `parquet:"srcport,optional"`
	Dstport     *int32  `parquet:"dstport,optional"`
	Protocol    *int32  `parquet:"protocol,optional"`
	Packets     *int64  `parquet:"packets,optional"`
	Bytes       *int64  `parquet:"bytes,optional"`
	Start       int64   `parquet:"start"`
	End         int64   `parquet:"end"`
	Action      *string `parquet:"action,optional"`
	LogStatus   string  `parquet:"log_status"`
	TCPFlags    *int32  `parquet:"tcp_flags,optional"`
	FlowDir     *string `parquet:"flow_direction,optional"`
	TrafficPath *int32  `parquet:"traffic_path,optional"`
	ECSTaskID   *string `parquet:"ecs_task_id,optional"`
}

func ptr[T any](v T) *T { return &v }

func writeParquet(t *testing.T, rows []vpcParquet) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[vpcParquet](&buf)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The same records as text and as Parquet give the same sessions, ids
// included; a bad row is rejected by row number.
func TestVPCParquet(t *testing.T) {
	data := writeParquet(t, []vpcParquet{{
		Version: 7, AccountID: ptr("123456789010"), InterfaceID: ptr("eni-1235b8ca123456789"),
		Srcaddr: ptr("10.0.0.71"), Dstaddr: ptr("52.95.128.179"), Srcport: ptr[int32](34210), Dstport: ptr[int32](80),
		Protocol: ptr[int32](6), Packets: ptr[int64](7), Bytes: ptr[int64](471), Start: 1616729292, End: 1616729349,
		Action: ptr("ACCEPT"), LogStatus: "OK", TCPFlags: ptr[int32](3), FlowDir: ptr("egress"), TrafficPath: ptr[int32](8),
		ECSTaskID: ptr("t1"),
	}, {
		Version: 7, AccountID: ptr("123456789010"), InterfaceID: ptr("eni-1235b8ca123456789"),
		Start: 1431280876, End: 1431280934, LogStatus: "NODATA",
	}, {
		Version: 7, AccountID: ptr("123456789010"), InterfaceID: ptr("eni-1235b8ca123456789"),
		Srcaddr: ptr("10.0.0.71"), Dstaddr: ptr("52.95.128.179"), Srcport: ptr[int32](-1), Dstport: ptr[int32](80),
		Protocol: ptr[int32](6), Start: 1616729292, End: 1616729349, LogStatus: "OK",
	}})
	text := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags flow-direction traffic-path ecs-task-id\n" +
		"7 123456789010 eni-1235b8ca123456789 10.0.0.71 52.95.128.179 34210 80 6 7 471 1616729292 1616729349 ACCEPT OK 3 egress 8 t1\n" +
		"7 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA - - - -\n"
	want, _, _ := readString(t, DefaultConfig(), text)

	path := filepath.Join(t.TempDir(), "flows.parquet")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"file", "stream"} {
		t.Run(from, func(t *testing.T) {
			sink, rej := &memSink{}, &memRejects{}
			r, err := New(DefaultConfig(), sink, rej)
			if err != nil {
				t.Fatal(err)
			}
			var st Stats
			if from == "file" {
				st, err = r.ReadFile(context.Background(), path)
			} else {
				st, err = r.Read(context.Background(), "flows.parquet", bytes.NewReader(data))
			}
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, st, sink, rej)
			if diff := cmp.Diff(want, sink.got, ignoreDerived[1]); diff != "" {
				t.Errorf("sessions (-text +parquet):\n%s", diff)
			}
			if st.NoData != 1 || len(rej.got) != 1 || rej.got[0].Line != 3 || rej.got[0].Field != "srcport" || rej.got[0].Offset != -1 {
				t.Errorf("stats %+v, rejects %v", st, rej.got)
			}
		})
	}
}

// A file that says PAR1 but is not Parquet is an error for the file, not
// a crash.
func TestVPCParquetCorrupt(t *testing.T) {
	data := writeParquet(t, []vpcParquet{{Version: 2, LogStatus: "OK"}})
	r, err := New(DefaultConfig(), &memSink{}, &memRejects{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{data[:len(data)/2], append([]byte("PAR1"), bytes.Repeat([]byte{0xff}, 64)...)} {
		if _, err := r.Read(context.Background(), "bad.parquet", bytes.NewReader(bad)); err == nil {
			t.Errorf("%d bytes of broken Parquet read without an error", len(bad))
		}
	}
}
