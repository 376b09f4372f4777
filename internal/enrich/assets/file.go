package assets

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// LoadFile reads an inventory file, in the format its extension names:
// .yaml, .yml or .json (decoded alike: JSON is YAML), or .csv. Entries
// that cannot be used are returned as *EntryError, one each, and the rest
// loads; the error is for a file that cannot be read or whose structure
// is wrong as a whole.
func LoadFile(path string) (*Snapshot, []error, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("asset inventory: %w", err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml", ".json":
		return decodeYAML(path, data)
	case ".csv":
		return decodeCSV(path, bytes.NewReader(data))
	default:
		return nil, nil, fmt.Errorf("asset inventory %s: unknown extension %q (want .yaml, .yml, .json or .csv)", path, ext)
	}
}
