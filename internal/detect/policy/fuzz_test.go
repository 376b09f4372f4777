package policy

import "testing"

// FuzzLoad feeds policy files to Load: it must return a policy or an
// *Error, never panic, and a policy it returns must evaluate sessions.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("version: 1\nrules: [{name: r, deny: {to: {port: 22}}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz.yaml", data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		set, err := NewSet(p)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDetector(set)
		fired(d, session())
		fired(d, session(fromInternet))
	})
}
