// Package config reads Osprey's YAML configuration. Unknown keys and bad
// values are rejected with the file, line and key path (for example
// "osprey.yaml:7: meter.idle_tcp: time: invalid duration"), so a typo never
// silently falls back to a default.
package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads path over DefaultConfig() and validates the result.
func Load(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, err
	}
	if err := decodeStrict(path, data, &cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// decodeStrict walks the YAML tree alongside the Go struct so that every
// error can name its key path; yaml.v3's own KnownFields errors only give
// the Go type name.
func decodeStrict(name string, data []byte, out any) error {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: all defaults
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return walk(name, doc.Content[0], reflect.ValueOf(out).Elem(), "")
}

func walk(file string, n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t := v.Type(); {
	case decodesItself(t):
	case t.Kind() == reflect.Struct:
		return walkStruct(file, n, v, path)
	case n.Tag == "!!null": // empties a list, map or pointer, as yaml.v3 does
	case t.Kind() == reflect.Pointer && walked(t.Elem()): // webhook.basic_auth
		p := reflect.New(t.Elem())
		if err := walkStruct(file, n, p.Elem(), path); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode && walked(t.Elem()):
		// A list of sections (enrich.intel, collect.flow_logs.s3): each
		// entry as strictly as a section, from its zero value as yaml.v3
		// would.
		list := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, el := range n.Content {
			if err := walk(file, el, list.Index(i), fmt.Sprintf("%s[%d]", orRoot(path), i)); err != nil {
				return err
			}
		}
		v.Set(list)
		return nil
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode && walked(t.Elem()):
		// Sections by name (detect.profiles.targets): added to the
		// defaults' map, each value from its zero value.
		if v.IsNil() {
			v.Set(reflect.MakeMap(t))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!null" {
				continue // yaml.v3 drops it too
			}
			key, el := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			if err := walk(file, k, key, path); err != nil {
				return err
			}
			if err := walk(file, val, el, join(path, k.Value)); err != nil {
				return err
			}
			v.SetMapIndex(key, el)
		}
		return nil
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		msg := err.Error()
		if te := (*yaml.TypeError)(nil); errors.As(err, &te) && len(te.Errors) > 0 {
			msg = te.Errors[0]
			if _, after, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(msg, "line ") {
				msg = after
			}
		}
		return fmt.Errorf("%s:%d: %s: %s", file, n.Line, orRoot(path), msg)
	}
	return nil
}

// walkStruct reads a mapping into a struct key by key: an unknown key is
// an error naming it.
func walkStruct(file string, n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: %s: expected a mapping", file, n.Line, orRoot(path))
	}
	fields := yamlFields(v.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		key := join(path, k.Value)
		if !ok {
			return fmt.Errorf("%s:%d: %s: unknown key (known: %s)", file, k.Line, key, known(fields))
		}
		if err := walk(file, val, v.FieldByIndex(idx), key); err != nil {
			return err
		}
	}
	return nil
}

var (
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself says whether yaml.v3 reads t by its own method (a size,
// an address prefix, a list with defaults of its own) rather than field
// by field.
func decodesItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(yamlUnmarshaler) || p.Implements(textUnmarshaler) || t == reflect.TypeFor[time.Time]()
}

// walked says whether values of t are walked key by key: structs, read
// as sections.
func walked(t reflect.Type) bool { return t.Kind() == reflect.Struct && !decodesItself(t) }

// yamlFields maps a struct's YAML keys to its fields, those of structs
// embedded with ",inline" included (a component's own Config inside a
// section that adds keys of its own).
func yamlFields(t reflect.Type) map[string][]int {
	m := make(map[string][]int, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if opts == "inline" && f.Type.Kind() == reflect.Struct {
			for k, idx := range yamlFields(f.Type) {
				m[k] = append([]int{i}, idx...)
			}
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		m[tag] = []int{i}
	}
	return m
}

func known(fields map[string][]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}
