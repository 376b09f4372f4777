// Package policy checks sessions against baseline and segmentation
// policies: YAML files of rules that deny traffic, allow exceptions,
// restrict who may reach a destination (only_from) or where a source may
// go (only_to), require known service tags on both ends, or test a CEL
// expression (docs/policies.md). Rules are compiled once at load; the
// Detector evaluates every rule of every policy on each session and can
// swap its policies while running, and WhatIf runs a set over stored
// sessions.
package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/osprey-ndr/osprey/internal/schema"
)

// Policy is one loaded policy file.
type Policy struct {
	Name        string // the file's `name`, else its base name without extension
	File        string
	Description string
	rules       []*rule // deny, only_from, only_to, require_known_tags, in file order
	allows      []*rule
}

// Set is the policies in force; it is immutable once built, so that a
// Detector can swap sets while sessions are being evaluated.
type Set struct {
	policies []*Policy
}

// NewSet builds a set; policy names must be unique because findings
// carry them in their dedupe keys.
func NewSet(policies ...*Policy) (*Set, error) {
	seen := make(map[string]string, len(policies))
	for _, p := range policies {
		if other, dup := seen[p.Name]; dup {
			return nil, fmt.Errorf("%s: policy %q is already defined in %s", p.File, p.Name, other)
		}
		seen[p.Name] = p.File
	}
	return &Set{policies: policies}, nil
}

// LoadFiles reads and compiles policy files into a set.
func LoadFiles(paths ...string) (*Set, error) {
	policies := make([]*Policy, 0, len(paths))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		p, err := Load(path, data)
		if err != nil {
			return nil, err
		}
		policies = append(policies, p)
	}
	return NewSet(policies...)
}

// Load compiles one policy file; file names it in errors and is the
// default policy name. Errors are *Error.
func Load(file string, data []byte) (*Policy, error) {
	d := decoder{file: file}
	p, err := d.policy(data)
	if err != nil {
		return nil, err
	}
	p.File = file
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	return p, nil
}

// Policies lists the set's policies in load order.
func (s *Set) Policies() []*Policy { return s.policies }

// Rules is the number of rules in the set.
func (s *Set) Rules() int {
	n := 0
	for _, p := range s.policies {
		n += len(p.rules) + len(p.allows)
	}
	return n
}

// violation is one rule a session broke.
type violation struct {
	policy *Policy
	rule   *rule
}

// evaluate calls fn for every rule of every policy the session breaks.
// A policy's allow rules are exceptions to all its other rules and are
// only tested once one of those fires, since most sessions break none.
func (s *Set) evaluate(sess *schema.Session, act *activation, fn func(violation)) {
	for _, p := range s.policies {
		allowed, tested := false, false
		for _, r := range p.rules {
			if !r.selects(sess, act) {
				continue
			}
			if !tested {
				allowed, tested = p.allowed(sess, act), true
			}
			if allowed {
				break
			}
			fn(violation{p, r})
		}
	}
}

func (p *Policy) allowed(s *schema.Session, act *activation) bool {
	for _, r := range p.allows {
		if r.selects(s, act) {
			return true
		}
	}
	return false
}
