package output

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/testutil"
)

func baselines(t *testing.T) []string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(testutil.SharedTestdata(t), "zeek", "*", "conn.log"))
	if len(logs) < 5 {
		testutil.Missing(t, "Zeek conn.log baselines")
	}
	return logs
}

// TestZeekConnMatchesZeek turns every row of Zeek's own conn.log
// baselines into a Session, writes it back and requires the same header
// lines and byte-identical rows (ts masked, as btest masks it).
func TestZeekConnMatchesZeek(t *testing.T) {
	var rowsChecked int
	for _, path := range baselines(t) {
		t.Run(filepath.Base(filepath.Dir(path)), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := ParseZeekConn(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var sessions []schema.Session
			for _, r := range rows {
				s, err := r.Session()
				if err != nil {
					t.Fatal(err)
				}
				sessions = append(sessions, s)
			}
			var b bytes.Buffer
			w := NewZeekConn(&b, ZeekOptions{VLAN: strings.Contains(string(raw), "\tinner_vlan")})
			if err := w.WriteSessions(context.Background(), sessions); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(comparable(string(raw)), comparable(b.String())); diff != "" {
				t.Errorf("(-zeek +osprey):\n%s", diff)
			}
			rowsChecked += len(rows)
		})
	}
	if rowsChecked < 50 {
		t.Errorf("only %d rows compared", rowsChecked)
	}
}

// comparable keeps the header lines that do not carry a time and the
// rows with the ts column masked.
func comparable(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		switch {
		case l == "", strings.HasPrefix(l, "###"), strings.HasPrefix(l, "#open"), strings.HasPrefix(l, "#close"):
		case strings.HasPrefix(l, "#"):
			out = append(out, l)
		default:
			_, rest, _ := strings.Cut(l, "\t")
			out = append(out, zeekMaskedTime+"\t"+rest)
		}
	}
	return out
}

func fixedNow() time.Time { return time.Date(2026, 3, 1, 12, 30, 45, 0, time.UTC) }

func TestZeekConnGolden(t *testing.T) {
	var b bytes.Buffer
	w := NewZeekConn(&b, ZeekOptions{Now: fixedNow, VLAN: true, Interim: true})
	if err := w.WriteSessions(context.Background(), samples()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, "conn.log", b.Bytes())
}

