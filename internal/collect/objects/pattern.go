package objects

import (
	"fmt"
	"path/filepath"
	"strings"
)

// pattern is one of Config.Paths, made absolute: a file, a directory or a
// glob. Walks start at static, its leading part without glob characters;
// rest are the glob's remaining path elements. A path is covered when its
// elements below static match rest, so a pattern that matches a directory
// covers all of it, and a plain path covers itself and what is below.
type pattern struct {
	static string
	rest   []string
}

func newPattern(p string) (pattern, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return pattern{}, err
	}
	if _, err := filepath.Match(abs, ""); err != nil {
		return pattern{}, fmt.Errorf("bad glob pattern %q", p)
	}
	elems := strings.Split(abs, string(filepath.Separator))
	n := 0
	for n < len(elems) && !hasMeta(elems[n]) {
		n++
	}
	static := strings.Join(elems[:n], string(filepath.Separator))
	if static == "" {
		static = string(filepath.Separator)
	}
	return pattern{static: filepath.Clean(static), rest: elems[n:]}, nil
}

func hasMeta(elem string) bool { return strings.ContainsAny(elem, `*?[\`) }

// below returns path's elements under static; false when path is not
// under it or an element is hidden (a name beginning with a dot, as the
// temporary files of rsync and many other tools are).
func (p pattern) below(path string) ([]string, bool) {
	rel, err := filepath.Rel(p.static, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, false
	}
	if rel == "." {
		return nil, true
	}
	elems := strings.Split(rel, string(filepath.Separator))
	for _, e := range elems {
		if strings.HasPrefix(e, ".") {
			return nil, false
		}
	}
	return elems, true
}

// matchPrefix reports whether the first elements of elems and of rest
// match, as far as the shorter goes.
func (p pattern) matchPrefix(elems []string) bool {
	for i := 0; i < len(elems) && i < len(p.rest); i++ {
		if ok, _ := filepath.Match(p.rest[i], elems[i]); !ok {
			return false
		}
	}
	return true
}

// covers reports whether the file at path is one to read.
func (p pattern) covers(path string) bool {
	elems, ok := p.below(path)
	return ok && len(elems) >= len(p.rest) && p.matchPrefix(elems)
}

// enters reports whether the directory at path may hold files to read,
// so a walk descends into it and a follower watches it.
func (p pattern) enters(dir string) bool {
	elems, ok := p.below(dir)
	return ok && p.matchPrefix(elems)
}
