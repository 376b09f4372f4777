package flowlog

import (
	"bufio"
	"context"
	"errors"
)

func (r *Reader) readGCP(context.Context, *bufio.Reader) error { return errors.New("gcp: not yet") }
