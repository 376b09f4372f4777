package deliver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// JSONEncoder writes the event's record as its contract's JSON (a
// schema.Finding, Session or DeviceMetric, docs/schema.md), without the
// envelope: receivers tell kinds apart by the output's header or field.
type JSONEncoder struct{}

func (JSONEncoder) Encode(dst []byte, e *Event) ([]byte, error) {
	b, err := json.Marshal(e.Record())
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// TemplateEncoder renders a Go text/template whose dot is the event's
// record: the schema.Finding for findings ({{.Severity}},
// {{.Entities}}), the schema.Session for sessions, the
// schema.DeviceMetric for metrics. Its functions are listed in
// TemplateFuncs; docs/outputs.md has examples.
type TemplateEncoder struct {
	t *template.Template
	// validJSON checks each rendering is one JSON value, so that a
	// template mistake is caught (and counted) here rather than as a
	// receiver's 400.
	validJSON bool
}

// NewTemplate parses text as the template named name; with validJSON
// every rendering must be a JSON value.
func NewTemplate(name, text string, validJSON bool) (*TemplateEncoder, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(TemplateFuncs()).Parse(text)
	if err != nil {
		return nil, err
	}
	return &TemplateEncoder{t: t, validJSON: validJSON}, nil
}

func (te *TemplateEncoder) Encode(dst []byte, e *Event) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	start := len(dst)
	if err := te.t.Execute(buf, e.Record()); err != nil {
		return dst, err
	}
	out := buf.Bytes()
	if te.validJSON && !json.Valid(out[start:]) {
		return dst, fmt.Errorf("template %s: the rendering is not valid JSON: %.200s", te.t.Name(), out[start:])
	}
	return out, nil
}

// TemplateFuncs are the functions templates may call:
//
//	json V       V as JSON ({{json .}} is the whole record; strings are quoted and escaped)
//	kind V       "finding", "session" or "metric"
//	evidence F   a finding's evidence as a map ({{(evidence .).summary}})
//	rfc3339 T    a time in RFC 3339, UTC
//	unix T       a time in Unix seconds
//	join L SEP   strings.Join
//	upper, lower strings.ToUpper, strings.ToLower
//	default D V  V, or D when V is empty
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"kind": func(v any) string {
			switch v.(type) {
			case *schema.Finding:
				return "finding"
			case *schema.Session:
				return "session"
			case *schema.DeviceMetric:
				return "metric"
			}
			return ""
		},
		"evidence": func(f *schema.Finding) (map[string]any, error) {
			m := map[string]any{}
			if len(f.Evidence) == 0 {
				return m, nil
			}
			err := json.Unmarshal(f.Evidence, &m)
			return m, err
		},
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		"unix":    func(t time.Time) int64 { return t.Unix() },
		"join":    strings.Join,
		"upper":   strings.ToUpper,
		"lower":   strings.ToLower,
		"default": func(d, v any) any {
			if v == nil || v == "" {
				return d
			}
			return v
		},
	}
}
