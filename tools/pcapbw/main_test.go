package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	o, err := parse([]string{"-r", "run.pcap", "-port", "7777", "-port", "7778,7779", "-port", "7777",
		"-max-flows", "10", "-max-seconds", "60", "-json", "-plot", "run.SVG"})
	if err != nil {
		t.Fatal(err)
	}
	if o.file != "run.pcap" || !slices.Equal(o.ports, []uint16{7777, 7778, 7779}) || o.maxFlows != 10 ||
		o.maxSeconds != 60 || !o.json || o.csv || o.plot != "run.SVG" {
		t.Errorf("parsed %+v", o)
	}
	o, err = parse([]string{"-r", "-", "-port", "1"})
	if err != nil || o.maxFlows != defaultMaxFlows || o.maxSeconds != defaultMaxSeconds || o.name() != "stdin" {
		t.Errorf("defaults %+v, %v", o, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		args       []string
	}{
		{"no -r", "-r FILE", []string{"-port", "7777"}},
		{"no -port", "-port P", []string{"-r", "x.pcap"}},
		{"port 0", "not a port", []string{"-r", "x.pcap", "-port", "0"}},
		{"port too big", "not a port", []string{"-r", "x.pcap", "-port", "65536"}},
		{"port not a number", "not a port", []string{"-r", "x.pcap", "-port", "http"}},
		{"empty in list", "not a port", []string{"-r", "x.pcap", "-port", "7777,"}},
		{"negative port", "not a port", []string{"-r", "x.pcap", "-port", "-1"}},
		{"json and csv", "-json and -csv", []string{"-r", "x.pcap", "-port", "7777", "-json", "-csv"}},
		{"plot png", "only SVG", []string{"-r", "x.pcap", "-port", "7777", "-plot", "run.png"}},
		{"plot no suffix", "only SVG", []string{"-r", "x.pcap", "-port", "7777", "-plot", "run"}},
		{"max flows", "-max-flows", []string{"-r", "x.pcap", "-port", "7777", "-max-flows", "0"}},
		{"max seconds", "-max-seconds", []string{"-r", "x.pcap", "-port", "7777", "-max-seconds", "-5"}},
		{"unknown flag", "not defined", []string{"-r", "x.pcap", "-port", "7777", "-pretty"}},
		{"extra argument", "unexpected", []string{"-r", "x.pcap", "-port", "7777", "y.pcap"}},
	} {
		var out, errs bytes.Buffer
		if code := run(c.args, strings.NewReader(""), &out, &errs); code != 2 {
			t.Errorf("%s: exit %d, want 2", c.name, code)
		}
		msg := errs.String()
		if !strings.HasPrefix(msg, "pcapbw: ") || !strings.Contains(msg, c.want) || !strings.Contains(msg, "run 'pcapbw -h'") {
			t.Errorf("%s: stderr %q, want %q and the hint", c.name, msg, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("%s: stdout %q", c.name, out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		var out, errs bytes.Buffer
		if code := run([]string{arg}, strings.NewReader(""), &out, &errs); code != 0 {
			t.Errorf("%s: exit %d", arg, code)
		}
		help := out.String()
		for _, want := range []string{"-r FILE", "-port P", "-max-flows", "-max-seconds", "-json", "-csv", "-plot",
			"UDP payload bytes", "frame bytes", "link header", "--immediate-mode", "-s 2048 -w run.pcap udp port 7777",
			"Exit status"} {
			if !strings.Contains(help, want) {
				t.Errorf("%s: help lacks %q", arg, want)
			}
		}
		if errs.Len() != 0 {
			t.Errorf("%s: stderr %q", arg, errs.String())
		}
	}
}

func TestUnreadableCapture(t *testing.T) {
	dir := t.TempDir()
	var out, errs bytes.Buffer
	if code := run([]string{"-r", filepath.Join(dir, "missing.pcap"), "-port", "7777"}, nil, &out, &errs); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
	if !strings.Contains(errs.String(), "cannot read") || out.Len() != 0 {
		t.Errorf("missing file: stdout %q stderr %q", out.String(), errs.String())
	}
	junk := filepath.Join(dir, "junk.pcap")
	if err := os.WriteFile(junk, []byte("this is not a packet capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-r", junk, "-port", "7777"}, {"-r", "-", "-port", "7777"}} {
		out.Reset()
		errs.Reset()
		if code := run(args, strings.NewReader("short"), &out, &errs); code != 1 {
			t.Errorf("%q: exit %d", args, code)
		}
		if errs.Len() == 0 || out.Len() != 0 {
			t.Errorf("%q: stdout %q stderr %q", args, out.String(), errs.String())
		}
	}
}
