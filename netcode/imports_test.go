package netcode

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNetcodeKnowsNoGame keeps the layering of DESIGN.md: netcode and its
// subpackages import no Flotilla package outside netcode (not sim, codec,
// server or browser-bridge).
func TestNetcodeKnowsNoGame(t *testing.T) {
	const project = "github.com/flotilla/flotilla/"
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, project) && !strings.HasPrefix(p, project+"netcode") {
				t.Errorf("%s imports %s", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
