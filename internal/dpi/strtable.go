package dpi

// maxInterned bounds a strTable: past it the table starts over, so that
// names that never repeat cannot grow it.
const maxInterned = 4096

// strTable interns the strings decoders keep that recur from session to
// session: server names, JA4 fingerprints, user agents, DNS names and
// addresses. Sessions then share one copy, which saves an allocation per
// session and, as they stay in the flow table until written, the
// collector's work on each. One engine owns one; URIs and other strings
// that seldom repeat are not interned.
type strTable struct {
	m       map[string]string
	derived map[string]string // strings computed from bytes, by those bytes (see ja4)
}

// str returns string(b), the same string as for equal bytes before while
// it is in the table; a nil table only converts.
func (t *strTable) str(b []byte) string {
	if t == nil {
		return string(b)
	}
	if s, ok := t.m[string(b)]; ok { // no allocation: the compiler looks up b's bytes
		return s
	}
	s := string(b)
	if t.m == nil || len(t.m) >= maxInterned {
		t.m = make(map[string]string, maxInterned/4)
	}
	t.m[s] = s
	return s
}

// lookup returns the string stored for key by store.
func (t *strTable) lookup(key []byte) (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.derived[string(key)]
	return s, ok
}

// store keeps the string b computed from key, interned, and returns it.
func (t *strTable) store(key, b []byte) string {
	s := t.str(b)
	if t == nil {
		return s
	}
	if t.derived == nil || len(t.derived) >= maxInterned {
		t.derived = make(map[string]string, maxInterned/4)
	}
	t.derived[string(key)] = s
	return s
}
