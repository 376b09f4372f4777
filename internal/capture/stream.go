package capture

import (
	"errors"
	"fmt"
	"io"
)

// readerBuf is the buffer size: a whole record or block plus the header
// of the next one must fit, to validate resynchronisation candidates.
const readerBuf = 2*maxCaplen + 64

var errPeekTooLarge = errors.New("peek larger than the buffer")

// stream is the readers' input: a buffer over an io.Reader that keeps the
// byte offset (for error messages) and a sticky error. bufio.Reader was
// not kept because it forgets io.EOF once reported: every later Peek past
// the end slides the whole buffer again, which made resynchronising
// through damage near the end of a file quadratic.
type stream struct {
	name   string
	src    io.Reader
	buf    []byte
	r, w   int   // unread bytes are buf[r:w]
	err    error // sticky: once the source fails or ends, it is not read again
	off    int64 // offset of buf[r] in the input
	skip   uint64
	report func(error)
}

func newStream(name string, src io.Reader, report func(error)) stream {
	return stream{name: name, src: src, buf: make([]byte, readerBuf), report: report}
}

func (s *stream) skipped() uint64 { return s.skip }

// peek returns the next n bytes without consuming them, or fewer and the
// error that stopped reading. The bytes stay valid until the next peek.
func (s *stream) peek(n int) ([]byte, error) {
	if n > len(s.buf) {
		return s.buf[s.r:s.w], errPeekTooLarge
	}
	if s.w-s.r < n && s.err == nil {
		if s.r+n > len(s.buf) { // no room after the unread bytes: slide them
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		}
		for s.w-s.r < n && s.err == nil {
			m, err := s.src.Read(s.buf[s.w:])
			s.w += m
			if err != nil {
				s.err = err
			} else if m == 0 {
				s.err = io.ErrNoProgress
			}
		}
	}
	if s.w-s.r < n {
		return s.buf[s.r:s.w], s.err
	}
	return s.buf[s.r : s.r+n], nil
}

// discard consumes n bytes, fewer at the end of the input.
func (s *stream) discard(n int) {
	for n > 0 {
		if s.r == s.w {
			if _, err := s.peek(min(n, len(s.buf))); err != nil && s.r == s.w {
				return
			}
		}
		m := min(n, s.w-s.r)
		s.r += m
		s.off += int64(m)
		n -= m
	}
}

func (s *stream) errorf(off int64, format string, args ...any) error {
	return fmt.Errorf("%s: offset %d: "+format, append([]any{s.name, off}, args...)...)
}

// end turns the error that stopped reading at a record boundary into the
// result of next: io.EOF at a clean end, else the error (a broken gzip
// stream, a failing disk) with the offset.
func (s *stream) end(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return s.errorf(s.off, "read: %w", err)
}
