package ops

import (
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/server"
)

// fakeRoom is a Room with set counters that records budget changes.
type fakeRoom struct {
	mu      sync.Mutex
	stats   server.StatsSnapshot
	refuse  bool // SetBudget reports a full queue
	budgets []budgetRequest
}

func (f *fakeRoom) Stats() server.StatsSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// netOf is a CollectorSources.Net that reads n.
func netOf(n netcode.Stats) func() netcode.Stats { return func() netcode.Stats { return n } }

func (f *fakeRoom) SetBudget(id server.ClientID, hz, bps int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse {
		return false
	}
	f.budgets = append(f.budgets, budgetRequest{client: id, hz: hz, bps: bps})
	return true
}

func (f *fakeRoom) changes() []budgetRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]budgetRequest(nil), f.budgets...)
}

// fakeKernelDrops is a CollectorSources.KernelDrops whose answer a test
// sets; safe for concurrent scrapes.
type fakeKernelDrops struct {
	mu    sync.Mutex
	drops uint64
	err   error
}

func (f *fakeKernelDrops) set(drops uint64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drops, f.err = drops, err
}

func (f *fakeKernelDrops) read() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drops, f.err
}

var testLimits = BudgetLimits{MaxSnapshotHz: 60, MinBytesPerSec: 1000, MaxBytesPerSec: 200000}

// gather collects c through a registry, which also checks that every
// metric is described and consistent.
func gather(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("register: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return byName(mfs)
}

func byName(mfs []*dto.MetricFamily) map[string]*dto.MetricFamily {
	m := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		m[mf.GetName()] = mf
	}
	return m
}

// find returns the metric of family name whose labels are the given
// name=value pairs, failing the test if there is none.
func find(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	t.Helper()
	mf, ok := mfs[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	want := make(map[string]string, len(labels))
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		want[k] = v
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if v, ok := want[lp.GetName()]; !ok || v != lp.GetValue() {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no %s%v among %d series", name, labels, len(mf.GetMetric()))
	return nil
}

// value returns a counter's or gauge's value.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := find(t, mfs, name, labels...)
	switch mfs[name].GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s is a %v, not a counter or gauge", name, mfs[name].GetType())
	return 0
}
