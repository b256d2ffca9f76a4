package ops

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func newTestHandler(t *testing.T, room *fakeRoom, running func() bool) http.Handler {
	t.Helper()
	if running == nil {
		running = func() bool { return true }
	}
	h, err := NewHandler(Config{Room: room, Running: running, Budget: testLimits})
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h
}

func serve(h http.Handler, method, target, form string) *httptest.ResponseRecorder {
	var body *strings.Reader
	if form != "" {
		body = strings.NewReader(form)
	} else {
		body = strings.NewReader("")
	}
	req := httptest.NewRequest(method, target, body)
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestBudget(t *testing.T) {
	for _, c := range []struct {
		name, method, target, form string
		status                     int
		body                       string         // a substring of the answer
		change                     *budgetRequest // what reaches SetBudget
	}{
		{"form body for one client", "POST", "/budget", "client=17&hz=30&bps=50000",
			http.StatusAccepted, "client 17 hz=30 bps=50000", &budgetRequest{client: 17, hz: 30, bps: 50000}},
		{"query, every client", "PUT", "/budget?hz=10", "",
			http.StatusAccepted, "every client and the defaults hz=10 bps=default", &budgetRequest{hz: 10}},
		{"client 0 is every client", "POST", "/budget?client=0&bps=1000", "",
			http.StatusAccepted, "every client", &budgetRequest{bps: 1000}},
		{"limits are inclusive", "POST", "/budget", "hz=60&bps=200000",
			http.StatusAccepted, "hz=60 bps=200000", &budgetRequest{hz: 60, bps: 200000}},

		{"neither value", "POST", "/budget?client=3", "", http.StatusBadRequest, "give hz, bps or both", nil},
		{"hz above the max", "POST", "/budget?hz=61", "", http.StatusBadRequest, "hz 61 outside 1..60 snapshots per second", nil},
		{"hz zero", "POST", "/budget?hz=0", "", http.StatusBadRequest, "hz 0 outside 1..60", nil},
		{"hz not a number", "POST", "/budget", "hz=fast", http.StatusBadRequest, `hz "fast" is not a whole number (want 1..60`, nil},
		{"hz empty", "POST", "/budget?hz=", "", http.StatusBadRequest, `hz "" is not a whole number`, nil},
		{"bps under the floor", "POST", "/budget?bps=999", "", http.StatusBadRequest, "bps 999 outside 1000..200000 bytes per second", nil},
		{"bps above the max", "POST", "/budget?bps=200001", "", http.StatusBadRequest, "bps 200001 outside", nil},
		{"negative client", "POST", "/budget?client=-1&hz=5", "", http.StatusBadRequest, `client "-1" is not a session id`, nil},
		{"client beyond 32 bits", "POST", "/budget?client=4294967296&hz=5", "", http.StatusBadRequest, "is not a session id", nil},
		{"unknown parameter", "POST", "/budget?hz=5&rate=9", "", http.StatusBadRequest, `unknown parameter "rate"`, nil},
		{"repeated parameter", "POST", "/budget?hz=5&hz=6", "", http.StatusBadRequest, "hz given 2 times", nil},
		{"query and body repeat", "POST", "/budget?hz=5", "hz=6", http.StatusBadRequest, "hz given 2 times", nil},
		{"oversized body", "POST", "/budget", "hz=5&bps=" + strings.Repeat("1", maxBudgetBody), http.StatusRequestEntityTooLarge, "body over", nil},
		{"GET is refused", "GET", "/budget?hz=5", "", http.StatusMethodNotAllowed, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			room := &fakeRoom{}
			w := serve(newTestHandler(t, room, nil), c.method, c.target, c.form)
			if w.Code != c.status {
				t.Fatalf("status %d (%q), want %d", w.Code, w.Body.String(), c.status)
			}
			if !strings.Contains(w.Body.String(), c.body) {
				t.Errorf("answer %q lacks %q", w.Body.String(), c.body)
			}
			got := room.changes()
			switch {
			case c.change == nil && len(got) != 0:
				t.Errorf("bad request reached the room: %+v", got)
			case c.change != nil && !slices.Equal(got, []budgetRequest{*c.change}):
				t.Errorf("room got %+v, want %+v", got, *c.change)
			}
			if c.method == "GET" && !strings.Contains(w.Header().Get("Allow"), "POST") {
				t.Errorf("405 without Allow: %q", w.Header().Get("Allow"))
			}
		})
	}
}

func TestBudgetQueueFull(t *testing.T) {
	room := &fakeRoom{refuse: true}
	w := serve(newTestHandler(t, room, nil), "POST", "/budget?hz=5", "")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestBudgetHandlerRejectsBadLimits(t *testing.T) {
	for _, lim := range []BudgetLimits{
		{},
		{MaxSnapshotHz: 0, MinBytesPerSec: 1000, MaxBytesPerSec: 2000},
		{MaxSnapshotHz: 60, MinBytesPerSec: 0, MaxBytesPerSec: 2000},
		{MaxSnapshotHz: 60, MinBytesPerSec: 3000, MaxBytesPerSec: 2000},
	} {
		if _, err := BudgetHandler(&fakeRoom{}, lim); !errors.Is(err, ErrConfig) {
			t.Errorf("limits %+v: err %v, want ErrConfig", lim, err)
		}
	}
	if _, err := BudgetHandler(nil, testLimits); !errors.Is(err, ErrConfig) {
		t.Errorf("nil room: err %v, want ErrConfig", err)
	}
}
