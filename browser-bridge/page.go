package bridge

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// site holds the page (web/: HTML, CSS and ES modules, no build step) and
// the JavaScript client library it imports (js/flotilla/), as served.
//
//go:embed web/index.html web/*.css web/*.js js/flotilla/*.js
var site embed.FS

// Page serves the browser page and its modules, read-only, from files
// embedded in the binary: / is web/index.html, /NAME is web/NAME, and
// /js/flotilla/NAME is the client library's module NAME. Anything else is
// 404; only GET and HEAD are answered. The page also fetches GET /schema
// (the game's schema description) and POSTs its offer to /rtc: mount those
// beside it. Safe for concurrent use.
func Page() http.Handler { return page{} }

type page struct{}

func (page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := sitePath(r.URL.Path)
	if name == "" {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(site, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if path.Ext(name) == ".js" {
		ctype = "text/javascript; charset=utf-8" // whatever the host's mime table says
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// sitePath maps a URL path to its embedded file, or "" for none.
func sitePath(p string) string {
	switch {
	case p == "/":
		return "web/index.html"
	case strings.HasPrefix(p, "/js/flotilla/"):
		name := strings.TrimPrefix(p, "/js/flotilla/")
		if name == "" || strings.Contains(name, "/") {
			return ""
		}
		return "js/flotilla/" + name
	case strings.Count(p, "/") == 1:
		return "web" + p
	}
	return ""
}
