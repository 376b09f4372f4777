package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	"gopkg.in/yaml.v3"

	"github.com/osprey-ndr/osprey/internal/detect"
)

// Version is the policy file format this package reads.
const Version = 1

// Error is a mistake in a policy file, with where it is:
// `policy.yaml:14: rules[3] "db-ingress": from.tag: …`.
type Error struct {
	File  string
	Line  int
	Rule  string // `rules[3] "db-ingress"`, empty outside the rules
	Field string // the key path inside the rule or file: "from.tag"
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	for _, s := range []string{e.Rule, e.Field} {
		if s != "" {
			b.WriteString(s + ": ")
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decoder walks the YAML tree itself rather than unmarshalling into
// structs, so that every error can name its line, rule and field and
// unknown keys are refused.
type decoder struct {
	file string
	rule string // the rule being decoded, for errors
	env  *cel.Env
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Rule: d.rule, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// handlers decode the values of a mapping's keys; path is the key's
// field path for errors.
type handlers map[string]func(v *yaml.Node, path string) error

// mapping calls the handler of each key of n, refusing unknown and
// repeated keys.
func (d *decoder) mapping(n *yaml.Node, path string, hs handlers) error {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return d.errorf(n, path, "expected a mapping")
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := join(path, k.Value)
		h, ok := hs[k.Value]
		if !ok {
			return d.errorf(k, key, "unknown key (known: %s)", keys(hs))
		}
		if seen[k.Value] {
			return d.errorf(k, key, "repeated key")
		}
		seen[k.Value] = true
		if err := h(v, key); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) policy(data []byte) (*Policy, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: d.file, Line: yamlLine(err), Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: d.file, Line: 1, Field: "version", Msg: fmt.Sprintf("required (%d)", Version)}
	}
	root := resolve(doc.Content[0])
	// The version is checked before anything else: a file of a later
	// format should say so, not fail on the keys it added.
	if err := d.version(root); err != nil {
		return nil, err
	}
	p := &Policy{}
	err := d.mapping(root, "", handlers{
		"version":     func(*yaml.Node, string) error { return nil },
		"name":        d.str(&p.Name),
		"description": d.str(&p.Description),
		"rules": func(v *yaml.Node, path string) error {
			if v.Kind != yaml.SequenceNode {
				return d.errorf(v, path, "expected a list of rules")
			}
			return d.rules(p, v)
		},
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (d *decoder) version(root *yaml.Node) error {
	if root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "version" {
				v := resolve(root.Content[i+1])
				if v.Kind != yaml.ScalarNode || v.Value != strconv.Itoa(Version) {
					return d.errorf(v, "version", "unsupported version %q (this Osprey reads %d)", v.Value, Version)
				}
				return nil
			}
		}
	}
	return d.errorf(root, "version", "required (%d)", Version)
}

func (d *decoder) rules(p *Policy, seq *yaml.Node) error {
	names := map[string]bool{}
	for i, n := range seq.Content {
		n = resolve(n)
		d.rule = fmt.Sprintf("rules[%d]", i)
		name := nameOf(n)
		if name != "" {
			d.rule += " " + strconv.Quote(name)
		}
		r, err := d.decodeRule(n)
		if err != nil {
			return err
		}
		if names[r.name] {
			return d.errorf(n, "name", "another rule has this name")
		}
		names[r.name] = true
		if r.kind == kindAllow {
			p.allows = append(p.allows, r)
		} else {
			p.rules = append(p.rules, r)
		}
	}
	d.rule = ""
	return nil
}

// kindKeys are the keys that give a rule its kind; a rule has at most one.
var kindKeys = []string{"deny", "allow", "only_from", "only_to", "require_known_tags"}

func (d *decoder) decodeRule(n *yaml.Node) (*rule, error) {
	r := &rule{severity: detect.Medium}
	var kindKey string
	setKind := func(k kind, key string, v *yaml.Node) error {
		if kindKey != "" {
			return d.errorf(v, key, "a rule has one of %s; this one already has %s", strings.Join(kindKeys, ", "), kindKey)
		}
		r.kind, kindKey = k, key
		return nil
	}
	hs := handlers{
		"name":        d.str(&r.name),
		"description": d.str(&r.description),
		"severity": func(v *yaml.Node, path string) error {
			s, err := d.scalar(v, path)
			if err != nil {
				return err
			}
			r.severity = detect.Severity(s)
			if !slices.Contains([]detect.Severity{detect.Info, detect.Low, detect.Medium, detect.High, detect.Critical}, r.severity) {
				return d.errorf(v, path, "%q is not info, low, medium, high or critical", s)
			}
			return nil
		},
		"technique": func(v *yaml.Node, path string) error {
			s, err := d.scalar(v, path)
			if err != nil {
				return err
			}
			if !techniqueRE.MatchString(s) {
				return d.errorf(v, path, "%q is not an ATT&CK technique id (T1046, T1021.004)", s)
			}
			r.technique = s
			return nil
		},
		"deny": func(v *yaml.Node, path string) error {
			if err := setKind(kindDeny, path, v); err != nil {
				return err
			}
			return d.mapping(v, path, d.matchKeys(&r.match))
		},
		"allow": func(v *yaml.Node, path string) error {
			if err := setKind(kindAllow, path, v); err != nil {
				return err
			}
			return d.mapping(v, path, d.matchKeys(&r.match))
		},
		"only_from": func(v *yaml.Node, path string) error {
			if err := setKind(kindOnlyFrom, path, v); err != nil {
				return err
			}
			return d.side(&r.only)(v, path)
		},
		"only_to": func(v *yaml.Node, path string) error {
			if err := setKind(kindOnlyTo, path, v); err != nil {
				return err
			}
			return d.side(&r.only)(v, path)
		},
		"require_known_tags": func(v *yaml.Node, path string) error {
			if err := setKind(kindKnownTags, path, v); err != nil {
				return err
			}
			if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
				if v.Value != "true" {
					return d.errorf(v, path, "expected true (any tag) or a list of tags")
				}
				return nil
			}
			return d.strs(&r.knownTags)(v, path)
		},
	}
	for k, h := range d.matchKeys(&r.scope) {
		hs[k] = h
	}
	if err := d.mapping(n, "", hs); err != nil {
		return nil, err
	}
	if r.name == "" {
		return nil, d.errorf(n, "name", "required")
	}
	if r.kind == 0 {
		if r.scope.when == nil {
			return nil, d.errorf(n, "", "nothing to check: give one of %s, or when", strings.Join(kindKeys, ", "))
		}
		r.kind = kindDeny // `when` alone denies what it selects
	}
	return r, nil
}

// techniqueRE is the shape of MITRE ATT&CK technique ids.
var techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// matchKeys decode a selection: the rule's own scope or a deny/allow body.
func (d *decoder) matchKeys(m *match) handlers {
	return handlers{
		"from":      d.side(&m.from),
		"to":        d.side(&m.to),
		"proto":     d.oneOf(&m.proto, "tcp", "udp", "icmp"),
		"app":       d.strs(&m.app),
		"direction": d.oneOf(&m.direction, "inbound", "outbound", "internal", "external"),
		"when": func(v *yaml.Node, path string) error {
			expr, err := d.scalar(v, path)
			if err != nil {
				return err
			}
			if d.env == nil {
				if d.env, err = newCELEnv(); err != nil {
					return d.errorf(v, path, "%v", err)
				}
			}
			if m.when, err = compileCEL(d.env, expr); err != nil {
				return d.errorf(v, path, "%v", err)
			}
			return nil
		},
	}
}

func (d *decoder) side(out **side) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) error {
		sd := &side{}
		err := d.mapping(v, path, handlers{
			"tag":     d.strs(&sd.tags),
			"segment": d.strs(&sd.segments),
			"asset":   d.strs(&sd.assets),
			"cidr":    d.prefixes(&sd.prefixes),
			"port":    d.ports(&sd.ports),
			"not":     d.side(&sd.not),
		})
		*out = sd
		return err
	}
}

