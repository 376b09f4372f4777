package sessioncols_test

import (
	"slices"
	"testing"

	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessioncols"
)

// TestColumns: each column has one getter, one its type reads.
func TestColumns(t *testing.T) {
	reads := map[sessioncols.Type][]string{sessioncols.Varchar: {"Text", "Device"}, sessioncols.VarcharList: {"Texts"},
		sessioncols.Blob: {"Addr"}, sessioncols.Date: {"Int"}, sessioncols.Bigint: {"Int"}, sessioncols.Boolean: {"Bool"},
		sessioncols.UTinyint: {"Uint"}, sessioncols.USmallint: {"Uint"}, sessioncols.UInteger: {"Uint"},
		sessioncols.UBigint: {"Uint"}, sessioncols.USmallintList: {"Uint16s"}}
	for _, c := range sessioncols.Columns {
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
