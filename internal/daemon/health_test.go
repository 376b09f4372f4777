package daemon

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealth(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "osprey_test_total", Help: "test"})
	reg.MustRegister(c)
	h := NewHealth(reg)
	if err := h.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	base := "http://" + h.Addr()

	if code, _ := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("before ready: %d, want 503", code)
	}
	h.SetReady(true)
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || !strings.Contains(body, `"healthy":true`) {
		t.Errorf("ready: %d %s", code, body)
	}
	h.Register("udp", func() error { return errors.New("socket closed") })
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "socket closed") {
		t.Errorf("failing check: %d %s", code, body)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "osprey_test_total") {
		t.Errorf("metrics: %d %s", code, body)
	}
}
