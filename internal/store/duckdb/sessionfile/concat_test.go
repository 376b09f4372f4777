package sessionfile_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/osprey-ndr/osprey/internal/store/duckdb/sessionfile"
	"github.com/osprey-ndr/osprey/internal/store/storetest"
)

// TestConcat joins three files (four row groups): the result holds the
// same rows and the same row groups with the same statistics, and DuckDB
// still skips row groups by end_us — shown by a narrow query that
// succeeds although every other row group has been overwritten with
// garbage.
func TestConcat(t *testing.T) {
	dir := t.TempDir()
	gen := storetest.NewGenerator(3)
	var srcs []string
	for i, groupRows := range []int{0, 2000, 0} {
		src := filepath.Join(dir, fmt.Sprintf("src%d.parquet", i))
		w := sessionfile.Writer{RowGroupRows: groupRows}
		if _, err := w.Write(src, pointers(gen.Records(4000))); err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, src)
	}
	dst := filepath.Join(dir, "dst.parquet")
	info, err := sessionfile.Concat(dst, srcs)
	if err != nil {
		t.Fatal(err)
	}
	db := openStore(t).SQL
	src, joined := readParquet(srcs...), readParquet(dst)

	for _, q := range []string{
		"SELECT count(*) FROM (SELECT * FROM " + joined + " EXCEPT ALL SELECT * FROM " + src + ")",
		"SELECT count(*) FROM (SELECT * FROM " + src + " EXCEPT ALL SELECT * FROM " + joined + ")",
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s: %d rows", q, n)
		}
	}
	var want sessionfile.Info
	if err := db.QueryRow("SELECT count(*), min(end_us), max(end_us) FROM "+src).Scan(&want.Rows, &want.MinEndUs, &want.MaxEndUs); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dst); err != nil || info != (sessionfile.Info{Rows: want.Rows, MinEndUs: want.MinEndUs, MaxEndUs: want.MaxEndUs, Bytes: st.Size()}) {
		t.Errorf("info %+v, want %+v and the file's size (%v)", info, want, err)
	}

	// Everything parquet_metadata says of each row group but where it is.
	chunks := func(file string) []string {
		return strs(t, db, "SELECT concat_ws(' ', row_group_num_rows, path_in_schema, type, stats_min_value, stats_max_value, "+
			"stats_null_count, num_values, encodings, compression, total_compressed_size, total_uncompressed_size) "+
			"FROM parquet_metadata("+file+") ORDER BY file_name, row_group_id, column_id")
	}
	if d := gocmp.Diff(chunks("['"+srcs[0]+"', '"+srcs[1]+"', '"+srcs[2]+"']"), chunks("'"+dst+"'")); d != "" {
		t.Errorf("row groups (-sources +joined):\n%s", d)
	}

	// Row group 1 (the first of src1) is the one kept.
	var lo, hi int64
	var rows int
	if err := db.QueryRow("SELECT min(end_us), max(end_us), count(*) FROM read_parquet(?, file_row_number = true) "+
		"WHERE file_row_number < 2000", srcs[1]).Scan(&lo, &hi, &rows); err != nil {
		t.Fatal(err)
	}
	corruptRowGroupsBut(t, db, dst, 1)
	var n int
	var sum uint64
	if err := db.QueryRow("SELECT count(*), sum(orig_bytes + resp_bytes) FROM "+joined+" WHERE end_us BETWEEN ? AND ?", lo, hi).Scan(&n, &sum); err != nil {
		t.Fatalf("a query within row group 1 read another: %v", err)
	}
	if n != rows {
		t.Errorf("%d rows in row group 1's range, want %d", n, rows)
	}
	if err := db.QueryRow("SELECT sum(orig_bytes) FROM " + joined).Scan(&sum); err == nil {
		t.Error("the corrupted row groups read without an error: the check above proves nothing")
	}
}

// corruptRowGroupsBut overwrites the column chunks of every row group of
// file but keep.
func corruptRowGroupsBut(t *testing.T, db *sql.DB, file string, keep int) {
	rows, err := db.Query("SELECT CASE WHEN dictionary_page_offset > 0 THEN dictionary_page_offset ELSE data_page_offset END, "+
		"total_compressed_size FROM parquet_metadata(?) WHERE row_group_id <> ?", file, keep)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for rows.Next() {
		var at, size int64
		if err := rows.Scan(&at, &size); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xff}, int(size)), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
