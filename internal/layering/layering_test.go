// Package layering holds the one test of DESIGN.md's arrows: which Flotilla
// packages (and modules) each package may import. sim's own rules (no floats,
// clock, maps or goroutines) live in sim/purity_test.go.
package layering_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const project = "github.com/flotilla/flotilla/"

// rule: the Go files in dir (and below it when tree is set) may import a path
// only when allow says so.
type rule struct {
	dir   string
	tree  bool
	why   string
	allow func(path string) bool
}

func notProject(p string) bool { return !strings.HasPrefix(p, project) }

var rules = []rule{
	{"codec", false, "the codec is generic and schema-driven: no other Flotilla package", notProject},
	{"codec/fbs", false, "generated FlatBuffers code: the standard library and the FlatBuffers runtime only",
		func(p string) bool {
			first, _, _ := strings.Cut(p, "/")
			return p == "github.com/google/flatbuffers/go" || !strings.Contains(first, ".")
		}},
	{"netcode", true, "netcode knows nothing of games: no Flotilla package outside netcode",
		func(p string) bool { return notProject(p) || strings.HasPrefix(p, project+"netcode") }},
	{"protocol", false, "the session protocol is the contract every client speaks: of Flotilla's packages, the codec alone",
		func(p string) bool { return notProject(p) || p == project+"codec" }},
	{"protocol/demowire", false, "the demo game's wire schema: the codec, the sim and the session protocol, never the server or a transport",
		func(p string) bool {
			return notProject(p) || p == project+"codec" || p == project+"protocol" || strings.HasPrefix(p, project+"sim")
		}},
	{"browser-bridge", false, "the browser bridge is a transport: of Flotilla's packages, the batch interface alone (the server adapts it), and in its tests udpio and the test browser",
		func(p string) bool {
			return notProject(p) || p == project+"netcode/batch" || p == project+"netcode/udpio" || p == project+"browser-bridge/bridgetest"
		}},
	{"browser-bridge/bridgetest", false, "a browser for tests, which the bridge's own tests import: pion, and the bridge only in its test (the channel ids)",
		func(p string) bool { return notProject(p) || strings.HasPrefix(p, project+"browser-bridge") }},
	{"tools/client", true, "the native client library speaks the protocol; it never imports the room",
		func(p string) bool { return p != project+"server" && !strings.HasPrefix(p, project+"server/") }},
	{"perf", true, "the perf harness measures the wire, not the room",
		func(p string) bool { return p != project+"server" && !strings.HasPrefix(p, project+"server/") }},
	{"tools/bots/botrun", false, "the bots are clients: they must not reach into the server (the binary imports botrun)",
		func(p string) bool { return p != project+"server" && !strings.HasPrefix(p, project+"server/") }},
	{"tools/abuse", true, "the abuse tool speaks the packet layer from outside: of Flotilla's packages, netcode (and its udpio in tests) only",
		func(p string) bool {
			return notProject(p) || strings.HasPrefix(p, project+"netcode") || strings.HasPrefix(p, project+"tools/abuse") || p == project+"internal/leakcheck"
		}},
	{"tools/pcapbw/bw", false, "the capture analysis reads the wire: of Flotilla's packages, netcode's header alone",
		func(p string) bool { return notProject(p) || p == project+"netcode" }},
	{"tools/pcapbw", false, "the pcap tool: its analysis and netcode's packet types",
		func(p string) bool { return notProject(p) || p == project+"netcode" || p == project+"tools/pcapbw/bw" }},
	{"server/mesh", false, "the lockstep is pure bookkeeping: no Flotilla package (the room feeds it frames, batches and hashes)", notProject},
	{"tools/mesh", false, "the mesh launcher runs the server binary and bots: it imports the bots, never the server",
		func(p string) bool { return p != project+"server" && !strings.HasPrefix(p, project+"server/") }},
	{"netcode/netsim", false, "the simulator is a transport: of Flotilla's packages, the batch interface alone",
		func(p string) bool { return notProject(p) || p == project+"netcode/batch" }},
}

func TestLayering(t *testing.T) {
	fset := token.NewFileSet()
	for _, r := range rules {
		root := filepath.Join("..", "..", r.dir)
		seen := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != root && !r.tree {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") {
				return nil
			}
			seen++
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !r.allow(p) {
					t.Errorf("%s imports %s (%s)", path, p, r.why)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if seen == 0 {
			t.Errorf("rule for %s read no Go files", r.dir)
		}
	}
}
