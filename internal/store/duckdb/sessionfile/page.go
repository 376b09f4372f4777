package sessionfile

import (
	"bufio"
	"encoding/binary"

	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

var (
	dictEncoding  rle.DictionaryEncoding
	deltaEncoding delta.BinaryPackedEncoding
	levelEncoding = rle.Encoding{BitWidth: 1} // lists are one level deep
)

// pageWriter writes column chunks to a file: each chunk is at most a
// dictionary page and one data page (format v1), compressed with zstd.
// Its buffers are kept from one chunk to the next.
type pageWriter struct {
	out   *bufio.Writer
	off   int64 // from the start of the file
	codec zstd.Codec
	proto thrift.CompactProtocol
	md    *format.ColumnMetaData // of the chunk being written

	body    []byte // the page being built, uncompressed
	zbuf    []byte // the page compressed
	scratch []byte // for encoders, which overwrite their output
}

func (w *pageWriter) write(b []byte) error {
	n, err := w.out.Write(b)
	w.off += int64(n)
	return err
}

// page writes a page and its header, counting both in the chunk's sizes,
// and returns the header's offset.
func (w *pageWriter) page(h *format.PageHeader, body []byte) (int64, error) {
	var err error
	if w.zbuf, err = w.codec.Encode(w.zbuf, body); err != nil {
		return 0, err
	}
	h.UncompressedPageSize, h.CompressedPageSize = int32(len(body)), int32(len(w.zbuf))
	head, err := thrift.Marshal(&w.proto, h)
	if err != nil {
		return 0, err
	}
	at := w.off
	if err := w.write(head); err != nil {
		return 0, err
	}
	if err := w.write(w.zbuf); err != nil {
		return 0, err
	}
	w.md.TotalUncompressedSize += int64(len(head) + len(body))
	w.md.TotalCompressedSize += int64(len(head) + len(w.zbuf))
	return at, nil
}

// dictPage writes a chunk's dictionary, byte arrays in PLAIN encoding.
func (w *pageWriter) dictPage(values []string) error {
	d := w.scratch[:0]
	for _, v := range values {
		d = binary.LittleEndian.AppendUint32(d, uint32(len(v)))
		d = append(d, v...)
	}
	w.scratch = d
	h := format.PageHeader{Type: format.DictionaryPage,
		DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{NumValues: int32(len(values)), Encoding: format.Plain})}
	at, err := w.page(&h, d)
	w.md.DictionaryPageOffset = at
	return err
}

// dataPage writes body as the chunk's data page of n values (levels
// included) in encoding enc.
func (w *pageWriter) dataPage(n int, enc format.Encoding) error {
	h := format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{NumValues: int32(n),
		Encoding: enc, DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE})}
	at, err := w.page(&h, w.body)
	w.md.DataPageOffset = at
	w.md.NumValues = int64(n)
	w.md.Encoding = append(w.md.Encoding[:0], enc, format.RLE)
	if w.md.DictionaryPageOffset > 0 {
		w.md.Encoding = append(w.md.Encoding, format.Plain)
	}
	return err
}

// levels appends a list's repetition or definition levels to dst, RLE
// encoded after their 4-byte length.
func (w *pageWriter) levels(dst []byte, lv []uint8) []byte {
	w.scratch, _ = levelEncoding.EncodeLevels(w.scratch, lv) // cannot fail at bit width 1
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(w.scratch)))
	return append(dst, w.scratch...)
}