func (d *decoder) prefixes(out *[]netip.Prefix) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) error {
		return d.each(v, path, func(n *yaml.Node, s string) error {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					return d.errorf(n, path, "%q is neither a CIDR prefix nor an address", s)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			*out = append(*out, p.Masked())
			return nil
		})
	}
}

func (d *decoder) ports(out *[]portRange) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) error {
		return d.each(v, path, func(n *yaml.Node, s string) error {
			lo, hi, isRange := strings.Cut(s, "-")
			if !isRange {
				hi = lo
			}
			a, errA := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
			b, errB := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
			if errA != nil || errB != nil || a > b {
				return d.errorf(n, path, "%q is not a port (0-65535) or a range low-high", s)
			}
			*out = append(*out, portRange{uint16(a), uint16(b)})
			return nil
		})
	}
}

func (d *decoder) oneOf(out *[]string, allowed ...string) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) error {
		return d.each(v, path, func(n *yaml.Node, s string) error {
			if !slices.Contains(allowed, s) {
				return d.errorf(n, path, "%q is not one of %s", s, strings.Join(allowed, ", "))
			}
			*out = append(*out, s)
			return nil
		})
	}
}

func (d *decoder) strs(out *[]string) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) error {
		return d.each(v, path, func(_ *yaml.Node, s string) error {
			*out = append(*out, s)
			return nil
		})
	}
}

// each calls fn for a scalar or every scalar of a list; an empty list is
// refused, since "any of nothing" would select nothing silently.
func (d *decoder) each(v *yaml.Node, path string, fn func(*yaml.Node, string) error) error {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		if len(v.Content) == 0 {
			return d.errorf(v, path, "empty list")
		}
		items = v.Content
	}
	for _, n := range items {
		s, err := d.scalar(resolve(n), path)
		if err != nil {
			return err
		}
		if err := fn(n, s); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) str(out *string) func(*yaml.Node, string) error {
	return func(v *yaml.Node, path string) (err error) {
		*out, err = d.scalar(v, path)
		return err
	}
}

func (d *decoder) scalar(v *yaml.Node, path string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", d.errorf(v, path, "expected a value")
	}
	return v.Value, nil
}

// nameOf finds a rule's name before its other keys are decoded, so that
// errors in any of them can name the rule.
func nameOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" {
			return resolve(n.Content[i+1]).Value
		}
	}
	return ""
}

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// yamlLine digs the line out of a yaml.v3 syntax error ("yaml: line 3: …").
func yamlLine(err error) int {
	var line int
	if _, scanErr := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); scanErr != nil {
		return 1
	}
	return line
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func keys(hs handlers) string {
	names := make([]string, 0, len(hs))
	for k := range hs {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
