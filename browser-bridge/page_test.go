package bridge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPageServesItsFiles(t *testing.T) {
	h := Page()
	for _, c := range []struct {
		method, path string
		code         int
		ctype, has   string
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="app.js">`},
		{"GET", "/index.html", 200, "text/html", "<canvas"},
		{"GET", "/app.js", 200, "text/javascript", "./conn.js"},
		{"GET", "/conn.js", 200, "text/javascript", "negotiated: true, id: 0"},
		{"GET", "/style.css", 200, "text/css", "body"},
		{"GET", "/js/flotilla/index.js", 200, "text/javascript", "SnapshotHistory"},
		{"GET", "/js/flotilla/session.js", 200, "text/javascript", "encodeAction"},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/js/flotilla/", 404, "", ""},
		{"GET", "/js/", 404, "", ""},
		{"GET", "/js/flotilla/../../page.go", 404, "", ""},
		{"GET", "/page.go", 404, "", ""},
		{"GET", "/web/index.html", 404, "", ""},
		{"GET", "/..", 404, "", ""},
		{"GET", "/nope.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
	} {
		req := httptest.NewRequest(c.method, "http://x"+"/", nil)
		req.URL.Path = c.path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.code {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, res.StatusCode, c.code)
			continue
		}
		if c.code != http.StatusOK {
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", c.method, c.path, ct, c.ctype)
		}
		if !strings.Contains(string(body), c.has) {
			t.Errorf("%s %s: body lacks %q", c.method, c.path, c.has)
		}
	}
}

// Every module the page imports, directly or through the library, is
// embedded: a relative import that names a missing file would only fail in
// a browser.
func TestPageImportsAreEmbedded(t *testing.T) {
	h := Page()
	seen := map[string]bool{}
	var visit func(path string)
	visit = func(path string) {
		if seen[path] {
			return
		}
		seen[path] = true
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
			return
		}
		dir := path[:strings.LastIndex(path, "/")+1]
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			i := strings.Index(line, "from '")
			if i < 0 || !(strings.HasPrefix(line, "import") || strings.HasPrefix(line, "export") || strings.HasPrefix(line, "}")) {
				continue
			}
			rel := line[i+len("from '"):]
			rel = rel[:strings.Index(rel, "'")]
			visit(resolve(dir, rel))
		}
	}
	visit("/app.js")
	if !seen["/js/flotilla/session.js"] || !seen["/js/flotilla/xxh64.js"] {
		t.Errorf("the walk missed the library: %v", seen)
	}
}

// resolve joins a relative module path ("./x.js", "../x.js") to dir.
func resolve(dir, rel string) string {
	for {
		switch {
		case strings.HasPrefix(rel, "./"):
			rel = rel[2:]
		case strings.HasPrefix(rel, "../"):
			rel = rel[3:]
			dir = dir[:strings.LastIndex(strings.TrimSuffix(dir, "/"), "/")+1]
		default:
			return dir + rel
		}
	}
}
