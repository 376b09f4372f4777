package defender

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/osprey-ndr/osprey/internal/collect"
)

// Run starts what the configuration asks for — the embedded broker or
// the external client, the HTTP listener, the cloud-side feeds — and the
// writer. With a broker, client or listener it runs until ctx is done;
// with only feeds, until they are read. On the way out it stops taking
// input, writes what was accepted and answers it, then closes the broker.
func (c *Collector) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan struct{})
	go func() { c.write(ctx); close(written) }()

	errs := make(chan error, 2+len(c.cfg.Cloud))
	var stopMQTT, stopHTTP func()
	err := c.start(ctx, errs, &stopMQTT, &stopHTTP)
	close(c.ready)
	if err == nil {
		err = c.serve(ctx, errs, stopMQTT != nil || stopHTTP != nil)
	}
	cancel()
	if stopHTTP != nil {
		stopHTTP()
	}
	c.closeQueue()
	<-written
	if stopMQTT != nil {
		stopMQTT()
	}
	return err
}

func (c *Collector) start(ctx context.Context, errs chan<- error, stopMQTT, stopHTTP *func()) error {
	var err error
	switch c.cfg.MQTT.Mode {
	case "embedded":
		*stopMQTT, err = c.startBroker(ctx)
	case "external":
		*stopMQTT = c.startExternal(ctx, errs)
	}
	if err != nil {
		return err
	}
	if c.cfg.HTTP.Listen != "" {
		*stopHTTP, err = c.startHTTP(errs)
	}
	return err
}

// serve reads the feeds, then waits for ctx or a listener's failure when
// there are servers.
func (c *Collector) serve(ctx context.Context, errs chan error, servers bool) error {
	var wg sync.WaitGroup
	for _, path := range c.cfg.Cloud {
		wg.Go(func() {
			if err := c.readFeedPath(ctx, path); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
			}
		})
	}
	feedsDone := make(chan struct{})
	go func() { wg.Wait(); close(feedsDone) }()
	if !servers {
		select {
		case <-feedsDone:
			return nil
		case err := <-errs:
			return err
		case <-ctx.Done():
			return nil
		}
	}
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Addrs returns the addresses the broker and the HTTP listener bound
// ("" for none), once Run has started them or failed to.
func (c *Collector) Addrs(ctx context.Context) (mqtt, http string, err error) {
	select {
	case <-c.ready:
		return c.mqttAddr, c.httpAddr, nil
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
}

func (c *Collector) readFeedPath(ctx context.Context, path string) error {
	if path == "-" {
		return c.readFeed(ctx, os.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("defender.cloud: %w", err)
	}
	defer f.Close()
	return c.readFeed(ctx, f, path)
}

// readFeed queues the metrics of each line of a cloud-side feed; a bad
// line is set aside and the next one read.
func (c *Collector) readFeed(ctx context.Context, r io.Reader, source string) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var lineNo, offset int64
	for {
		line, n, tooLong, err := readLine(br, c.cfg.MaxReportBytes)
		if n > 0 {
			lineNo++
			if err := c.feedLine(ctx, source, lineNo, offset, line, tooLong); err != nil {
				return err
			}
			offset += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("defender: reading %s: %w", source, err)
		}
	}
}

func (c *Collector) feedLine(ctx context.Context, source string, lineNo, offset int64, line []byte, tooLong bool) error {
	line = bytes.TrimRight(line, "\r\n")
	if !tooLong && len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	c.count.cloudLines.Inc()
	var err error
	var p pending
	if tooLong {
		err = invalid("", fmt.Sprintf("line longer than max_report_bytes (%d)", c.cfg.MaxReportBytes))
	} else {
		p.metrics, err = ParseCloudLine(nil, line, c.cfg.Tenant, c.cfg.MaxListEntries)
	}
	if err != nil {
		re := err.(*ReportError)
		c.count.cloudRejected.Inc()
		c.rejects.Reject(collect.BadInput{Kind: "defender", Source: source, Line: lineNo, Offset: offset, Field: re.Field, Err: re, Raw: line})
		return nil
	}
	p.transport = "cloud"
	return c.enqueue(ctx, p)
}

// readLine reads one line of at most limit bytes (the rest of a longer
// one is skipped). n counts every byte consumed, newline included.
func readLine(br *bufio.Reader, limit int) (line []byte, n int, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if !tooLong {
			if len(line)+len(chunk) > limit+2 { // room for \r\n
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			return line, n, tooLong, err
		}
	}
}
