package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       string // the whole error
	}{
		{"empty file", ``, `policy.yaml:1: version: required (1)`},
		{"no version", "rules: []\n", `policy.yaml:1: version: required (1)`},
		{"later version", "version: 2\nrules: [{name: x, bogus: 1}]\n", `policy.yaml:1: version: unsupported version "2" (this Osprey reads 1)`},
		{"syntax", "version: 1\nrules: [\n", `policy.yaml:2: yaml: line 2: did not find expected node content`},
		{"unknown top key", "version: 1\nrulez: []\n", `policy.yaml:2: rulez: unknown key (known: description, name, rules, version)`},
		{"rules not a list", "version: 1\nrules: {a: 1}\n", `policy.yaml:2: rules: expected a list of rules`},
		{"unknown side key", "version: 1\nrules:\n  - name: db-ingress\n    to: {tags: datastore}\n    only_from: {tag: vm}\n",
			`policy.yaml:4: rules[0] "db-ingress": to.tags: unknown key (known: asset, cidr, not, port, segment, tag)`},
		{"empty tag list", "version: 1\nrules:\n  - {name: a, deny: {to: {port: 22}}}\n  - {name: b, deny: {to: {port: 22}}}\n  - {name: c, deny: {to: {port: 22}}}\n  - name: db-ingress\n    to: {tag: datastore}\n    only_from:\n      tag: []\n",
			`policy.yaml:9: rules[3] "db-ingress": only_from.tag: empty list`},
		{"name after the error", "version: 1\nrules:\n  - deny: {to: {port: 99999}}\n    name: bad-port\n",
			`policy.yaml:3: rules[0] "bad-port": deny.to.port: "99999" is not a port (0-65535) or a range low-high`},
		{"port range backwards", "version: 1\nrules:\n  - {name: r, deny: {to: {port: 100-10}}}\n",
			`policy.yaml:3: rules[0] "r": deny.to.port: "100-10" is not a port (0-65535) or a range low-high`},
		{"bad cidr", "version: 1\nrules:\n  - {name: r, deny: {from: {cidr: [10.0.0.0/8, 10.0.0.0/33]}}}\n",
			`policy.yaml:3: rules[0] "r": deny.from.cidr: "10.0.0.0/33" is neither a CIDR prefix nor an address`},
		{"bad proto", "version: 1\nrules:\n  - {name: r, deny: {proto: sctp}}\n",
			`policy.yaml:3: rules[0] "r": deny.proto: "sctp" is not one of tcp, udp, icmp`},
		{"bad direction", "version: 1\nrules:\n  - {name: r, direction: in, deny: {}}\n",
			`policy.yaml:3: rules[0] "r": direction: "in" is not one of inbound, outbound, internal, external`},
		{"bad severity", "version: 1\nrules:\n  - {name: r, severity: urgent, deny: {}}\n",
			`policy.yaml:3: rules[0] "r": severity: "urgent" is not info, low, medium, high or critical`},
		{"bad technique", "version: 1\nrules:\n  - {name: r, technique: 1046, deny: {}}\n",
			`policy.yaml:3: rules[0] "r": technique: "1046" is not an ATT&CK technique id (T1046, T1021.004)`},
		{"no name", "version: 1\nrules:\n  - {deny: {}}\n", `policy.yaml:3: rules[0]: name: required`},
		{"duplicate name", "version: 1\nrules:\n  - {name: r, deny: {}}\n  - {name: r, allow: {}}\n",
			`policy.yaml:4: rules[1] "r": name: another rule has this name`},
		{"two kinds", "version: 1\nrules:\n  - {name: r, deny: {}, only_from: {tag: vm}}\n",
			`policy.yaml:3: rules[0] "r": only_from: a rule has one of deny, allow, only_from, only_to, require_known_tags; this one already has deny`},
		{"no kind", "version: 1\nrules:\n  - {name: r, to: {port: 22}}\n",
			`policy.yaml:3: rules[0] "r": nothing to check: give one of deny, allow, only_from, only_to, require_known_tags, or when`},
		{"repeated key", "version: 1\nrules:\n  - name: r\n    deny: {}\n    name: s\n",
			`policy.yaml:5: rules[0] "r": name: repeated key`},
		{"known tags false", "version: 1\nrules:\n  - {name: r, require_known_tags: false}\n",
			`policy.yaml:3: rules[0] "r": require_known_tags: expected true (any tag) or a list of tags`},
		{"value not a scalar", "version: 1\nrules:\n  - {name: r, deny: {app: [[ssh]]}}\n",
			`policy.yaml:3: rules[0] "r": deny.app: expected a value`},
		{"cel undeclared", "version: 1\nrules:\n  - name: big-upload\n    when: 'dst.segmnt == \"internet\"'\n",
			`policy.yaml:4: rules[0] "big-upload": when: column 4: undeclared reference to 'dst.segmnt' (did you mean 'dst.segment'?)`},
		{"cel not bool", "version: 1\nrules:\n  - {name: big-upload, when: 'orig_bytes + 1'}\n",
			`policy.yaml:3: rules[0] "big-upload": when: expression is int, not bool`},
		{"cel type error", "version: 1\nrules:\n  - {name: big-upload, when: 'orig_bytes > \"a lot\"'}\n",
			`policy.yaml:3: rules[0] "big-upload": when: column 12: found no matching overload for '_>_' applied to '(int, string)'`},
		{"cel syntax on line 2", "version: 1\nrules:\n  - name: r\n    when: |\n      bytes > 0 &&\n        app ==\n",
			`policy.yaml:4: rules[0] "r": when: line 3 column 1: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("policy.yaml", []byte(tc.text))
			if err == nil {
				t.Fatalf("loaded; want error %s", tc.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Errorf("error %T is not *Error", err)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	a := write("segmentation.yaml", "version: 1\nrules: [{name: r, deny: {}}]\n")
	b := write("b.yaml", "version: 1\nname: segmentation\nrules: []\n")
	set, err := LoadFiles(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Policies()[0].Name; got != "segmentation" {
		t.Errorf("policy name %q, want the file's base name", got)
	}
	_, err = LoadFiles(a, b)
	if want := `policy "segmentation" is already defined in ` + a; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("two policies of one name: error %v, want %q", err, want)
	}
}

func TestReloadKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	write := func(text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("version: 1\nrules: [{name: ssh, deny: {to: {port: 22}}}]\n")
	d := NewDetector(nil)
	if got := fired(d, session()); got != nil {
		t.Errorf("no policies: fired %v", got)
	}
	if err := d.Reload(path); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ssh"}, fired(d, session())); diff != "" {
		t.Errorf("after reload (-want +got):\n%s", diff)
	}
	write("version: 1\nrules: [{name: ssh, deny: {to: {port: 22}}, when: 'nope'}]\n")
	if err := d.Reload(path); err == nil || !strings.Contains(err.Error(), `p.yaml:2: rules[0] "ssh": when: column 1: undeclared reference to 'nope'`) {
		t.Errorf("broken file: error %v", err)
	}
	if diff := cmp.Diff([]string{"ssh"}, fired(d, session())); diff != "" {
		t.Errorf("after a broken reload the last good set stays (-want +got):\n%s", diff)
	}
	write("version: 1\nrules: [{name: ssh-web, deny: {to: {port: 22, tag: web}}}]\n")
	if err := d.Reload(path); err != nil {
		t.Fatal(err)
	}
	if got := fired(d, session()); got != nil {
		t.Errorf("after the fixed reload fired %v", got)
	}
}

func TestEvalErrorsCounted(t *testing.T) {
	d := NewDetector(mustLoad(t, `{version: 1, rules: [{name: r, when: 'bytes / (packets - 22) > 0'}]}`))
	fired(d, session())
	if got := d.EvalErrors(); got != 1 {
		t.Errorf("EvalErrors %d, want 1 (division by zero)", got)
	}
}

func TestAllowStaysInItsPolicy(t *testing.T) {
	a, err := Load("a.yaml", []byte(`{version: 1, rules: [{name: vm-ok, allow: {from: {tag: vm}}}, {name: ssh, deny: {to: {port: 22}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load("b.yaml", []byte(`{version: 1, rules: [{name: ssh-b, deny: {to: {port: 22}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	set, err := NewSet(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ssh-b"}, fired(NewDetector(set), session())); diff != "" {
		t.Errorf("an allow of policy a does not exempt policy b (-want +got):\n%s", diff)
	}
}
