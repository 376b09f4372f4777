package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/osprey-ndr/osprey/internal/detect"
	"github.com/osprey-ndr/osprey/internal/schema"
	"github.com/osprey-ndr/osprey/internal/store"
)

// example is one valid request of a route, by a caller of tenant self,
// naming the records of tenant target where the route takes an id. ids
// picks between what self's own calls use and what cross-tenant calls
// use, so that the latter can be checked untouched afterwards.
type example func(t *testing.T, f *fixture, self, target string) (path, body string)

func idFor(self, target, own, cross string) string {
	if self == target {
		return own
	}
	return cross
}

var examples = map[string]example{
	"GET /api/v1/openapi.json": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/openapi.json", "" },
	"GET /api/v1/whoami":       func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/whoami", "" },
	"GET /api/v1/sessions": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/sessions?limit=200&filter=" + urlq("dst.port in (22, 443)"), ""
	},
	"GET /api/v1/sessions/top": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/sessions/top?dimension=device&limit=50", ""
	},
	"GET /api/v1/sessions/series": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/sessions/series?dimension=src.ip&step=10m&limit=20", ""
	},
	"GET /api/v1/sessions/matrix": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/sessions/matrix?group=tag&by=sessions", ""
	},
	"GET /api/v1/overview": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/overview?since=6h", "" },
	"GET /api/v1/devices":  func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/devices", "" },
	"GET /api/v1/devices/{id}": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/devices/asset:i-" + target + "-1", ""
	},
	"GET /api/v1/devices/{id}/timeline": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/devices/asset:i-" + target + "-1/timeline?step=10m", ""
	},
	"GET /api/v1/findings": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/findings?limit=1000", "" },
	"GET /api/v1/findings/{id}": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/findings/f-" + target + "-03", ""
	},
	"POST /api/v1/findings/{id}/ack": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/findings/f-" + target + idFor(self, target, "-04", "-10") + "/ack", ""
	},
	"POST /api/v1/findings/{id}/verdict": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/findings/f-" + target + idFor(self, target, "-05", "-11") + "/verdict", `{"verdict": "true_positive", "note": "walk"}`
	},
	"GET /api/v1/suppressions": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/suppressions", "" },
	"DELETE /api/v1/suppressions/{id}": func(t *testing.T, f *fixture, self, target string) (string, string) {
		s, err := detect.SuppressionFor(findingOf(t, f, target, "f-"+target+"-20"), detect.FalsePositive, "walk "+self, now, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := detect.AddToSuppressionFile(f.sups, s); err != nil {
			t.Fatal(err)
		}
		return "/api/v1/suppressions/" + s.ID, ""
	},
	"GET /api/v1/policies": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/policies", "" },
	"POST /api/v1/policies/validate": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/policies/validate", "version: 1\nrules:\n  - name: telnet\n    deny: {to: {port: 23}}\n"
	},
	"POST /api/v1/policies/whatif": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/policies/whatif?since=6h&examples=3", "version: 1\nname: adhoc\nrules:\n  - name: modbus\n    deny: {to: {port: 502}}\n"
	},
	"GET /api/v1/segmentation/recommendations": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/segmentation/recommendations?since=6h&min_sessions=2", ""
	},
	"GET /api/v1/segmentation/capacity": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/segmentation/capacity?since=6h", ""
	},
	"GET /api/v1/sources": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/sources", "" },
	"POST /api/v1/ingest/metrics": func(_ *testing.T, _ *fixture, self, target string) (string, string) {
		return "/api/v1/ingest/metrics", fmt.Sprintf(`[{"tenant": %q, "device": "ingested-%s", "name": "aws:num-listening-tcp-ports", "value": 4}]`, target, target)
	},
	"GET /api/v1/tokens": func(*testing.T, *fixture, string, string) (string, string) { return "/api/v1/tokens", "" },
	"POST /api/v1/tokens": func(*testing.T, *fixture, string, string) (string, string) {
		return "/api/v1/tokens", `{"name": "walk", "role": "viewer", "expires_in": "7d"}`
	},
	"DELETE /api/v1/tokens/{id}": func(t *testing.T, f *fixture, self, target string) (string, string) {
		_, tok, err := f.tokens.Create("to-revoke", target, Viewer, time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		return "/api/v1/tokens/" + tok.ID, ""
	},
	"GET /metrics": func(*testing.T, *fixture, string, string) (string, string) { return "/metrics", "" },
}

