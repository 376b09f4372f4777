package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/osprey-ndr/osprey/internal/store/filter"
)

// Error is the one shape every failure takes:
// {"error": {"code", "message", "param", "column"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Param is the query parameter, path parameter or body field at
	// fault; Column, for a filter, the column in it (1-based).
	Param  string `json:"param,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (e *Error) Error() string {
	if e.Param != "" {
		return e.Param + ": " + e.Message
	}
	return e.Message
}

// Error codes.
const (
	CodeBadParameter     = "bad_parameter"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeTooLarge         = "too_large"
	CodeUnavailable      = "unavailable"
	CodeTimeout          = "timeout"
	CodeInternal         = "internal"
)

func badParam(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadParameter, Param: param, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

func conflict(format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: fmt.Sprintf(format, args...)}
}

// filterError points a filter mistake at its parameter and column.
func filterError(param string, err error) *Error {
	e := badParam(param, "%s", err.Error())
	var fe *filter.Error
	if errors.As(err, &fe) {
		e.Column, e.Message = fe.Col, fe.Msg
	}
	return e
}

// asError turns any handler error into the shape; errors that are not
// *Error are internal and their text is not shown (it may name files or
// SQL), except deadline errors.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Status: http.StatusGatewayTimeout, Code: CodeTimeout, Message: "the query took longer than api.timeout"}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="osprey"`)
	}
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}