func TestZeekConnRows(t *testing.T) {
	base := samples()[1]
	for _, tc := range []struct {
		name string
		opts ZeekOptions
		edit func(*schema.Session)
		want string // the row, ts included
	}{
		{"final tcp", ZeekOptions{}, func(*schema.Session) {},
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\tssl\t1.500000\t800\t12000\tSF\tT\tF\t0\tShADadFf\t10\t1320\t12\t12640\tCAAAAAAAAAAB\t6"},
		{"interim skipped", ZeekOptions{}, func(s *schema.Session) { s.Final = false }, ""},
		{"interim kept", ZeekOptions{Interim: true}, func(s *schema.Session) { s.Final = false; s.TunnelParents = nil },
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\tssl\t1.500000\t800\t12000\tSF\tT\tF\t0\tShADadFf\t10\t1320\t12\t12640\t-\t6"},
		{"zero duration unsets duration and sizes", ZeekOptions{}, func(s *schema.Session) { s.End = s.Start; s.App, s.History = "", "" },
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\t-\t-\t-\t-\tSF\tT\tF\t0\t-\t10\t1320\t12\t12640\tCAAAAAAAAAAB\t6"},
		{"custom local nets", ZeekOptions{LocalNets: []netip.Prefix{netip.MustParsePrefix("52.94.0.0/16")}}, func(*schema.Session) {},
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\tssl\t1.500000\t800\t12000\tSF\tF\tT\t0\tShADadFf\t10\t1320\t12\t12640\tCAAAAAAAAAAB\t6"},
		{"vlan columns", ZeekOptions{VLAN: true}, func(s *schema.Session) { s.VLANs = []uint16{13, 10} },
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\tssl\t1.500000\t800\t12000\tSF\tT\tF\t0\tShADadFf\t10\t1320\t12\t12640\tCAAAAAAAAAAB\t6\t13\t10"},
		{"vlan unset", ZeekOptions{VLAN: true}, func(s *schema.Session) { s.VLANs = nil },
			"1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\tssl\t1.500000\t800\t12000\tSF\tT\tF\t0\tShADadFf\t10\t1320\t12\t12640\tCAAAAAAAAAAB\t6\t-\t-"},
		{"escapes", ZeekOptions{}, func(s *schema.Session) {
			s.App, s.History, s.TunnelParents = "a\tb\\c", "-", []string{"C1", "x,y", ""}
		}, "1772366400.123457\tC1a2b3c4d5e6\t10.0.0.1\t40000\t52.94.1.20\t443\ttcp\ta\\x09b\\x5cc\t1.500000\t800\t12000\tSF\tT\tF\t0\t\\x2d\t10\t1320\t12\t12640\tC1,x\\x2cy,(empty)\t6"},
		{"ipv6 icmp, unknown transport name", ZeekOptions{}, func(s *schema.Session) {
			s.Orig.IP, s.Resp.IP = netip.MustParseAddr("fe80::217:f2ff:fed7:cf65"), netip.MustParseAddr("ff02::1:3")
			s.Orig.Port, s.Resp.Port, s.Proto, s.Transport, s.TunnelParents = 135, 0, 58, "", nil
		}, "1772366400.123457\tC1a2b3c4d5e6\tfe80::217:f2ff:fed7:cf65\t135\tff02::1:3\t0\tunknown_transport\tssl\t1.500000\t800\t12000\tSF\tT\tF\t0\tShADadFf\t10\t1320\t12\t12640\t-\t58"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := base
			s.TunnelParents = append([]string(nil), base.TunnelParents...)
			tc.edit(&s)
			var b bytes.Buffer
			w := NewZeekConn(&b, tc.opts)
			if err := w.WriteSessions(context.Background(), []schema.Session{s}); err != nil {
				t.Fatal(err)
			}
			_ = w.Close()
			var got string
			for l := range strings.SplitSeq(b.String(), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") {
					got = l
				}
			}
			if got != tc.want {
				t.Errorf("row\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestZeekConnRoundTrip: what the writer writes, the parser reads back
// into the same sessions (as far as conn.log carries them).
func TestZeekConnRoundTrip(t *testing.T) {
	in := samples()
	var b bytes.Buffer
	w := NewZeekConn(&b, ZeekOptions{VLAN: true, Interim: true})
	if err := w.WriteSessions(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	rows, err := ParseZeekConn(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(in) {
		t.Fatalf("%d rows for %d sessions", len(rows), len(in))
	}
	for i, r := range rows {
		got, err := r.Session()
		if err != nil {
			t.Fatal(err)
		}
		want := in[i]
		// conn.log carries neither of these; times are µs.
		want.Seq, want.EndReason, want.Tenant, want.Sensor, want.Source, want.Mirror = 0, "", "", "", "zeek", nil
		want.Orig.MAC, want.Resp.MAC, want.CommunityID, want.Final = "", "", "", true
		want.Start, want.End = want.Start.Round(time.Microsecond).UTC(), want.End.Round(time.Microsecond).UTC()
		if want.End.Equal(want.Start) {
			want.OrigBytes, want.RespBytes = 0, 0
		}
		if want.Direction == "" {
			want.Direction = map[string]string{"CicmpV6": "outbound", "Cgre": "internal"}[want.UID]
		}
		if diff := cmp.Diff(want, got, cmpAddr); diff != "" {
			t.Errorf("session %d (-want +got):\n%s", i, diff)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestZeekConnWriteErrors(t *testing.T) {
	w := NewZeekConn(failWriter{}, ZeekOptions{})
	// 256 KiB of buffer: enough rows to fill it reach the writer.
	batch := make([]schema.Session, 3000)
	for i := range batch {
		batch[i] = samples()[1]
	}
	err := w.WriteSessions(context.Background(), batch)
	if err == nil {
		err = w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v, want the writer's", err)
	}
}

func BenchmarkZeekConn(b *testing.B) {
	batch := samples()
	w := NewZeekConn(discard{}, ZeekOptions{Interim: true})
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteSessions(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/session")
}

func TestZeekConnNoAllocs(t *testing.T) {
	batch := samples()
	w := NewZeekConn(discard{}, ZeekOptions{Interim: true})
	_ = w.WriteSessions(context.Background(), batch) // header, buffer growth
	if n := testing.AllocsPerRun(100, func() { _ = w.WriteSessions(context.Background(), batch) }); n != 0 {
		t.Errorf("%v allocations per batch, want 0", n)
	}
}
