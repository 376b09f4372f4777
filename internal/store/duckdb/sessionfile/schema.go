package sessionfile

import (
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// leaf is where a column's values sit in the Parquet schema.
type leaf struct {
	path     []string
	physical format.Type
}

// Both the logical and the deprecated converted type are written: DuckDB
// reads the first, older readers the second.
var (
	stringType = primitive{format.ByteArray, format.LogicalType{Value: &format.StringType{}}, thrift.New(deprecated.UTF8)}
	uint16Type = unsigned(16, deprecated.Uint16)
)

// primitive is a leaf's Parquet type.
type primitive struct {
	physical  format.Type
	logical   format.LogicalType
	converted thrift.Null[deprecated.ConvertedType]
}

func unsigned(bits int8, conv deprecated.ConvertedType) primitive {
	phys := format.Int32
	if bits == 64 {
		phys = format.Int64
	}
	return primitive{phys, format.LogicalType{Value: &format.IntType{BitWidth: bits}}, thrift.New(conv)}
}

// primitives are the Parquet types DuckDB reads back as each Type; a
// list's are its elements'.
var primitives = map[Type]primitive{
	Varchar:       stringType,
	VarcharList:   stringType,
	Blob:          {physical: format.ByteArray},
	Date:          {format.Int32, format.LogicalType{Value: &format.DateType{}}, thrift.New(deprecated.Date)},
	Boolean:       {physical: format.Boolean},
	Bigint:        {physical: format.Int64},
	UTinyint:      unsigned(8, deprecated.Uint8),
	USmallint:     uint16Type,
	UInteger:      unsigned(32, deprecated.Uint32),
	UBigint:       unsigned(64, deprecated.Uint64),
	USmallintList: uint16Type,
}

func isList(t Type) bool { return t == VarcharList || t == USmallintList }

// fileSchema is the Parquet schema of cols and their leaves, in order. A
// list is the standard three levels: a required LIST group, a repeated
// group "list", a required "element".
func fileSchema(cols []Column) ([]format.SchemaElement, []leaf) {
	required, repeated := thrift.New(format.Required), thrift.New(format.Repeated)
	elems := []format.SchemaElement{{Name: "sessions", NumChildren: thrift.New(int32(len(cols)))}}
	leaves := make([]leaf, 0, len(cols))
	for _, c := range cols {
		p := primitives[c.Type]
		l := leaf{path: []string{c.Name}, physical: p.physical}
		name := c.Name
		if isList(c.Type) {
			elems = append(elems,
				format.SchemaElement{Name: c.Name, RepetitionType: required, NumChildren: thrift.New(int32(1)),
					LogicalType: format.LogicalType{Value: &format.ListType{}}, ConvertedType: thrift.New(deprecated.List)},
				format.SchemaElement{Name: "list", RepetitionType: repeated, NumChildren: thrift.New(int32(1))})
			name = "element"
			l.path = []string{c.Name, "list", "element"}
		}
		elems = append(elems, format.SchemaElement{Name: name, Type: thrift.New(p.physical), RepetitionType: required,
			LogicalType: p.logical, ConvertedType: p.converted})
		leaves = append(leaves, l)
	}
	return elems, leaves
}
