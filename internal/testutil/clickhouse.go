package testutil

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ClickHouseServer is a clickhouse-server started for one test on
// loopback, in a directory of its own; it stops when the test ends.
type ClickHouseServer struct {
	Addr string // native protocol, host:port
	HTTP string // HTTP interface, host:port
	dir  string
}

// ClickHouse starts one server (Debian's clickhouse-server, 18.16).
func ClickHouse(tb testing.TB) *ClickHouseServer {
	return ClickHouseCluster(tb, 1)[0]
}

// ClickHouseCluster starts n servers that each know the cluster
// "osprey_cluster" with every server as one shard, for Distributed tables.
func ClickHouseCluster(tb testing.TB, n int) []*ClickHouseServer {
	tb.Helper()
	bin := "/usr/sbin/clickhouse-server"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("clickhouse-server"); err != nil {
			Missing(tb, "clickhouse-server (Debian package clickhouse-server)")
		}
	}
	servers := make([]*ClickHouseServer, n)
	ports := freePorts(tb, 3*n)
	var shards strings.Builder
	for i := range servers {
		servers[i] = &ClickHouseServer{
			Addr: fmt.Sprintf("127.0.0.1:%d", ports[3*i]),
			HTTP: fmt.Sprintf("127.0.0.1:%d", ports[3*i+1]),
			dir:  tb.TempDir(),
		}
		fmt.Fprintf(&shards, "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", ports[3*i])
	}
	for i, s := range servers {
		s.start(tb, bin, ports[3*i+2], shards.String())
	}
	return servers
}

func (s *ClickHouseServer) start(tb testing.TB, bin string, interserver int, shards string) {
	tb.Helper()
	for _, d := range []string{"data", "tmp", "user_files", "log"} {
		if err := os.MkdirAll(filepath.Join(s.dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	_, tcp, _ := net.SplitHostPort(s.Addr)
	_, httpPort, _ := net.SplitHostPort(s.HTTP)
	config := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/log/server.log</log><errorlog>%[1]s/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]s</tcp_port>
  <http_port>%[3]s</http_port>
  <interserver_http_port>%[4]d</interserver_http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <remote_servers><osprey_cluster>%[5]s</osprey_cluster></remote_servers>
</yandex>
`, s.dir, tcp, httpPort, interserver, shards)
	users := `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`
	for name, body := range map[string]string{"config.xml": config, "users.xml": users} {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--config-file="+filepath.Join(s.dir, "config.xml"))
	cmd.Dir = s.dir
	out, err := os.Create(filepath.Join(s.dir, "log", "stdout.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("clickhouse-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + s.HTTP + "/?query=SELECT%201")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-exited:
			tb.Fatalf("clickhouse-server exited at start:\n%s", s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("clickhouse-server did not answer on %s within 60 s:\n%s", s.HTTP, s.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail is the end of the server's error log, for failures.
func (s *ClickHouseServer) logTail() string {
	var b []byte
	for _, f := range []string{"error.log", "stdout.log"} {
		d, _ := os.ReadFile(filepath.Join(s.dir, "log", f))
		b = append(b, d...)
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// freePorts reserves n distinct loopback ports (released for the servers
// to bind; a race with another process is possible but unlikely).
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
