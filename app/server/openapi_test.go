package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/app/engine"
)

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml and the routes
// together: every path and method it describes is served (not the
// catch-all 404 or a 405), and every route the server has is described.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := newLocalRig(t, engine.Config{})
	rt := &routes{e: r.e, insp: r.l.insp, inspOn: func() bool { return true }, limiter: newLimiter()}
	h := rt.handler()
	pathRE := regexp.MustCompile(`(?m)^  (/[^:]*):$`)
	methodRE := regexp.MustCompile(`(?m)^    (get|put|post|delete):`)
	paths := pathRE.FindAllStringSubmatchIndex(string(doc), -1)
	var described []string
	for i, m := range paths {
		path := string(doc[m[2]:m[3]])
		described = append(described, path)
		end := len(doc)
		if i+1 < len(paths) {
			end = paths[i+1][0]
		}
		if c := strings.Index(string(doc[m[1]:end]), "\ncomponents:"); c >= 0 {
			end = m[1] + c
		}
		methods := methodRE.FindAllStringSubmatch(string(doc[m[1]:end]), -1)
		if len(methods) == 0 {
			t.Errorf("%s: no methods described", path)
		}
		concrete := strings.NewReplacer("{token}", strings.Repeat("0", 48), "{id}", "ffffffffffffffff", "{bin}", "demo").Replace(path)
		for _, mm := range methods {
			method := strings.ToUpper(mm[1])
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(method, "http://127.0.0.1"+concrete, nil))
			if w.Code == http.StatusMethodNotAllowed || strings.Contains(w.Body.String(), "nothing here") {
				t.Errorf("%s %s is described but not served: %d %s", method, path, w.Code, w.Body)
			}
		}
	}
	for _, route := range []string{"/callback/{token}", "/api/v1/targets/{id}/url", "/inspect/{bin}"} {
		found := false
		for _, d := range described {
			found = found || d == route
		}
		if !found {
			t.Errorf("route %s is not in docs/openapi.yaml", route)
		}
	}
}
