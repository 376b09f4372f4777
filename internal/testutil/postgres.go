package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// PostgresServer is a throwaway PostgreSQL started for one test on
// loopback; it stops when the test ends.
type PostgresServer struct {
	DSN string // pgx URL of database "osprey", user "osprey"
}

const pgBin = "/usr/lib/postgresql/15/bin"

// Postgres starts Debian's PostgreSQL 15 in a directory of its own, tuned
// for tests (no fsync). PostgreSQL refuses to run as root, so as root it
// runs as the postgres user.
func Postgres(tb testing.TB) *PostgresServer {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "postgres")); err != nil {
		Missing(tb, "PostgreSQL 15 (Debian package postgresql)")
	}
	// The data directory must be reachable by the postgres user, which
	// tb.TempDir's parents may not be.
	dir, err := os.MkdirTemp("", "osprey-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	run := func(name string, args ...string) *exec.Cmd { return exec.Command(filepath.Join(pgBin, name), args...) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(tb, "the postgres system user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(pgBin, name)}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run("initdb", "-D", data, "-A", "trust", "-U", "osprey", "--encoding=UTF8", "--locale=C").CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePorts(tb, 1)[0]
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB -c max_wal_size=4GB -c work_mem=64MB", port, dir)
	if out, err := run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	tb.Cleanup(func() { run("pg_ctl", "stop", "-m", "immediate", "-D", data).Run() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "osprey", "osprey").CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("createdb: %v\n%s", err, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return &PostgresServer{DSN: fmt.Sprintf("postgres://osprey@127.0.0.1:%d/osprey?sslmode=disable", port)}
}