// carriesOwn are the routes whose answers must hold the caller's own
// records (so that an empty answer does not pass for a safe one).
var carriesOwn = map[string]bool{
	"GET /api/v1/sessions": true, "GET /api/v1/sessions/top": true, "GET /api/v1/sessions/series": true,
	"GET /api/v1/sessions/matrix": true, "GET /api/v1/overview": true, "GET /api/v1/devices": true,
	"GET /api/v1/devices/{id}": true, "GET /api/v1/devices/{id}/timeline": true, "GET /api/v1/findings": true,
	"GET /api/v1/findings/{id}": true, "POST /api/v1/findings/{id}/ack": true, "POST /api/v1/findings/{id}/verdict": true,
	"GET /api/v1/sources": true, "GET /api/v1/whoami": true, "GET /api/v1/segmentation/recommendations": true, "GET /api/v1/segmentation/capacity": true, "GET /api/v1/tokens": true, "POST /api/v1/tokens": true,
}

func urlq(s string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", ",", "%2C", "=", "%3D").Replace(s)
}

func findingOf(t *testing.T, f *fixture, tenant, id string) schema.Finding {
	t.Helper()
	page, err := f.st.Findings(t.Context(), store.FindingQuery{Scope: store.Scope{Tenant: tenant}, ID: id})
	if err != nil || len(page.Findings) != 1 {
		t.Fatalf("finding %s of %s: %v, %d", id, tenant, err, len(page.Findings))
	}
	return page.Findings[0]
}

func hasID(path string) bool { return strings.Contains(path, "{id}") }

