package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/buttonhook/buttonhook/app/engine"
)

// openAPIOps reads the operations of docs/openapi.yaml: for each path,
// each method's response codes. It reads the file's layout (paths at two
// spaces, methods at four, response codes at eight), which the file keeps.
func openAPIOps(t *testing.T) map[string]map[string][]string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pathRE := regexp.MustCompile(`^  (/[^:]*):\s*$`)
	keyRE := regexp.MustCompile(`^    ([a-z]+):`)
	codeRE := regexp.MustCompile(`^        '(\d{3})':`)
	ops := map[string]map[string][]string{}
	var path, method string
	for _, line := range strings.Split(string(doc), "\n") {
		if line == "components:" {
			break
		}
		if m := pathRE.FindStringSubmatch(line); m != nil {
			path, method = m[1], ""
			ops[path] = map[string][]string{}
		} else if m := keyRE.FindStringSubmatch(line); m != nil && path != "" {
			method = ""
			switch m[1] {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				method = strings.ToUpper(m[1])
				ops[path][method] = []string{}
			}
		} else if m := codeRE.FindStringSubmatch(line); m != nil && method != "" {
			ops[path][method] = append(ops[path][method], m[1])
		}
	}
	if len(ops) == 0 {
		t.Fatal("docs/openapi.yaml describes no paths")
	}
	return ops
}

// registeredRoutes lists the patterns (routes).handler registers, read
// from its source.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "handler" || fn.Recv == nil || !isRoutes(fn.Recv.List[0].Type) {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				lit, isLit := call.Args[0].(*ast.BasicLit)
				if ok && (sel.Sel.Name == "HandleFunc" || sel.Sel.Name == "Handle") && isLit && lit.Kind == token.STRING {
					p, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					patterns = append(patterns, p)
				}
				return true
			})
		}
	}
	if len(patterns) == 0 {
		t.Fatal("found no routes in (*routes).handler")
	}
	return patterns
}

func isRoutes(e ast.Expr) bool {
	if star, ok := e.(*ast.StarExpr); ok {
		e = star.X
	}
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "routes"
}

// concretePath fills a described path's parameters in.
func concretePath(path string) string {
	return strings.NewReplacer("{token}", strings.Repeat("0", 48), "{id}", "ffffffffffffffff", "{bin}", "demo", "{rest}", "a/b").Replace(path)
}

// TestOpenAPIMatchesRoutes keeps docs/openapi.yaml and the routes
// together, over real HTTP: every operation it describes is served (not
// the catch-all 404, and a 405 only where it describes one), answers with
// a status it describes, and lists the 421 and 403 every request can get;
// and every route the server registers is described, with each method it
// answers.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ops := openAPIOps(t)
	r := newLocalRig(t, engine.Config{})
	r.setServer(t, inspectorOn)
	r.waitState(t, StateRunning)
	probe := []string{"GET", "PUT", "POST", "DELETE", "PATCH"}
	type answer struct {
		code int
		body string
	}
	catchAll := map[string]answer{}
	for _, m := range probe {
		code, body, _ := do(t, nil, m, r.url("/no/such/route"), "")
		catchAll[m] = answer{code, body}
	}

	for path, methods := range ops {
		if len(methods) == 0 {
			t.Errorf("%s: no methods described", path)
		}
		url := r.url(concretePath(path))
		for method, codes := range methods {
			code, body, _ := do(t, nil, method, url, "")
			only405 := slices.Contains(codes, "405") && !slices.ContainsFunc(codes, func(c string) bool { return c[0] == '2' })
			switch {
			case (answer{code, body}) == catchAll[method]:
				t.Errorf("%s %s is described but not served: %d %s", method, path, code, body)
			case only405 != (code == http.StatusMethodNotAllowed):
				t.Errorf("%s %s: %d %s; the description says 405: %t", method, path, code, body, only405)
			case !slices.Contains(codes, strconv.Itoa(code)):
				t.Errorf("%s %s answers %d, which is not described (%v): %s", method, path, code, codes, body)
			}
			for _, c := range []struct {
				code   string
				header []string
			}{
				{"421", []string{"Host", "evil.example.com"}},
				{"403", []string{"Sec-Fetch-Site", "cross-site"}},
				{"403", []string{"Origin", "https://evil.example.com"}},
			} {
				if !slices.Contains(codes, c.code) {
					t.Errorf("%s %s: %s is not described", method, path, c.code)
				}
				if got, body, _ := do(t, nil, method, url, "", c.header...); strconv.Itoa(got) != c.code {
					t.Errorf("%s %s with %s: %d %s, want %s", method, path, c.header, got, body, c.code)
				}
			}
		}
	}

	for _, pattern := range registeredRoutes(t) {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = "", pattern
		}
		if path == "/" {
			continue // the catch-all
		}
		path = strings.NewReplacer("{$}", "", "...}", "}").Replace(path)
		if path == "" {
			path = "/"
		}
		methods, ok := ops[path]
		if !ok {
			t.Errorf("route %q: %s is not in docs/openapi.yaml", pattern, path)
			continue
		}
		if method != "" {
			if _, ok := methods[method]; !ok {
				t.Errorf("route %q: %s %s is not in docs/openapi.yaml", pattern, method, path)
			}
			continue
		}
		for _, m := range probe {
			code, body, _ := do(t, nil, m, r.url(concretePath(path)), "")
			if _, ok := methods[m]; !ok && (answer{code, body}) != catchAll[m] {
				t.Errorf("route %q answers %s %s with %d, which docs/openapi.yaml does not describe", pattern, m, path, code)
			}
		}
	}
}
