package webhook

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: whatever a request carries, Verify answers without
// panicking, and accepts only what Sign produced.
func FuzzVerify(f *testing.F) {
	now := time.Unix(1772366400, 0)
	f.Add("1772366400", Sign([]byte(secret), 1772366400, []byte(`{"id":"a1"}`)), []byte(`{"id":"a1"}`))
	f.Add("", "", []byte{})
	f.Add("-9223372036854775808", "sha256=", []byte("x"))
	f.Add("1772366400 ", "sha256=zz", []byte("{}"))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := Verify([]byte(secret), ts, sig, body, now, 5*time.Minute)
		if err != nil {
			return
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		if perr != nil || strings.TrimSpace(sig) != Sign([]byte(secret), n, body) {
			t.Fatalf("verified a signature Sign did not make: ts %q sig %q", ts, sig)
		}
	})
}

// FuzzParseRetryAfter: any header value gives a wait ≥ 0.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "", "Sun, 01 Mar 2026 12:00:30 GMT", "Sunday, 01-Mar-26 12:00:30 GMT", "-1", "99999999999", "1.5"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := ParseRetryAfter(v, now); d < 0 {
			t.Fatalf("%q: negative wait %v", v, d)
		}
	})
}
