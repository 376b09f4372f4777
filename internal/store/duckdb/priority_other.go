//go:build !linux

package duckdb

// background runs f; lowering one thread's priority is Linux's.
func background(f func()) { f() }
