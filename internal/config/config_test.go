package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"gopkg.in/yaml.v3"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "osprey.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	p := write(t, `
sensor: {name: s1, tenant: acme}
meter:
  idle_tcp: 2m
  local_nets: [10.0.0.0/8, "fd00::/8"]
capture:
  udp:
    receive_buffer: 8MiB
`)
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Sensor = Sensor{Name: "s1", Tenant: "acme"}
	want.Meter.IdleTCP = 2 * time.Minute
	want.Meter.LocalNets = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	want.Capture.UDP.ReceiveBuffer = 8 << 20
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadEmptyIsDefault(t *testing.T) {
	got, err := Load(write(t, "# nothing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Meter.MaxFlows != DefaultConfig().Meter.MaxFlows {
		t.Errorf("empty file did not yield defaults: %+v", got.Meter)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"unknown key", "meter:\n  idle_tpc: 1m\n", "osprey.yaml:2: meter.idle_tpc: unknown key"},
		{"bad duration", "meter:\n  idle_tcp: soon\n", "osprey.yaml:2: meter.idle_tcp:"},
		{"bad prefix", "meter:\n  local_nets: [10.0.0.0/33]\n", "osprey.yaml:2: meter.local_nets:"},
		{"bad size", "capture:\n  udp:\n    receive_buffer: lots\n", "osprey.yaml:3: capture.udp.receive_buffer: invalid size"},
		{"not a mapping", "meter: 3\n", "osprey.yaml:1: meter: expected a mapping"},
		{"validation", "meter:\n  idle_udp: 0s\n", "meter.idle_udp: must be a positive duration"},
		{"bad port", "decode:\n  vxlan_ports: [0]\n", "decode.vxlan_ports[0]: port 0"},
		{"bad level", "log: {level: loud}\n", "log.level: must be"},
		{"memory limit", "store: {duckdb: {memory_limit: lots}}\n", "store.duckdb.memory_limit: must be a size"},
		{"inline unknown", "collect:\n  netflow:\n    ipfx: [':4739']\n", "osprey.yaml:3: collect.netflow.ipfx: unknown key"},
		{"inline key", "collect:\n  netflow: {ipfix: [nowhere]}\n", "collect.netflow.ipfix[0]:"},
		{"flow logs", "collect:\n  flow_logs: {paths: [logs], poll: 0s}\n", "collect.flow_logs.poll: must be"},
		{"defender", "collect:\n  defender: {enabled: true, mqtt: {mode: carrier-pigeon}}\n", "collect.defender.mqtt.mode:"},
		{"cors origin", "api:\n  cors_origins: ['*', 'https://grafana.example.com', 'https://grafana.example.com/']\n", "api.cors_origins[2]: \"https://grafana.example.com/\" is not an origin"},
		{"cors default port", "api: {cors_origins: ['http://x.test:80']}\n", "api.cors_origins[0]:"},
		{"list entry", "enrich:\n  intel:\n    - name: bad\n      pth: bad.txt\n", "osprey.yaml:4: enrich.intel[0].pth: unknown key (known: column, format, name, path)"},
		{"list entry value", "collect:\n  flow_logs:\n    s3:\n      - {bucket: b}\n      - {bucket: c, path_style: maybe}\n", "osprey.yaml:5: collect.flow_logs.s3[1].path_style:"},
		{"list entry not a mapping", "collect:\n  defender:\n    mqtt: {users: [alice]}\n", "osprey.yaml:3: collect.defender.mqtt.users[0]: expected a mapping"},
		{"map entry", "detect:\n  profiles:\n    targets:\n      cameras: {tag: [iot]}\n", "osprey.yaml:4: detect.profiles.targets.cameras.tag: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]Bytes{"123": 123, "4KiB": 4096, "2MB": 2e6, "1GiB": 1 << 30, "7 B": 7} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseBytes("-1"); err == nil {
		t.Error("negative size accepted")
	}
}

// The documented example must stay loadable and equal to the defaults it
// claims to list.
func TestExampleFileIsTheDefaults(t *testing.T) {
	got, err := Load("../../docs/osprey.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	// The file writes empty lists as [] where the defaults hold nil.
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("docs/osprey.example.yaml differs from DefaultConfig (-default +file):\n%s", diff)
	}
}

// Every key of the defaults is in the example, so that it documents the
// whole configuration (a key missing from the file would pass the test
// above: loading starts from the defaults).
func TestExampleFileListsEveryKey(t *testing.T) {
	want := map[string]bool{}
	yamlKeys(reflect.TypeOf(Config{}), "", want)
	data, err := os.ReadFile("../../docs/osprey.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	nodeKeys(doc.Content[0], "", have)
	for k := range want {
		if !have[k] {
			t.Errorf("docs/osprey.example.yaml lacks %s", k)
		}
	}
}

// yamlKeys lists the key paths of a config struct, inline structs
// flattened; maps and non-struct values end a path, and optional
// sections (pointers, absent by default) are left out.
func yamlKeys(t reflect.Type, prefix string, out map[string]bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			continue
		}
		if opts == "inline" {
			yamlKeys(ft, prefix, out)
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		out[prefix+tag] = true
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Time{}) && !reflect.PointerTo(ft).Implements(reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()) {
			yamlKeys(ft, prefix+tag+".", out)
		}
	}
}

func nodeKeys(n *yaml.Node, prefix string, out map[string]bool) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := prefix + n.Content[i].Value
		out[k] = true
		nodeKeys(n.Content[i+1], k+".", out)
	}
}

// TestWalkReadsAsYAMLDoes: on valid input the strict walk gives what
// yaml.v3 gives, lists, maps and pointers of sections included.
func TestWalkReadsAsYAMLDoes(t *testing.T) {
	body := `
enrich:
  intel:
    - {name: feodo, path: feodo.txt}
    - {name: stix, path: bundle.json, format: stix}
collect:
  flow_logs:
    s3: [{bucket: logs, prefix: AWSLogs/, path_style: true}]
  defender:
    mqtt: {users: [{username: gw, password: x, things: [cam-1]}]}
detect:
  profiles:
    targets:
      cameras: {tags: [iot], segments: [ot]}
      ~: {assets: [plc-1]} # dropped, as yaml.v3 drops it
outputs:
  - {name: a, type: webhook, webhook: {url: 'http://x', basic_auth: {username: u, password: p}}}
meter:
  local_nets: ~
`
	got, want := DefaultConfig(), DefaultConfig()
	if err := decodeStrict("osprey.yaml", []byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(body), &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Enrich.Intel) != 2 || len(got.Detect.Profiles.Targets) != 1 || got.Outputs[0].Webhook.BasicAuth == nil {
		t.Fatalf("entries missing: %+v", got)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("strict walk (-yaml.v3 +walk):\n%s", diff)
	}
}
