package main

import (
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"
)

// bytesReader is what the progress bar needs from a source: how many
// input bytes it has consumed so far (safe to call concurrently).
type bytesReader interface{ BytesRead() int64 }

// showProgress draws a progress bar over the input files' total size on w
// until the returned stop function is called. Stdin has no size: the bar
// then shows bytes read without a total.
func showProgress(w io.Writer, paths []string, src bytesReader) (stop func()) {
	total := int64(0)
	for _, p := range paths {
		if p == "-" {
			total = -1
			break
		}
		_ = filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
	}
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = bar.Set64(src.BytesRead())
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		_ = bar.Finish()
	}
}
