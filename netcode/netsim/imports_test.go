package netsim

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsOnlyBatch keeps the layering of DESIGN.md: the simulator is a
// transport, so of Flotilla's packages it imports the batch interface alone.
func TestImportsOnlyBatch(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/flotilla/flotilla/") && path != "github.com/flotilla/flotilla/netcode/batch" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
