package sessionfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

const magic = "PAR1"

// Info describes a file written.
type Info struct {
	Rows               int
	MinEndUs, MaxEndUs int64 // the range of end_us, µs since the Unix epoch
	Bytes              int64
}

// writeAtomic makes path hold what fill writes, or leaves it as it was:
// fill writes a temporary file beside it, which is synced and renamed
// over path, and the directory is synced so that the rename survives a
// crash. On any failure the temporary file is removed.
func writeAtomic(path string, fill func(*bufio.Writer) error) (size int64, err error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := fill(bw); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, err
	}
	return st.Size(), syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFooter writes the file's metadata and the closing magic.
func writeFooter(w *bufio.Writer, md *format.FileMetaData) error {
	b, err := thrift.Marshal(new(thrift.CompactProtocol), md)
	if err != nil {
		return err
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	b = append(b, magic...)
	_, err = w.Write(b)
	return err
}

// readFooter reads the metadata of the Parquet file f of the given size
// and returns where the footer starts.
func readFooter(f *os.File, size int64) (*format.FileMetaData, int64, error) {
	var tail [8]byte
	if size < 12 {
		return nil, 0, errors.New("too short for Parquet")
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, 0, err
	}
	if string(tail[4:]) != magic {
		return nil, 0, errors.New("no Parquet magic at the end")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	start := size - 8 - n
	if start < int64(len(magic)) {
		return nil, 0, fmt.Errorf("footer of %d bytes in a file of %d", n, size)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, start); err != nil {
		return nil, 0, err
	}
	md := new(format.FileMetaData)
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), b, md); err != nil {
		return nil, 0, fmt.Errorf("footer: %w", err)
	}
	return md, start, nil
}