// TestWalk calls every route of the table with the tokens of both
// tenants in every role, without a token and with a bad one, naming the
// caller's own records and the other tenant's: roles get what they may
// and are refused the rest, no answer carries the other tenant's
// records, ids of the other tenant are as unknown as ids that never
// existed, and nothing of the other tenant changes.
func TestWalk(t *testing.T) {
	f := shared
	for _, rt := range f.srv.Routes() {
		key := rt.Method + " " + rt.Path
		ex, ok := examples[key]
		if !ok {
			t.Errorf("%s has no example in TestWalk: every route is walked", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			path, body := ex(t, f, "alpha", "alpha")
			if rt.Access != Public {
				for name, secret := range map[string]string{"none": "", "bad": "osp_" + strings.Repeat("A", 43), "garbage": "hunter2"} {
					if code, resp := f.do(t, rt.Method, path, secret, body); code != http.StatusUnauthorized || !strings.Contains(resp, `"unauthenticated"`) {
						t.Errorf("token %s: %d %s, want 401 unauthenticated", name, code, resp)
					}
				}
			}
			for self := range tenants {
				for _, role := range Roles {
					secret := f.secrets[self][role]
					for target := range tenants {
						if target != self && !hasID(rt.Path) && rt.Path != "/api/v1/ingest/metrics" {
							continue
						}
						path, body := ex(t, f, self, target)
						code, resp := f.do(t, rt.Method, path, secret, body)
						who := fmt.Sprintf("%s %s → %s", self, role, target)
						want := rt.Status
						if want == 0 {
							want = http.StatusOK
						}
						switch {
						case !rt.Access.Allows(role):
							want = http.StatusForbidden
						case target != self && rt.Path == "/api/v1/ingest/metrics":
							want = http.StatusForbidden
						case target != self:
							want = http.StatusNotFound
						}
						if code != want {
							t.Errorf("%s: %d, want %d: %.300s", who, code, want, resp)
							continue
						}
						if target != self && want == http.StatusNotFound {
							// The answer is the one for an id that never existed.
							id := strings.Split(strings.Split(path, "?")[0], "/")[4] // /api/v1/<things>/<id>[/…]
							ghost := strings.Replace(path, id, "never-"+self, 1)
							gcode, gresp := f.do(t, rt.Method, ghost, secret, body)
							if gcode != code || strings.ReplaceAll(gresp, "never-"+self, id) != resp {
								t.Errorf("%s: the other tenant's id answers %d %s; an unknown id %d %s", who, code, resp, gcode, gresp)
							}
							continue
						}
						if code < 300 && carriesOwn[key] && !strings.Contains(resp, tenants[self].net) && !strings.Contains(resp, self) {
							t.Errorf("%s: the answer has none of the tenant's own records: %.300s", who, resp)
						}
						o := tenants[other(self)]
						if strings.Contains(resp, o.name) || strings.Contains(resp, o.net) {
							t.Errorf("%s: the answer carries %s's records: %.500s", who, o.name, resp)
						}
						if code < 300 && rt.Access.Allows(role) && rt.Access != Public {
							// The tenant parameter may repeat the token's tenant, never name another.
							sep := "?"
							if strings.Contains(path, "?") {
								sep = "&"
							}
							if rt.Method == "GET" {
								if c2, r2 := f.do(t, rt.Method, path+sep+"tenant="+self, secret, body); c2 != code {
									t.Errorf("%s: tenant=%s: %d %s", who, self, c2, r2)
								}
							}
							if c2, r2 := f.do(t, rt.Method, path+sep+"tenant="+other(self), secret, body); c2 != http.StatusForbidden || !strings.Contains(r2, `"param":"tenant"`) {
								t.Errorf("%s: tenant=%s: %d %s, want 403 naming tenant", who, other(self), c2, r2)
							}
						}
					}
				}
			}
		})
	}
	for key := range examples {
		found := false
		for _, rt := range f.srv.Routes() {
			found = found || rt.Method+" "+rt.Path == key
		}
		if !found {
			t.Errorf("example %s has no route", key)
		}
	}
	// What the cross-tenant calls named is as it was.
	for tenant := range tenants {
		for _, id := range []string{"f-" + tenant + "-10", "f-" + tenant + "-11"} {
			if s := findingOf(t, f, tenant, id).State; s != "active" {
				t.Errorf("%s of %s is %s after the other tenant's calls", id, tenant, s)
			}
		}
		toks, _ := f.tokens.List(tenant)
		n := 0
		for _, tok := range toks {
			if tok.Name == "to-revoke" {
				n++
			}
		}
		// Each tenant revoked its own (4 allowed attempts: admin only →
		// 1 of 4 roles; the 3 refused and the cross-tenant ones remain).
		if n == 0 {
			t.Errorf("%s: the other tenant revoked its tokens", tenant)
		}
		page, err := f.st.Findings(t.Context(), store.FindingQuery{Scope: store.Scope{Tenant: tenant}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range page.Findings {
			if fd.Tenant != tenant || !strings.Contains(fd.ID, tenant) {
				t.Errorf("tenant %s holds %s (tenant %q)", tenant, fd.ID, fd.Tenant)
			}
		}
	}
}

// The audit log has a line for every change tried, allowed or not.
func TestAudit(t *testing.T) {
	f := shared
	code, _ := f.do(t, "POST", "/api/v1/findings/f-alpha-06/ack", f.secrets["alpha"][Analyst], "")
	if code != 200 {
		t.Fatalf("ack: %d", code)
	}
	code, _ = f.do(t, "POST", "/api/v1/findings/f-alpha-07/ack", f.secrets["alpha"][Viewer], "")
	if code != 403 {
		t.Fatalf("viewer ack: %d", code)
	}
	data := mustRead(t, f.audit)
	var got []AuditEntry
	for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
		var e AuditEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("audit line %q: %v", l, err)
		}
		got = append(got, e)
	}
	var ok, denied bool
	for _, e := range got {
		if e.Path == "/api/v1/findings/f-alpha-06/ack" && e.Outcome == "ok" && e.Tenant == "alpha" && e.Role == Analyst && e.Target == "f-alpha-06" && e.TokenID != "" {
			ok = true
		}
		if e.Path == "/api/v1/findings/f-alpha-07/ack" && e.Outcome == "denied" && e.Status == 403 && e.Role == Viewer {
			denied = true
		}
		if e.Method == "GET" {
			t.Errorf("a read was audited: %+v", e)
		}
	}
	if !ok || !denied {
		t.Errorf("audit lacks the ack (%v) or the denied ack (%v) in %d lines", ok, denied, len(got))
	}
}
