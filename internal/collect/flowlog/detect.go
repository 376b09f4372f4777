package flowlog

import (
	"bytes"
	"compress/gzip"
	"io"
)

// detectBytes is how much of an input Detect looks at.
const detectBytes = 4096

var parquetMagic = []byte("PAR1")

// Detect names the format of an input from its first bytes (up to
// detectBytes; gzip-compressed input is looked into):
//
//   - "PAR1": AWS VPC Flow Logs in Parquet;
//   - a JSON object whose first key is "records": Azure NSG or VNet flow logs;
//   - a JSON object or array holding "jsonPayload" or "logName": GCP LogEntry JSON;
//   - text whose first line is a VPC header or a record of space-separated
//     values: AWS VPC Flow Logs.
func Detect(head []byte) (Format, error) {
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return "", ErrUnknownFormat
		}
		// A cut stream gives what it has before the cut: enough to look at.
		inner, _ := io.ReadAll(io.LimitReader(zr, detectBytes))
		head = inner
	}
	if bytes.HasPrefix(head, parquetMagic) {
		return FormatVPCParquet, nil
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 {
		return "", ErrUnknownFormat
	}
	switch t[0] {
	case '{':
		if key := firstKey(t); key == "records" {
			return FormatAzure, nil
		}
		if bytes.Contains(t, []byte(`"jsonPayload"`)) || bytes.Contains(t, []byte(`"logName"`)) {
			return FormatGCP, nil
		}
		return "", ErrUnknownFormat
	case '[':
		if bytes.Contains(t, []byte(`"jsonPayload"`)) || bytes.Contains(t, []byte(`"logName"`)) {
			return FormatGCP, nil
		}
		return "", ErrUnknownFormat
	}
	line := t
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	tok, _ := splitFields(bytes.TrimRight(line, "\r"), nil, maxVPCFields)
	if headerLine(tok) || vpcLooking(tok) {
		return FormatVPC, nil
	}
	return "", ErrUnknownFormat
}

// firstKey returns the first member name of a JSON object, if it is a
// plain string.
func firstKey(obj []byte) string {
	t := bytes.TrimLeft(obj[1:], " \t\r\n")
	if len(t) == 0 || t[0] != '"' {
		return ""
	}
	end := bytes.IndexByte(t[1:], '"')
	if end < 0 {
		return ""
	}
	return string(t[1 : 1+end])
}

// vpcLooking accepts a headerless line of printable, space-separated
// values with at least one address or number in it, as every VPC format
// with an address, port, count or time has.
func vpcLooking(tok [][]byte) bool {
	if len(tok) < 2 {
		return false
	}
	numeric := false
	for _, t := range tok {
		for _, c := range t {
			if c < '!' || c > '~' {
				return false
			}
		}
		if _, err := parseUint(t, 1<<64-1); err == nil {
			numeric = true
		} else if _, err := parseAddr(t); err == nil {
			numeric = true
		}
	}
	return numeric
}
