package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// readFormats are osprey read --format's values: pcap for packet
// captures, the others flow logs (docs/flowlogs.md).
var readFormats = []string{"auto", "pcap", "vpc", "vpc-parquet", "azure", "gcp"}

// splitInputs sorts read's arguments into packet captures and flow logs.
// With --format auto each file is told by its first bytes (looked into
// when gzip-compressed): a pcap or pcapng magic number makes a capture,
// anything else a flow log, whose format the flow-log reader detects.
// Directories are walked in name order; "-" (stdin) is a capture unless
// a flow-log format is given.
func splitInputs(paths []string, format string) (packets, flows []string, err error) {
	if !slices.Contains(readFormats, format) {
		return nil, nil, fmt.Errorf("--format %q: want one of %v", format, readFormats)
	}
	add := func(path string) {
		if format == "pcap" || format == "auto" && isCapture(path) {
			packets = append(packets, path)
		} else {
			flows = append(flows, path)
		}
	}
	for _, p := range paths {
		if p == "-" {
			if format == "auto" || format == "pcap" {
				packets = append(packets, p)
			} else {
				flows = append(flows, p)
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil { // the capture reader reports it, and reads the rest
			packets = append(packets, p)
			continue
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				add(path)
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return packets, flows, nil
}

// isCapture tells a pcap or pcapng file by its magic number; a file that
// cannot be opened counts as one, for the capture reader to report.
func isCapture(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if head, _ := r.(*bufio.Reader).Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return false // not a readable gzip stream: let the flow-log reader say why
		}
		r = zr
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return false
	}
	switch binary.LittleEndian.Uint32(magic[:]) {
	case 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a:
		return true
	}
	return false
}
