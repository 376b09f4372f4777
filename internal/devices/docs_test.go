package devices

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated tables of docs/devices.md")

const docsPath = "../../docs/devices.md"

// The rule and OS tables of docs/devices.md are generated from the code,
// so that the two cannot drift: go test ./internal/devices -run TestDocs -update.
func TestDocsTables(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, sec := range []struct{ name, body string }{
		{"rules", renderRules()},
		{"os-tables", renderOSTables()},
	} {
		begin, end := "<!-- BEGIN GENERATED: "+sec.name+" -->\n", "<!-- END GENERATED: "+sec.name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s: no %q … %q markers", docsPath, begin, end)
		}
		if got := doc[i+len(begin) : j]; got != sec.body {
			if !*update {
				t.Errorf("%s: the %s table differs from the code; run go test ./internal/devices -run TestDocs -update", docsPath, sec.name)
				continue
			}
			doc = doc[:i+len(begin)] + sec.body + doc[j:]
		}
	}
	if *update {
		if err := os.WriteFile(docsPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every field of the profile is documented.
func TestDocsProfileFields(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || ty.PkgPath() != reflect.TypeFor[Profile]().PkgPath() || seen[ty] {
			return
		}
		seen[ty] = true
		for i := range ty.NumField() {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(doc, "`"+path+name+"`") {
				t.Errorf("%s: profile field `%s%s` is not documented", docsPath, path, name)
			}
			walk(f.Type, path+name+".")
		}
	}
	walk(reflect.TypeFor[Profile](), "")
	for _, c := range Categories {
		if !strings.Contains(doc, "`"+c+"`") {
			t.Errorf("%s: category %s is not documented", docsPath, c)
		}
	}
}

func renderRules() string {
	var b strings.Builder
	b.WriteString("| rule | category | score | signal | matches |\n|---|---|---|---|---|\n")
	for _, r := range Rules {
		what := r.Doc
		if len(r.Values) > 0 {
			vals := make([]string, len(r.Values))
			for i, v := range r.Values {
				vals[i] = "`" + strings.ReplaceAll(v, "|", `\|`) + "`"
			}
			if what != "" {
				what += ": "
			}
			what += strings.Join(vals, ", ")
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %.2f | %s | %s |\n", r.ID, r.Category, r.Score, r.Signal, what)
	}
	return b.String()
}

func renderOSTables() string {
	var b strings.Builder
	table := func(title, matchHead string, rows []OSSignal, extra func(i int) string) {
		fmt.Fprintf(&b, "%s\n\n| entry | OS | weight | %s | source |\n|---|---|---|---|---|\n", title, matchHead)
		for i, r := range rows {
			m := "`" + r.Match + "`"
			if r.Match == "" {
				m = "(none)"
			}
			if extra != nil {
				m += extra(i)
			}
			fmt.Fprintf(&b, "| `%s` | %s | %.2f | %s | %s |\n", r.Name, r.OS, r.Weight, m, r.Source)
		}
		b.WriteString("\n")
	}
	table("Initial TTL (the observed TTL rounded up to 32, 64, 128 or 255):", "initial TTL", ttlSignals, nil)
	tcp := make([]OSSignal, len(tcpSignals))
	for i := range tcpSignals {
		tcp[i] = tcpSignals[i].OSSignal
	}
	table("TCP SYN (client side) and SYN-ACK (server side) option layouts, first match wins:", "options", tcp, func(i int) string {
		s := ""
		if tcpSignals[i].SynAck {
			s += " SYN-ACK"
		} else {
			s += " SYN"
		}
		if w := tcpSignals[i].Windows; w != nil {
			ws := make([]string, len(w))
			for j, x := range w {
				if n, ok := strings.CutPrefix(x, "mss"); ok {
					x = n + " × MSS"
				}
				ws[j] = x
			}
			s += ", window " + strings.Join(ws, " or ")
		}
		return s
	})
	table("DHCP parameter request list (option 55; `=` exact, `^` prefix), first match wins:", "list", dhcpSignals, nil)
	table("DHCP vendor class (option 60), by prefix:", "prefix", dhcpVendorSignals, nil)
	table("HTTP User-Agent, by substring, first match per agent:", "substring", userAgentSignals, nil)
	table("SSH identification string, by substring:", "substring", sshSignals, nil)
	table("Host names (lower-cased), by substring:", "substring", hostnameSignals, nil)
	table("Names looked up or connected to (DNS queries, SNIs, HTTP hosts), the name or a subdomain:", "domain", domainSignals, nil)
	table("Request hints (tell-tale URIs, see `hints`):", "hint", hintSignals, nil)
	table("HTTP Server headers the device sent, by substring:", "substring", serverBannerSignals, nil)
	return strings.TrimSuffix(b.String(), "\n")
}
