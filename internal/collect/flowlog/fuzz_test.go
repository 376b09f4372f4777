package flowlog

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

// fuzzRead reads data as format and holds the result to the rules every
// input must keep: no panic, each unit of input exactly one of a record,
// a reject or skipped (so none is both rejected and accepted), and every
// session writable as JSON with its window in order. The seed corpora are
// in testdata/fuzz.
func fuzzRead(t *testing.T, format Format, data []byte) {
	cfg := DefaultConfig()
	cfg.Format, cfg.Batch = format, 7
	sink, rej := &memSink{}, &memRejects{}
	r, err := New(cfg, sink, rej)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := r.Read(context.Background(), "fuzz", bytes.NewReader(data))
	checkStats(t, st, sink, rej)
	for i := range sink.got {
		s := &sink.got[i]
		if s.End.Before(s.Start) {
			t.Errorf("session %d ends before it starts: %v %v", i, s.Start, s.End)
		}
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("session %d: %v", i, err)
		}
	}
	for _, b := range rej.got {
		if b.Kind == "" || b.Err == nil || len(b.Raw) > 4096 {
			t.Errorf("reject %+v", b)
		}
	}
}

func FuzzVPCText(f *testing.F) {
	f.Add([]byte(defaultHeader + "\n" + acceptLine + "\n"))
	f.Add([]byte(allFieldsHeader + "\n" + allFieldsRecord + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatVPC, data) })
}

func FuzzAzure(f *testing.F) {
	f.Add([]byte(nsgV2))
	f.Add([]byte(vnetV4))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatAzure, data) })
}

func FuzzGCP(f *testing.F) {
	f.Add([]byte(gcpSrc + "\n" + gcpDest + "\n"))
	f.Add([]byte("[" + gcpSrc + "]"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, FormatGCP, data) })
}
