package duckdb

import (
	"runtime"
	"syscall"
)

// writeNice is how far below the process's CPU priority a batch is
// written: 10 gives it about a tenth of a core's share against a query
// that wants the same core.
const writeNice = 10

// background runs f on an OS thread of its own at a lower CPU priority.
// DuckDB runs a statement on its caller's thread (one thread a query),
// so under load the kernel lets the queries go first and the write takes
// the CPU they leave; idle, it takes all. Lowering a thread's priority
// needs no privilege, raising it back does: the thread is never handed
// back to Go and ends with the goroutine.
func background(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked
		tid := syscall.Gettid()
		prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		if err == nil { // the raw value is 20 - nice
			_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 20-prio+writeNice) // best effort: a refusal leaves it as it was
		}
		f()
	}()
	<-done
}
