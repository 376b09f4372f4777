package netmap

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// parseYAML walks the document's nodes rather than decoding into
// structs, so that each error carries the line of the entry or field.
func parseYAML(path string, data []byte) ([]Range, []error, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, nil
	}
	list := deref(doc.Content[0])
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return nil, nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("%s:%d: want a list of ranges", path, list.Line)
	}
	var ranges []Range
	var rejected []error
	for _, item := range list.Content {
		r, line, ferr := yamlEntry(deref(item))
		if ferr != nil {
			rejected = append(rejected, &EntryError{Path: path, Line: line, Field: ferr.field, Err: ferr.err})
			continue
		}
		ranges = append(ranges, r)
	}
	return ranges, rejected, nil
}

// yamlEntry reads one mapping; the line returned is where the error is.
func yamlEntry(n *yaml.Node) (Range, int, *fieldError) {
	if n.Kind != yaml.MappingNode {
		return Range{}, n.Line, &fieldError{"", errors.New("entry is not a mapping")}
	}
	var e entry
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := deref(n.Content[i]), deref(n.Content[i+1])
		if seen[key.Value] {
			return Range{}, key.Line, &fieldError{key.Value, errors.New("given twice")}
		}
		seen[key.Value] = true
		var err error
		switch key.Value {
		case "cidr":
			e.CIDR, err = scalar(val)
		case "segment":
			e.Segment, err = scalar(val)
		case "tags":
			e.Tags, err = scalars(val)
		default:
			err = errors.New("unknown key (want cidr, tags, segment)")
		}
		if err != nil {
			return Range{}, val.Line, &fieldError{key.Value, err}
		}
	}
	r, ferr := e.toRange()
	if ferr != nil {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == ferr.field {
				return r, n.Content[i].Line, ferr
			}
		}
		return r, n.Line, ferr
	}
	return r, 0, nil
}

// deref follows one alias; the parser rejects aliases to unknown anchors.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func scalar(n *yaml.Node) (string, error) {
	switch {
	case n.Kind != yaml.ScalarNode:
		return "", errors.New("want a single value")
	case n.Tag == "!!null":
		return "", nil
	}
	return n.Value, nil
}

func scalars(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errors.New("want a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := scalar(deref(item))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
