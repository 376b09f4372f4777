package api

import (
	"net/http"
	"strings"

	"github.com/osprey-ndr/osprey/web/console"
)

// root answers what no route took: the API's 404 under /api/ and for
// other methods, the web console (docs/console.md) for the rest. The
// console's files are public: it holds no data, and asks for a token
// before its first call.
func (s *Server) root() http.Handler {
	ui := console.Default()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			writeError(w, notFound("no route %s", r.URL.Path))
			return
		}
		ui.ServeHTTP(w, r)
	})
}
