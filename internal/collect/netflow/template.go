package netflow

import (
	"errors"
	"fmt"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// template is a NetFlow v9 or IPFIX (options) template compiled for
// decoding data records in place.
type template struct {
	fields  []tfield
	options bool // data records carry options (sampling, system init time), not flows
	minLen  int  // bytes of the shortest record, > 0
}

type tfield struct {
	ie     uint16
	length uint16 // variableLength for IPFIX variable-length fields
	pen    uint32 // enterprise number; only RFC 5103's reverse elements are read
}

const variableLength = 0xffff

// penSkip marks a field that is read past, not decoded.
const penSkip = ^uint32(0)

// errTemplate marks a template that cannot be used.
var errTemplate = errors.New("bad template")

// compile checks a template goflow2 decoded and turns it into ours. A
// known element with the wrong length would make every record of the
// template wrong, so the template is refused instead.
func compile(version uint16, t any) (*template, error) {
	var c template
	var fields []netflow.Field
	v9Scopes := 0
	switch t := t.(type) {
	case netflow.TemplateRecord:
		fields = t.Fields
	case netflow.NFv9OptionsTemplateRecord:
		c.options, v9Scopes = true, len(t.Scopes)
		fields = append(append(fields, t.Scopes...), t.Options...)
	case netflow.IPFIXOptionsTemplateRecord:
		c.options = true
		fields = append(append(fields, t.Scopes...), t.Options...)
	default:
		return nil, fmt.Errorf("%w: unexpected %T", errTemplate, t)
	}
	c.fields = make([]tfield, len(fields))
	for i, f := range fields {
		// goflow2 clears the enterprise bit of IPFIX data templates but
		// not of options templates; NetFlow v9 types from 32768 up are
		// vendor-specific too.
		ie := f.Type &^ 0x8000
		var pen uint32
		if f.PenProvided || f.Type&0x8000 != 0 {
			pen = max(f.Pen, 1) // NetFlow v9 vendor types have no number
		}
		if i < v9Scopes {
			// NetFlow v9 scope types (1 system, 2 interface, …) are not
			// field types: 1 is not a byte count here.
			pen = penSkip
		}
		if f.Length == variableLength && version != 10 {
			return nil, fmt.Errorf("%w: field %d (type %d): variable length in NetFlow v9", errTemplate, i, ie)
		}
		if want := ieLength(ie); pen == 0 && want != 0 && int(f.Length) != want {
			return nil, fmt.Errorf("%w: field %d (type %d): length %d, want %d", errTemplate, i, ie, f.Length, want)
		}
		c.fields[i] = tfield{ie: ie, length: f.Length, pen: pen}
		if f.Length == variableLength {
			c.minLen++
		} else {
			c.minLen += int(f.Length)
		}
	}
	if c.minLen == 0 {
		return nil, fmt.Errorf("%w: records would be empty", errTemplate)
	}
	return &c, nil
}

// errRecordLength is a record whose variable-length fields overrun its set.
var errRecordLength = errors.New("record overruns its set")

// next decodes the record at the start of b into r and returns the rest
// of b. IPFIX scope fields are read like the others: they are information
// elements too (selectorId, observationDomainId, …).
func (t *template) next(b []byte, r *record) ([]byte, error) {
	for i := range t.fields {
		f := &t.fields[i]
		n := int(f.length)
		if f.length == variableLength {
			if len(b) < 1 {
				return nil, errRecordLength
			}
			n, b = int(b[0]), b[1:]
			if n == 255 {
				if len(b) < 2 {
					return nil, errRecordLength
				}
				n, b = int(b[0])<<8|int(b[1]), b[2:]
			}
		}
		if len(b) < n {
			return nil, errRecordLength
		}
		switch f.pen {
		case 0:
			r.set(f.ie, b[:n])
		case penReverse:
			r.setReverse(f.ie, b[:n])
		}
		b = b[n:]
	}
	return b, nil
}
