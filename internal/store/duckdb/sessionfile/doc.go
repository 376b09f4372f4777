// Package sessionfile writes batches of session records as Parquet
// files laid out as DuckDB's sessions table (the names, order and types
// of sqlstore.SessionColumns), for DuckDB to query with read_parquet, and
// joins such files into one by copying their row groups (compaction).
// Columns, each column's value for a record, is also what the DuckDB
// write path reads, so the table and the files cannot disagree.
//
// The writer is hand-written on parquet-go's low-level packages (format,
// thrift, the RLE and delta encodings, zstd) because parquet-go's
// GenericWriter reached only 210–330 k rows per CPU-second on these rows,
// 45 % of its time in its dictionaries; column builders filled straight
// from the records reach 500–640 k on the same machine (BenchmarkWrite).
package sessionfile
