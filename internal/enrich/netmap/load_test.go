package netmap

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// rejection is what a test expects of one *EntryError.
type rejection struct {
	Line  int
	Field string
}

func rejections(t *testing.T, path string, errs []error) []rejection {
	t.Helper()
	var out []rejection
	for _, err := range errs {
		var ee *EntryError
		if !errors.As(err, &ee) {
			t.Fatalf("rejected entry %v is not an *EntryError", err)
		}
		if ee.Path != path || !strings.HasPrefix(err.Error(), path+":") {
			t.Errorf("error %q does not name the file %s", err, path)
		}
		out = append(out, rejection{ee.Line, ee.Field})
	}
	return out
}

var wantGood = []Range{
	rng("10.20.0.0/16", "datastore", "prod", "datastore"),
	rng("2001:db8::/32", ""),
	rng("192.0.2.7/32", "dmz", "web"),
}

func TestLoadFile(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		rejected            []rejection
	}{
		{"yaml", "r.yaml", `# ranges
- cidr: 10.20.0.0/16
  tags: [prod, datastore]
  segment: datastore
- cidr: 10.1.2.3/8
  segment: x
- {cidr: "2001:db8::/32", tags: ~}
- cidr: 192.0.2.7
  tags:
    - web
  segment: dmz
- just a string
- cidr: 10.9.0.0/16
  colour: blue
- cidr: 10.8.0.0/16
  tags: [has space]
- tags: [orphan]
- cidr: 10.7.0.0/16
  segment: [a, b]
`, []rejection{{5, "cidr"}, {12, ""}, {14, "colour"}, {16, "tags"}, {17, "cidr"}, {19, "segment"}}},
		{"yml", "r.YML", `
- cidr: 10.20.0.0/16
  tags: [prod, datastore]
  segment: datastore
- cidr: 2001:db8::/32
- cidr: 192.0.2.7/32
  tags: [web]
  segment: dmz
`, nil},
		{"json", "r.json", `[
  {"cidr": "10.20.0.0/16", "tags": ["prod", "datastore"], "segment": "datastore"},
  {"cidr": "not-a-prefix"},
  {"cidr": "2001:db8::/32"},
  {"cidr": "10.9.0.0/16", "segment": 7},
  {"cidr": "192.0.2.7", "tags": ["web"], "segment": "dmz"},
  {"cidr": "10.8.0.0/16", "owner": "me"},
  "string",
  {"cidr": "::ffff:10.0.0.0/104"},
  {"cidr": "10.6.0.0/16", "segment": "a;b"}
]`, []rejection{{3, "cidr"}, {5, "segment"}, {7, ""}, {8, ""}, {9, "cidr"}, {10, "segment"}}},
		{"csv", "r.csv", "\uFEFFcidr, tags ,segment\n" +
			"# comment\n" +
			"10.20.0.0/16,prod;datastore,datastore\n" +
			"10.1.2.3/8,,x\n" +
			"2001:db8::/32\n" +
			"192.0.2.7/32,\"web\",dmz\n" +
			"10.9.0.0/16,a,b,c\n" +
			"10.8.0.0/16,\"bad\"quote,x\n" +
			",tags-only,x\n",
			[]rejection{{4, "cidr"}, {7, ""}, {8, ""}, {9, "cidr"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			ranges, rejected, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(wantGood, ranges, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.rejected, rejections(t, path, rejected)); diff != "" {
				t.Errorf("rejected (-want +got):\n%s\n%v", diff, errors.Join(rejected...))
			}
		})
	}
}

func TestLoadFileCSVTagSeparators(t *testing.T) {
	path := writeFile(t, "r.csv", "cidr,tags\n10.0.0.0/8,a b;c ;d\n")
	ranges, _, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 1 || !cmp.Equal(ranges[0].Tags, []string{"a", "b", "c", "d"}) {
		t.Errorf("got %+v", ranges)
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"unknown extension", "r.txt", "10.0.0.0/8", "unknown range file format"},
		{"yaml syntax", "r.yaml", "- cidr: [\n", "r.yaml"},
		{"yaml not a list", "r.yaml", "cidr: 10.0.0.0/8\n", "r.yaml:1: want a list"},
		{"json syntax", "r.json", "[\n{\"cidr\": \"10.0.0.0/8\"},\n{\"cidr\" 1}]", "r.json:3:"},
		{"json not a list", "r.json", `{"cidr": "10.0.0.0/8"}`, "want a list"},
		{"json trailing data", "r.json", `[] []`, "data after the list"},
		{"json truncated", "r.json", `[{"cidr": "10.0.0.0/8"}`, "r.json:1:"},
		{"csv unknown column", "r.csv", "cidr,owner\n", `unknown column "owner"`},
		{"csv no cidr column", "r.csv", "segment,tags\nx,y\n", "no cidr column"},
		{"csv duplicate column", "r.csv", "cidr,tags,cidr\n", "given twice"},
		{"every entry rejected", "r.yaml", "- cidr: nope\n- cidr: 10.0.0.1/8\n", "no valid entry (2 rejected), first: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			_, _, err := LoadFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
	if _, _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadFileEmpty(t *testing.T) {
	for _, name := range []string{"r.yaml", "r.json", "r.csv"} {
		ranges, rejected, err := LoadFile(writeFile(t, name, " \n"))
		if len(ranges) != 0 || len(rejected) != 0 || err != nil {
			t.Errorf("%s: got %v %v %v, want nothing", name, ranges, rejected, err)
		}
	}
	if ranges, _, err := LoadFile(writeFile(t, "r.yaml", "# nothing yet\n")); len(ranges) != 0 || err != nil {
		t.Errorf("comment-only yaml: %v %v", ranges, err)
	}
}
