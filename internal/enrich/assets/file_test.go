package assets

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, v := range s {
		out[i] = netip.MustParseAddr(v)
	}
	return out
}

// wantInventory is what testdata/inventory.{yaml,json} hold.
func wantInventory(source string) *Snapshot {
	return &Snapshot{
		Assets: []Asset{
			{ID: "plc-7", Name: "line-3 plc", Account: "plant-a", IPs: addrs("10.20.0.7"), Tags: []string{"ot", "plc"}, Source: source},
			{ID: "i-0abc", Name: "db-1", Region: "eu-west-1", VPC: "vpc-1", Subnet: "subnet-1", Type: "m5.large",
				Tags: []string{"Role=datastore"}, Interfaces: []string{"eni-1"}, Source: source},
		},
		Interfaces: []Interface{{ID: "eni-1", Asset: "i-0abc", MAC: "02:00:00:00:00:01", IPs: addrs("10.0.1.5", "2001:db8::5")}},
		Mirrors:    []MirrorSession{{ID: "tmms-1", VNI: 4242, Interface: "eni-1", Target: "tmt-1"}},
	}
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

func TestLoadFile(t *testing.T) {
	csvWant := &Snapshot{Assets: []Asset{
		{ID: "plc-7", Name: "line-3 plc", Account: "plant-a", IPs: addrs("10.20.0.7"), Tags: []string{"ot", "plc"}, Source: "testdata/inventory.csv"},
		{ID: "i-0abc", Name: "db-1", Region: "eu-west-1", VPC: "vpc-1", Subnet: "subnet-1", Type: "m5.large",
			IPs: addrs("10.0.1.5", "2001:db8::5"), Tags: []string{"Role=datastore"}, Source: "testdata/inventory.csv"},
	}}
	for _, tc := range []struct {
		path string
		want *Snapshot
	}{
		{"testdata/inventory.yaml", wantInventory("testdata/inventory.yaml")},
		{"testdata/inventory.json", wantInventory("testdata/inventory.json")},
		{"testdata/inventory.csv", csvWant},
	} {
		t.Run(filepath.Ext(tc.path), func(t *testing.T) {
			got, rejected, err := LoadFile(tc.path)
			if err != nil || len(rejected) > 0 {
				t.Fatalf("LoadFile: %v, rejected %v", err, rejected)
			}
			if diff := cmp.Diff(tc.want, got, cmpAddr); diff != "" {
				t.Errorf("snapshot (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileTopLevelList(t *testing.T) {
	path := writeFile(t, "list.yml", "- {id: plc-7, ips: 10.20.0.7}\n- {id: hmi-1, ips: ['::ffff:10.20.0.8']}\n")
	got, rejected, err := LoadFile(path)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("LoadFile: %v, rejected %v", err, rejected)
	}
	want := []Asset{
		{ID: "plc-7", IPs: addrs("10.20.0.7"), Source: path},
		{ID: "hmi-1", IPs: addrs("10.20.0.8"), Source: path}, // stored unmapped
	}
	if diff := cmp.Diff(want, got.Assets, cmpAddr); diff != "" {
		t.Errorf("assets (-want +got):\n%s", diff)
	}
}

// rejection is where an EntryError points.
type rejection struct {
	Line  int
	Field string
}

func TestLoadFileRejects(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		wantIDs             []string // assets that still load
		want                []rejection
	}{
		{
			name: "yaml", file: "inv.yaml",
			content: `assets:
  - {id: a, ips: [10.0.0.1]}
  - {id: b, ips: [10.0.0.2, not-an-ip]}
  - {name: no id}
  - {id: a, ips: [10.0.0.3]}
  - {id: c, ip: 10.0.0.4}
  - just a string
  - id: d
    ips:
      - 10.0.0.5
      - fe80::1%eth0
  - {id: e, tags: {nested: map}}
  - {id: f}
interfaces:
  - {id: eni-1, mac: nonsense}
mirror_sessions:
  - {id: tmms-1, vni: 16777216}
  - {id: tmms-2, vni: 7}
`,
			wantIDs: []string{"a", "f"},
			want: []rejection{
				{3, "assets[1].ips[1]"}, {4, "assets[2].id"}, {5, "assets[3].id"}, {6, "assets[4].ip"},
				{7, "assets[5]"}, {11, "assets[6].ips[1]"}, {12, "assets[7].tags"},
				{15, "interfaces[0].mac"}, {17, "mirror_sessions[0].vni"},
			},
		},
		{
			name: "json", file: "inv.json",
			content: "[\n{\"id\": \"a\"},\n{\"id\": \"b\", \"ips\": [\"10.0.0.1\", 7]},\n{\"id\": \"c\", \"ips\": [\"10.0.0.300\"]}\n]\n",
			wantIDs: []string{"a"},
			want:    []rejection{{3, "assets[1].ips[1]"}, {4, "assets[2].ips[0]"}},
		},
		{
			name: "csv", file: "inv.csv",
			content: "\ufeffID, Name, IPs, Tags\n" +
				"a,alpha,10.0.0.1,x\n" +
				"b,beta,10.0.0.2;bogus,x\n" +
				",no id,10.0.0.3,\n" +
				"c,too,many,fields,here\n" +
				"a,again,10.0.0.4,\n" +
				"d,\"bad\"quote,10.0.0.5,\n" +
				"e,echo,10.0.0.6,y;x\n",
			wantIDs: []string{"a", "e"},
			want:    []rejection{{3, "ips[1]"}, {4, "id"}, {5, "record"}, {6, "id"}, {7, "record"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			snap, rejected, err := LoadFile(path)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			var got []rejection
			for _, err := range rejected {
				var ee *EntryError
				if !errors.As(err, &ee) {
					t.Fatalf("rejection %v is not an *EntryError", err)
				}
				if ee.Source != path || !strings.HasPrefix(err.Error(), path+":") {
					t.Errorf("rejection %q does not name %s", err, path)
				}
				got = append(got, rejection{ee.Line, ee.Field})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rejections (-want +got):\n%s\n%v", diff, rejected)
			}
			var ids []string
			for _, a := range snap.Assets {
				ids = append(ids, a.ID)
			}
			if diff := cmp.Diff(tc.wantIDs, ids); diff != "" {
				t.Errorf("loaded assets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, content, want string
	}{
		{"yaml syntax", "a.yaml", "assets: [\n", "did not find expected"},
		{"json syntax", "a.json", "{\"assets\": [}", "did not find expected"},
		{"scalar top level", "a.yaml", "hello\n", "want a list of assets"},
		{"unknown top-level key", "a.yaml", "asets: []\n", `unknown key "asets"`},
		{"repeated top-level key", "a.yaml", "assets: []\nassets: []\n", `key "assets" twice`},
		{"assets not a list", "a.yaml", "assets: {id: a}\n", "assets: want a list"},
		{"csv no id column", "a.csv", "name,ips\nx,10.0.0.1\n", `no "id" column`},
		{"csv unknown column", "a.csv", "id,adress\nx,10.0.0.1\n", `unknown column "adress"`},
		{"csv repeated column", "a.csv", "id,ips,ips\n", `column "ips" twice`},
		{"extension", "a.txt", "", `unknown extension ".txt"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			_, _, err := LoadFile(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadFile error = %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
	if _, _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error = %v, want os.ErrNotExist", err)
	}
}

func TestLoadFileEmpty(t *testing.T) {
	for _, name := range []string{"empty.yaml", "empty.json", "empty.csv"} {
		snap, rejected, err := LoadFile(writeFile(t, name, ""))
		if err != nil || len(rejected) > 0 || len(snap.Assets) > 0 {
			t.Errorf("%s: got %v, %v, %v; want an empty snapshot", name, snap, rejected, err)
		}
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
