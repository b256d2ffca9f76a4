package codec

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestCodecImportsNoProjectPackage keeps the layering of DESIGN.md: the codec
// is generic and schema-driven, so it imports no other Flotilla package.
func TestCodecImportsNoProjectPackage(t *testing.T) {
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
			if strings.HasPrefix(path, "github.com/flotilla/flotilla") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
