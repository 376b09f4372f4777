// Package config reads Osprey's YAML configuration. Unknown keys and bad
// values are rejected with the file, line and key path (for example
// "osprey.yaml:7: meter.idle_tcp: time: invalid duration"), so a typo never
// silently falls back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"

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
	if v.Kind() == reflect.Struct && !implementsUnmarshaler(v) {
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

func implementsUnmarshaler(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(yaml.Unmarshaler)
	return ok
}

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
