package api

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// The served document is a valid OpenAPI 3 document with every route
// of the table, and no path the table does not serve.
func TestOpenAPI(t *testing.T) {
	f := shared
	code, body := f.do(t, "GET", "/api/v1/openapi.json", "", "")
	if code != 200 {
		t.Fatalf("openapi.json: %d %s", code, body)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	served := map[string]bool{}
	for _, rt := range f.srv.Routes() {
		served[rt.Method+" "+rt.Path] = true
		item := doc.Paths.Find(rt.Path)
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("%s %s is not documented", rt.Method, rt.Path)
			continue
		}
		op := item.GetOperation(rt.Method)
		for _, p := range rt.Params {
			if op.Parameters.GetByInAndName(p.In, p.Name) == nil {
				t.Errorf("%s %s: parameter %s is not documented", rt.Method, rt.Path, p.Name)
			}
		}
		if strings.Contains(rt.Path, "{id}") && op.Parameters.GetByInAndName("path", "id") == nil {
			t.Errorf("%s %s: path parameter id is not documented", rt.Method, rt.Path)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("%s %s is documented but not served", method, path)
			}
		}
	}
}
