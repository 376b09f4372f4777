package api

import (
	"encoding"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/segment"
	"github.com/osprey-ndr/osprey/internal/store"
)

// schemaTypes are the named schemas of the document, from the Go types
// the handlers encode, so that the document follows the code.
var schemaTypes = map[string]any{
	"Session":         schema.Session{},
	"SessionPage":     List[schema.Session]{},
	"TopList":         List[store.TopRow]{},
	"Series":          SeriesAnswer{},
	"CellList":        List[store.Cell]{},
	"Overview":        Overview{},
	"Device":          schema.Device{},
	"DeviceList":      List[schema.Device]{},
	"Timeline":        Timeline{},
	"Finding":         schema.Finding{},
	"FindingPage":     List[schema.Finding]{},
	"VerdictRequest":  VerdictRequest{},
	"VerdictResult":   VerdictResult{},
	"SuppressionList": List[detect.Suppression]{},
	"PolicyList":      List[PolicyInfo]{},
	"PolicyCheck":     PolicyCheck{},
	"WhatIf":          WhatIf{},
	"Recommendations": segment.Recommendations{},
	"Capacity":        segment.CapacityReport{},
	"SourceList":      List[Source]{},
	"MetricBatch":     []schema.DeviceMetric{},
	"Accepted":        Accepted{},
	"Token":           Token{},
	"TokenList":       List[Token]{},
	"TokenRequest":    TokenRequest{},
	"NewToken":        NewToken{},
	"Error": struct {
		Error Error `json:"error"`
	}{},
}

// OpenAPI builds the OpenAPI 3.0 document of the routes.
func (s *Server) OpenAPI() map[string]any {
	schemas := map[string]any{
		"OpenAPI":    map[string]any{"type": "object", "description": "an OpenAPI 3.0 document"},
		"Prometheus": map[string]any{"type": "string", "description": "Prometheus text exposition format"},
		"PolicyYAML": map[string]any{"type": "string", "description": "a policy file (docs/policies.md)"},
	}
	for name, v := range schemaTypes {
		schemas[name] = jsonSchema(reflect.TypeOf(v))
	}
	paths := map[string]any{}
	for _, rt := range s.routes {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[strings.ToLower(rt.Method)] = operation(rt)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Osprey API", "version": "1",
			"description": "Osprey's REST API (docs/api.md). Every call but this document takes a bearer token; the token's tenant scopes every answer and change."},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "osp_<43 characters>"},
			},
			"responses": map[string]any{
				"Error": map[string]any{"description": "an error",
					"content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func operation(rt *Route) map[string]any {
	op := map[string]any{
		"operationId": operationID(rt),
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
	}
	if rt.Access == Public {
		op["security"] = []any{}
	} else {
		op["description"] = "Roles: " + strings.Join(rt.Access.roleNames(), ", ") + "."
	}
	var params []any
	for _, p := range rt.Params {
		sch := map[string]any{"type": "string"}
		switch p.Type {
		case "integer":
			sch = map[string]any{"type": "integer", "minimum": 1}
		case "time":
			sch["description"] = "RFC 3339, a date, or a duration ago (24h, 7d)"
		case "duration":
			sch["description"] = "a Go duration: 5m, 1h"
		}
		if len(p.Enum) > 0 {
			sch["enum"] = p.Enum
		}
		params = append(params, map[string]any{"name": p.Name, "in": p.In, "description": p.Doc, "required": p.Required || p.In == "path", "schema": sch})
	}
	if rt.Access != Public {
		params = append(params, map[string]any{"name": "tenant", "in": "query", "description": pTenant.Doc, "schema": map[string]any{"type": "string"}})
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if rt.BodyType != "" {
		op["requestBody"] = map[string]any{"required": rt.BodyType == "application/json" && rt.Path != "/api/v1/policies/whatif",
			"content": map[string]any{rt.BodyType: map[string]any{"schema": ref(rt.BodySchema)}}}
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok := map[string]any{"description": http.StatusText(status)}
	if rt.Response != "" {
		typ := "application/json"
		if rt.Response == "Prometheus" {
			typ = "text/plain"
		}
		ok["content"] = map[string]any{typ: map[string]any{"schema": ref(rt.Response)}}
	}
	errResp := map[string]any{"$ref": "#/components/responses/Error"}
	responses := map[string]any{strconv.Itoa(status): ok, "default": errResp}
	if rt.Access != Public {
		responses["401"], responses["403"] = errResp, errResp
	}
	op["responses"] = responses
	return op
}

// operationID is the route's method and path in camel case:
// getApiV1DevicesIdTimeline.
func operationID(rt *Route) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(rt.Method))
	for _, part := range strings.FieldsFunc(rt.Path, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	durationType  = reflect.TypeFor[time.Duration]()
)

// jsonSchema describes how encoding/json writes a type.
func jsonSchema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{"description": "any JSON"}
	case t == durationType:
		return map[string]any{"type": "integer", "description": "nanoseconds"}
	case t.Implements(textMarshaler) || reflect.PointerTo(t).Implements(textMarshaler):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := jsonSchema(t.Elem())
		s["nullable"] = true
		return s
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "format": "byte"}
		}
		return map[string]any{"type": "array", "items": jsonSchema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": jsonSchema(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		addFields(t, props)
		return map[string]any{"type": "object", "properties": props}
	}
	return map[string]any{}
}

// addFields adds a struct's JSON fields, embedded structs inlined.
func addFields(t reflect.Type, props map[string]any) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addFields(f.Type, props)
			continue
		}
		if name == "" {
			name = f.Name
		}
		props[name] = jsonSchema(f.Type)
	}
}

func (s *Server) openAPI(*call) (any, error) { return s.OpenAPI(), nil }
