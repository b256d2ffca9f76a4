package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything non-test code under sim/ may import.
var allowedImports = map[string]bool{
	"cmp": true, "encoding/binary": true, "errors": true, "fmt": true,
	"math": true, "math/bits": true, "slices": true, "strings": true,
	"github.com/cespare/xxhash/v2":     true,
	"github.com/flotilla/flotilla/sim": true,
}

// floatIdents are the predeclared floating-point and complex types and functions.
var floatIdents = map[string]bool{
	"float32": true, "float64": true, "complex64": true, "complex128": true,
	"complex": true, "real": true, "imag": true,
}

// TestDeterminismRules parses every non-test .go file under sim/ and fails
// on anything that could make the simulation differ between machines or
// runs: floating point, the clock, goroutines, channels, maps, and imports
// beyond the allowed list (in particular no other flotilla package).
func TestDeterminismRules(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		checkFile(t, fset, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 8 {
		t.Fatalf("only %d files checked", files)
	}
}

func checkFile(t *testing.T, fset *token.FileSet, f *ast.File) {
	bad := func(n ast.Node, format string, args ...any) {
		t.Errorf("%s: "+format, append([]any{fset.Position(n.Pos())}, args...)...)
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !allowedImports[p] {
			bad(imp, "import %q is not allowed in sim", p)
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if x.Kind == token.FLOAT || x.Kind == token.IMAG {
				bad(x, "floating-point literal %s", x.Value)
			}
		case *ast.Ident:
			if floatIdents[x.Name] {
				bad(x, "floating-point identifier %s", x.Name)
			}
		case *ast.SelectorExpr:
			if pkg, ok := x.X.(*ast.Ident); ok && pkg.Name == "math" &&
				!strings.HasPrefix(x.Sel.Name, "Max") && !strings.HasPrefix(x.Sel.Name, "Min") {
				bad(x, "math.%s: only integer limits of package math are allowed", x.Sel.Name)
			}
		case *ast.GoStmt:
			bad(x, "go statement")
		case *ast.ChanType, *ast.SelectStmt, *ast.SendStmt:
			bad(x, "channel use")
		case *ast.MapType:
			bad(x, "map type (iteration order is random)")
		}
		return true
	})
}
