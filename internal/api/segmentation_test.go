package api

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect/policy"
	"github.com/osprey-ndr/osprey/internal/segment"
)

// The answers have the shapes the console reads, from the fixture's own
// tenant: plant → dc over TCP 22, 443, 502 and 1883, 100 sessions each.
func TestSegmentation(t *testing.T) {
	f := shared
	code, body := f.do(t, "GET", "/api/v1/segmentation/recommendations?since=6h", f.secrets["alpha"][Viewer], "")
	if code != 200 {
		t.Fatalf("recommendations: %d %s", code, body)
	}
	var rec struct {
		Items []struct {
			Src, Dst string
			Ports    []struct {
				Proto           string
				Port            int
				Sessions, Bytes uint64
			}
			Sessions, Bytes uint64
		}
		Policy string
	}
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Items) != 1 || rec.Items[0].Src != "alpha-plant" || rec.Items[0].Dst != "alpha-dc" || rec.Items[0].Sessions != 400 || len(rec.Items[0].Ports) != 4 {
		t.Fatalf("recommendations: %s", body)
	}
	for i, port := range []int{22, 443, 502, 1883} {
		if p := rec.Items[0].Ports[i]; p.Proto != "tcp" || p.Port != port || p.Sessions != 100 || p.Bytes == 0 {
			t.Errorf("port %d: %+v", i, p)
		}
	}
	if _, err := policy.Load("recommended.yaml", []byte(rec.Policy)); err != nil {
		t.Errorf("the proposed policy does not load: %v", err)
	}
	if !strings.Contains(body, `"ports":[{"proto":"tcp","port":22,"sessions":100,"bytes":`) {
		t.Errorf("field names: %.300s", body)
	}
	code, body = f.do(t, "GET", "/api/v1/segmentation/recommendations?min_sessions=0", f.secrets["alpha"][Viewer], "")
	if code != 400 || !strings.Contains(body, `"param":"min_sessions"`) {
		t.Errorf("min_sessions=0: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/segmentation/recommendations?min_sessions=101", f.secrets["alpha"][Viewer], "")
	if code != 200 || !strings.Contains(body, `"items":[]`) {
		t.Errorf("min_sessions=101: %d %s", code, body)
	}

	// The fixture's server has no links: the pair reports throughput only.
	code, body = f.do(t, "GET", "/api/v1/segmentation/capacity?since=6h", f.secrets["alpha"][Viewer], "")
	if code != 200 || !strings.Contains(body, `{"items":[{"name":"alpha-plant → alpha-dc","src":"alpha-plant","dst":"alpha-dc","bandwidth_bps":0,"peak_bps":`) ||
		!strings.Contains(body, `"utilisation":0,"warning":false}]}`) {
		t.Errorf("capacity without links: %d %s", code, body)
	}

	// With a link, and a bandwidth at which it warns.
	srv, err := New(Config{AuditLog: filepath.Join(t.TempDir(), "audit.jsonl")}, Deps{Store: f.st, Tokens: f.tokens, Now: func() time.Time { return now },
		Segmentation: segment.Config{Links: []segment.Link{{Name: "plant-uplink", Src: []string{"alpha-plant", "bravo-plant"}, Dst: []string{"alpha-dc"}, BandwidthBps: 1000}}}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	g := *f
	g.http = hs
	code, body = g.do(t, "GET", "/api/v1/segmentation/capacity?since=6h", f.secrets["alpha"][Viewer], "")
	var capa segment.CapacityReport
	if err := json.Unmarshal([]byte(body), &capa); err != nil || code != 200 {
		t.Fatalf("capacity: %d %s %v", code, body, err)
	}
	if len(capa.Items) != 1 {
		t.Fatalf("capacity with a link: %s", body)
	}
	l := capa.Items[0]
	if l.Name != "plant-uplink" || l.Src != "alpha-plant,bravo-plant" || l.BandwidthBps != 1000 || l.PeakBps <= 0 || l.P95Bps <= 0 || l.PeakBps < l.P95Bps ||
		l.Utilisation != l.P95Bps/1000 || l.Warning != (l.Utilisation >= 0.6) {
		t.Errorf("link: %+v", l)
	}
	if strings.Contains(body, "bravo-plant →") {
		t.Errorf("the other tenant's pair: %s", body)
	}
}
