package intel

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadPlainAndCSV(t *testing.T) {
	tests := []struct {
		name     string
		cfg      FeedConfig
		file     string
		content  string
		want     []string
		rejected []string
	}{
		{
			name: "plain with comments",
			file: "list.txt",
			content: "\xef\xbb\xbf# header comment\n\n203.0.113.7\n198.51.100.0/24   # trailing comment\r\n" +
				"2001:db8:bad::/48\n2001:db8::1\nEvil.Example.\n203.0.113.7\n  \t\n",
			want: []string{"198.51.100.0/24", "2001:db8::1", "2001:db8:bad::/48", "203.0.113.7", "Evil.Example."},
		},
		{
			name:    "plain bad lines set aside",
			file:    "list.txt",
			content: "203.0.113.7\n1.2.3.999\nevil.example extra\n10.0.0.0/40\n",
			want:    []string{"203.0.113.7"},
			rejected: []string{
				`list.txt:2: indicator "1.2.3.999": not an IP address, CIDR or domain name`,
				`list.txt:3: indicator "evil.example extra": more than one word (one indicator a line)`,
				`list.txt:4: indicator "10.0.0.0/40": not an IP address, CIDR or domain name`,
			},
		},
		{
			name:    "csv header, column found",
			file:    "feed.csv",
			content: "first_seen,indicator,confidence\n2025-06-01,203.0.113.7,90\n2025-06-02,evil.example,70\n",
			want:    []string{"203.0.113.7", "evil.example"},
		},
		{
			name:    "csv no header, column found",
			file:    "feed.csv",
			content: "2025-06-01,203.0.113.7,90\n2025-06-02,bad-value,70\n",
			want:    []string{"203.0.113.7"},
			rejected: []string{
				`feed.csv:2: column 2 "bad-value": not an IP address, CIDR or domain name`,
			},
		},
		{
			name:    "csv column by name",
			cfg:     FeedConfig{Column: "DST"},
			file:    "feed.csv",
			content: "src,dst\n192.0.2.1,203.0.113.7\n192.0.2.2,\"2001:db8::/32\"\n192.0.2.3,oops\n# comment\n192.0.2.4\n",
			want:    []string{"2001:db8::/32", "203.0.113.7"},
			rejected: []string{
				`feed.csv:4: column 2 (dst) "oops": not an IP address, CIDR or domain name`,
				`feed.csv:6: column 2 (dst): missing (the record has 1 columns)`,
			},
		},
		{
			name:    "csv column by index, header recognised",
			cfg:     FeedConfig{Column: "3"},
			file:    "feed.csv",
			content: "a,b,host\n192.0.2.1,x,evil.example\n192.0.2.2,y,sub.evil.example\n",
			want:    []string{"evil.example", "sub.evil.example"},
		},
		{
			name:    "csv by content",
			file:    "feed.txt",
			content: "# exported\n203.0.113.7,malware\n",
			want:    []string{"203.0.113.7"},
		},
		{
			name:    "csv broken quote set aside",
			file:    "feed.csv",
			content: "203.0.113.7,a\n203.0.113.8,\"b\n",
			want:    []string{"203.0.113.7"},
			rejected: []string{
				`feed.csv:2: record: extraneous or missing " in quoted-field`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustLoad(t, tt.cfg, tt.file, tt.content)
			if diff := cmp.Diff(tt.want, kept(f)); diff != "" {
				t.Errorf("indicators (-want +got):\n%s", diff)
			}
			if f.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", f.Len(), len(tt.want))
			}
			n, errs := f.Rejected()
			if diff := cmp.Diff(tt.rejected, errorStrings(errs)); diff != "" || n != len(tt.rejected) {
				t.Errorf("Rejected() = %d (-want +got):\n%s", n, diff)
			}
		})
	}
}

func TestLoadFeedErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     FeedConfig
		file    string
		content string
		want    string
	}{
		{name: "nothing valid", file: "list.txt", content: "not-an-indicator\n1.2.3.999\n",
			want: `no valid indicator, 2 rejected`},
		{name: "named column missing", cfg: FeedConfig{Column: "ip"}, file: "f.csv", content: "a,b\n1.2.3.4,x\n",
			want: `line 1: no column named "ip" in the header`},
		{name: "column index zero", cfg: FeedConfig{Column: "0"}, file: "f.csv", content: "1.2.3.4\n",
			want: `column "0": an index counts from 1`},
		{name: "unknown format", cfg: FeedConfig{Format: "xml"}, file: "f.xml", content: "<x/>",
			want: `unknown format "xml"`},
		{name: "not json", file: "b.json", content: "[ipv4-addr:value = '1.2.3.4']",
			want: `not a STIX bundle`},
		{name: "truncated bundle", file: "b.json", content: `{"type":"bundle","objects":[{"type":"indicator"`,
			want: `unexpected EOF`},
		{name: "not a bundle", file: "b.json", content: `{"type":"indicator","objects":[]}`,
			want: `type is "indicator", want "bundle"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := load(t, tt.cfg, tt.file, tt.content)
			if err == nil {
				t.Fatalf("loaded %d indicators, want an error containing %q", f.Len(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.file) ||
				!strings.Contains(err.Error(), `intel feed "test"`) {
				t.Errorf("error %q: want the feed, the file %s and %q", err, tt.file, tt.want)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		_, err := LoadFeed(FeedConfig{Name: "gone", Path: "/nonexistent/feed.txt"})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("empty file is an empty feed", func(t *testing.T) {
		f := mustLoad(t, FeedConfig{}, "list.txt", "# nothing listed today\n")
		if f.Len() != 0 || f.Name() != "test" {
			t.Errorf("Len() = %d, Name() = %q", f.Len(), f.Name())
		}
	})
}

func TestRejectedKeepsFirstErrors(t *testing.T) {
	var b strings.Builder
	b.WriteString("203.0.113.7\n")
	for range 25 {
		b.WriteString("bad\n")
	}
	f := mustLoad(t, FeedConfig{}, "list.txt", b.String())
	n, errs := f.Rejected()
	if n != 25 || len(errs) != keptErrors {
		t.Fatalf("Rejected() = %d, %d errors; want 25, %d", n, len(errs), keptErrors)
	}
	if errs[0].Error() != `list.txt:2: indicator "bad": not an IP address, CIDR or domain name` {
		t.Errorf("first error %q", errs[0])
	}
}

func TestFormatOf(t *testing.T) {
	tests := []struct {
		cfg     FeedConfig
		content string
		want    string
	}{
		{FeedConfig{Path: "a.CSV"}, "1.2.3.4", "csv"},
		{FeedConfig{Path: "a.json"}, "1.2.3.4", "stix"},
		{FeedConfig{Path: "a.txt", Format: "plain"}, "{", "plain"},
		{FeedConfig{Path: "a"}, "\n  {\"type\":\"bundle\"}", "stix"},
		{FeedConfig{Path: "a"}, "# a, b\n\n1.2.3.4,x\n", "csv"},
		{FeedConfig{Path: "a"}, "# a, b\n1.2.3.4\nx,y\n", "plain"},
		{FeedConfig{Path: "a"}, "", "plain"},
	}
	for _, tt := range tests {
		if got := formatOf(tt.cfg, []byte(tt.content)); got != tt.want {
			t.Errorf("formatOf(%+v, %q) = %q, want %q", tt.cfg, tt.content, got, tt.want)
		}
	}
}
