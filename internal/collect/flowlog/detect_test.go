package flowlog

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name, head string
		want       Format
	}{
		{"VPC header", defaultHeader + "\n" + acceptLine, FormatVPC},
		{"VPC record", acceptLine, FormatVPC},
		{"VPC custom, no header", "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5", FormatVPC},
		{"Parquet", "PAR1\x15\x04", FormatVPCParquet},
		{"Azure NSG", nsgV2, FormatAzure},
		{"Azure VNet", vnetV4, FormatAzure},
		{"GCP lines", gcpSrc + "\n", FormatGCP},
		{"GCP array", "[" + gcpSrc + "]", FormatGCP},
		{"gzip", string(gzipped(t, acceptLine+"\n")), FormatVPC},
		{"empty", "", ""},
		{"other JSON", `{"hello":"world"}`, ""},
		{"prose", "hello world", ""},
		{"binary", "\x00\x01\x02 \x03", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Detect([]byte(c.head))
			if got != c.want || (c.want == "") != errors.Is(err, ErrUnknownFormat) {
				t.Errorf("Detect = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// An explicit format skips detection; an input of no known format is an
// error for the whole input.
func TestFormatOption(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Format = FormatGCP
	got, rej, _ := readString(t, cfg, "[]")
	if len(got) != 0 || len(rej) != 0 {
		t.Errorf("%d sessions, %d rejects from an empty array", len(got), len(rej))
	}
	r, err := New(DefaultConfig(), &memSink{}, &memRejects{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(context.Background(), "x", strings.NewReader("hello world\n")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("prose: %v", err)
	}
	if st, err := r.Read(context.Background(), "empty", strings.NewReader("")); err != nil || st != (Stats{}) {
		t.Errorf("empty input: %+v, %v", st, err)
	}
	for _, bad := range []Config{{Format: "csv", Batch: 1}, {Batch: 0}, {Batch: 1, Fields: []string{"srcaddr", "srcaddr"}}} {
		if _, err := New(bad, &memSink{}, &memRejects{}); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}
