package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONOutput(t *testing.T) {
	var out, errs bytes.Buffer
	err := run([]string{"-scenario", "combat100", "-ticks", "3", "-runs", "1", "-formats", "bitpack-delta,naive", "-json"}, &out, &errs)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if len(rows) != 2 || rows[0]["format"] != "bitpack-delta" || rows[1]["format"] != "naive" {
		t.Errorf("rows %v", rows)
	}
}

func TestMarkdownOutputAndHelp(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run([]string{"-scenario", "combat100", "-ticks", "2", "-runs", "1", "-q"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| combat100 | flatbuffers |") || errs.Len() != 0 {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), errs.String())
	}
	out.Reset()
	errs.Reset()
	if err := run([]string{"--help"}, &out, &errs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errs.String(), "-ticks") || out.Len() != 0 {
		t.Errorf("help: stdout %q stderr %q", out.String(), errs.String())
	}
	if err := run([]string{"-scenario", "nope", "-ticks", "1"}, &out, &errs); err == nil {
		t.Error("unknown scenario accepted")
	}
}
