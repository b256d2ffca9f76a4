package halfopen

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The attack speaks the wire as any outsider would: of Flotilla's packages
// it uses netcode's exported header layout alone, never the server.
func TestImportsOnlyNetcode(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/flotilla/flotilla/") && p != "github.com/flotilla/flotilla/netcode" {
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}
