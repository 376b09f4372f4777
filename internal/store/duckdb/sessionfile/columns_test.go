package sessionfile_test

import (
	"slices"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessionfile"
)

// TestColumns: each column has one getter, one its type reads.
func TestColumns(t *testing.T) {
	reads := map[sessionfile.Type][]string{sessionfile.Varchar: {"Text", "Device"}, sessionfile.VarcharList: {"Texts"},
		sessionfile.Blob: {"Addr"}, sessionfile.Date: {"Int"}, sessionfile.Bigint: {"Int"}, sessionfile.Boolean: {"Bool"},
		sessionfile.UTinyint: {"Uint"}, sessionfile.USmallint: {"Uint"}, sessionfile.UInteger: {"Uint"},
		sessionfile.UBigint: {"Uint"}, sessionfile.USmallintList: {"Uint16s"}}
	for _, c := range sessionfile.Columns {
		var set []string
		for getter, ok := range map[string]bool{"Text": c.Text != nil, "Device": c.Device != nil, "Texts": c.Texts != nil,
			"Addr": c.Addr != nil, "Int": c.Int != nil, "Uint": c.Uint != nil, "Bool": c.Bool != nil, "Uint16s": c.Uint16s != nil} {
			if ok {
				set = append(set, getter)
			}
		}
		if len(set) != 1 || !slices.Contains(reads[c.Type], set[0]) {
			t.Errorf("column %s of type %d has getters %v, want one of %v", c.Name, c.Type, set, reads[c.Type])
		}
	}
}
