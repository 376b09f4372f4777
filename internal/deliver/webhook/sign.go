package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Sign is the signature header's value for a body sent at ts (Unix
// seconds): "sha256=" and the hex HMAC-SHA256, keyed by secret, of the
// timestamp, a dot and the body. Signing the timestamp with the body is
// what makes a captured request useless once the receiver's tolerance
// has passed.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("timestamp outside the tolerance")
)

// Verify is what a receiver runs on a request: the timestamp header's
// value must be within tolerance of now, and the signature header's
// value the HMAC of that timestamp and the body (compared in constant
// time). docs/outputs.md shows it in a receiver.
func Verify(secret []byte, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: not Unix seconds", tsHeader)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %d, %v from now", ErrStale, ts, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(strings.TrimSpace(sigHeader))) {
		return ErrBadSignature
	}
	return nil
}
