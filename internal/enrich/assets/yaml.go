package assets

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"gopkg.in/yaml.v3"
)

// decodeYAML decodes a YAML or JSON inventory. It walks yaml.v3's node
// tree rather than unmarshalling into structs so that each rejected
// entry can name its line and field and the other entries still load.
func decodeYAML(src string, data []byte) (*Snapshot, []error, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("asset inventory %s: %w", src, err)
	}
	d := &yamlDecoder{src: src}
	snap := &Snapshot{}
	if len(doc.Content) == 0 {
		return snap, nil, nil // empty file
	}
	root := resolve(doc.Content[0])
	switch {
	case root.Kind == yaml.SequenceNode:
		snap.Assets = decodeList(d, "assets", root, assetFields)
	case root.Kind == yaml.MappingNode:
		seen := map[string]bool{}
		for i := 0; i+1 < len(root.Content); i += 2 {
			key, list := root.Content[i], resolve(root.Content[i+1])
			if seen[key.Value] {
				return nil, nil, fmt.Errorf("asset inventory %s:%d: key %q twice", src, key.Line, key.Value)
			}
			seen[key.Value] = true
			if list.Tag == "!!null" {
				continue
			}
			if list.Kind != yaml.SequenceNode {
				return nil, nil, fmt.Errorf("asset inventory %s:%d: %s: want a list", src, list.Line, key.Value)
			}
			switch key.Value {
			case "assets":
				snap.Assets = append(snap.Assets, decodeList(d, key.Value, list, assetFields)...)
			case "interfaces":
				snap.Interfaces = append(snap.Interfaces, decodeList(d, key.Value, list, interfaceFields)...)
			case "mirror_sessions":
				snap.Mirrors = append(snap.Mirrors, decodeList(d, key.Value, list, mirrorFields)...)
			default:
				return nil, nil, fmt.Errorf("asset inventory %s:%d: unknown key %q (want assets, interfaces, mirror_sessions)", src, key.Line, key.Value)
			}
		}
	case root.Tag == "!!null":
	default:
		return nil, nil, fmt.Errorf("asset inventory %s:%d: want a list of assets or a mapping of assets, interfaces and mirror_sessions", src, root.Line)
	}
	for i := range snap.Assets {
		snap.Assets[i].Source = src
	}
	snap.normalize()
	return snap, d.rejected, nil
}

type yamlDecoder struct {
	src      string
	rejected []error
}

func (d *yamlDecoder) reject(line int, field string, err error) {
	d.rejected = append(d.rejected, &EntryError{Source: d.src, Line: line, Field: field, Err: err})
}

// fieldFunc decodes the value of one key of an entry.
type fieldFunc func(v *yaml.Node) error

// decodeList decodes each entry of list with the decoders fields returns
// for it, and keeps those that decode, have an id and do not repeat an
// earlier id.
func decodeList[T any](d *yamlDecoder, name string, list *yaml.Node, fields func(*T) (id *string, byKey map[string]fieldFunc)) []T {
	out := make([]T, 0, len(list.Content))
	firstLine := map[string]int{}
	for i, n := range list.Content {
		n = resolve(n)
		field := fmt.Sprintf("%s[%d]", name, i)
		var entry T
		id, byKey := fields(&entry)
		if !d.decodeEntry(field, n, byKey) {
			continue
		}
		if *id == "" {
			d.reject(n.Line, field+".id", errors.New("missing"))
			continue
		}
		if line, dup := firstLine[*id]; dup {
			d.reject(n.Line, field+".id", fmt.Errorf("duplicate id %q (first at line %d)", *id, line))
			continue
		}
		firstLine[*id] = n.Line
		out = append(out, entry)
	}
	return out
}

func (d *yamlDecoder) decodeEntry(field string, n *yaml.Node, byKey map[string]fieldFunc) bool {
	if n.Kind != yaml.MappingNode {
		d.reject(n.Line, field, errors.New("want a mapping"))
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, v := n.Content[i], resolve(n.Content[i+1])
		decode, ok := byKey[key.Value]
		if !ok {
			d.reject(key.Line, field+"."+key.Value, errors.New("unknown field"))
			return false
		}
		if err := decode(v); err != nil {
			if ie, ok := err.(*itemError); ok {
				d.reject(ie.line, fmt.Sprintf("%s.%s[%d]", field, key.Value, ie.index), ie.err)
			} else {
				d.reject(v.Line, field+"."+key.Value, err)
			}
			return false
		}
	}
	return true
}

func assetFields(a *Asset) (*string, map[string]fieldFunc) {
	return &a.ID, map[string]fieldFunc{
		"id": text(&a.ID), "name": text(&a.Name), "account": text(&a.Account),
		"region": text(&a.Region), "vpc": text(&a.VPC), "subnet": text(&a.Subnet), "type": text(&a.Type),
		"tags": list(&a.Tags, asIs), "ips": list(&a.IPs, parseAddr), "interfaces": list(&a.Interfaces, asIs),
	}
}

func interfaceFields(f *Interface) (*string, map[string]fieldFunc) {
	return &f.ID, map[string]fieldFunc{
		"id": text(&f.ID), "asset": text(&f.Asset), "subnet": text(&f.Subnet), "vpc": text(&f.VPC),
		"mac": scalar(&f.MAC, parseMAC),
		"ips": list(&f.IPs, parseAddr),
	}
}

func mirrorFields(m *MirrorSession) (*string, map[string]fieldFunc) {
	return &m.ID, map[string]fieldFunc{
		"id": text(&m.ID), "interface": text(&m.Interface), "target": text(&m.Target),
		"vni": scalar(&m.VNI, parseVNI),
	}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func text(p *string) fieldFunc { return scalar(p, asIs) }

func asIs(s string) (string, error) { return s, nil }

// scalar decodes a scalar with parse; null leaves the zero value.
func scalar[T any](p *T, parse func(string) (T, error)) fieldFunc {
	return func(v *yaml.Node) error {
		if v.Tag == "!!null" {
			return nil
		}
		if v.Kind != yaml.ScalarNode {
			return errors.New("want a single value")
		}
		var err error
		*p, err = parse(v.Value)
		return err
	}
}

// list decodes a list of scalars with parse; a lone scalar is a list of
// one.
func list[T any](p *[]T, parse func(string) (T, error)) fieldFunc {
	return func(v *yaml.Node) error {
		items := v.Content
		switch {
		case v.Tag == "!!null":
			return nil
		case v.Kind == yaml.ScalarNode:
			items = []*yaml.Node{v}
		case v.Kind != yaml.SequenceNode:
			return errors.New("want a list")
		}
		for i, item := range items {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode {
				return &itemError{index: i, line: item.Line, err: errors.New("want a single value")}
			}
			x, err := parse(item.Value)
			if err != nil {
				return &itemError{index: i, line: item.Line, err: err}
			}
			*p = append(*p, x)
		}
		return nil
	}
}

// itemError places an error on one item of a list.
type itemError struct {
	index, line int
	err         error
}

func (e *itemError) Error() string { return e.err.Error() }

func parseVNI(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v >= 1<<24 {
		return 0, fmt.Errorf("VNI %q is not a number below 2^24", s)
	}
	return uint32(v), nil
}

// parseMAC accepts the forms net.ParseMAC does and stores the one
// schema.Endpoint.MAC uses.
func parseMAC(s string) (string, error) {
	m, err := net.ParseMAC(s)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}
