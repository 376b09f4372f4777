package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// suppressionFile is the YAML form of Config.SuppressionFile.
type suppressionFile struct {
	Suppressions []Suppression `yaml:"suppressions"`
}

// loadSuppressions reads the file at path; a missing file is an empty set.
func loadSuppressions(path string) (*suppressions, error) {
	ss := &suppressions{path: path, byDetector: map[string][]*Suppression{}}
	if path == "" {
		return ss, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return ss, nil
	}
	if err != nil {
		return nil, fmt.Errorf("suppression_file: %w", err)
	}
	var f suppressionFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("suppression_file %s: %w", path, err)
	}
	for i := range f.Suppressions {
		s := &f.Suppressions[i]
		if err := normalise(s); err != nil {
			return nil, fmt.Errorf("suppression_file %s: suppressions[%d]: %w", path, i, err)
		}
		ss.put(s)
	}
	return ss, nil
}

// save writes the set atomically: a crash leaves the old file or the new.
func (ss *suppressions) save() error {
	if ss.path == "" {
		return nil
	}
	data, err := yaml.Marshal(suppressionFile{Suppressions: ss.all()})
	if err != nil {
		return fmt.Errorf("save suppressions: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(ss.path), ".suppressions-*")
	if err != nil {
		return fmt.Errorf("save suppressions: %w", err)
	}
	_, err = tmp.Write(data)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), ss.path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save suppressions to %s: %w", ss.path, err)
	}
	return nil
}
