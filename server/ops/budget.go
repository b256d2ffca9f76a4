package ops

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/flotilla/flotilla/server"
)

// maxBudgetBody bounds a /budget request body: three small numbers.
const maxBudgetBody = 4 << 10

// budgetParams are the values /budget accepts.
var budgetParams = []string{"client", "hz", "bps"}

// BudgetHandler returns the /budget endpoint: it changes the snapshot rate
// (hz, snapshots per second) and the byte budget (bps, UDP payload bytes
// per second) of one client, or of every client and of clients yet to come.
// The values come from the query or a form body:
//
//	client  session id; absent or 0 addresses every client and the defaults
//	hz      1..MaxSnapshotHz; absent means the room's default
//	bps     MinBytesPerSec..MaxBytesPerSec; absent means the room's default
//
// At least one of hz and bps is required. An absent value sets the room's
// default, not the client's current value (server.Room.SetBudget's zero). A valid request answers 202: the
// room applies the change at its next tick and ignores a client that is not
// connected. Bad input answers 400 saying what is wrong; 503 means too many
// changes are already waiting for the room.
func BudgetHandler(room Room, lim BudgetLimits) (http.Handler, error) {
	switch {
	case room == nil:
		return nil, fmt.Errorf("%w: no room", ErrConfig)
	case lim.MaxSnapshotHz < 1:
		return nil, fmt.Errorf("%w: max snapshot rate %d under 1", ErrConfig, lim.MaxSnapshotHz)
	case lim.MinBytesPerSec < 1 || lim.MaxBytesPerSec < lim.MinBytesPerSec:
		return nil, fmt.Errorf("%w: byte budget bounds %d..%d", ErrConfig, lim.MinBytesPerSec, lim.MaxBytesPerSec)
	}
	return &budgetHandler{room: room, lim: lim}, nil
}

type budgetHandler struct {
	room Room
	lim  BudgetLimits
}

// budgetRequest is a parsed /budget request; zero fields were absent.
type budgetRequest struct {
	client  server.ClientID
	hz, bps int
}

func (h *budgetHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBudgetBody)
	req, status, err := h.parse(r)
	if err != nil {
		httpError(w, status, "budget: "+err.Error())
		return
	}
	if !h.room.SetBudget(req.client, req.hz, req.bps) {
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "budget: too many changes waiting for the room; retry")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, "queued for the next tick: %s hz=%s bps=%s\n",
		describeClient(req.client), describeValue(req.hz), describeValue(req.bps))
}

// parse reads and checks a request's values; on error it also returns the
// status to answer with.
func (h *budgetHandler) parse(r *http.Request) (budgetRequest, int, error) {
	var req budgetRequest
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return req, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d bytes", maxBudgetBody)
		}
		return req, http.StatusBadRequest, fmt.Errorf("bad form: %w", err)
	}
	for k, vs := range r.Form {
		if !slices.Contains(budgetParams, k) {
			return req, http.StatusBadRequest, fmt.Errorf("unknown parameter %q (want client, hz, bps)", k)
		}
		if len(vs) > 1 {
			return req, http.StatusBadRequest, fmt.Errorf("%s given %d times", k, len(vs))
		}
	}
	if v, ok := formValue(r, "client"); ok {
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return req, http.StatusBadRequest, fmt.Errorf("client %q is not a session id (want 0..%d, 0 for every client)", v, uint32(1<<32-1))
		}
		req.client = server.ClientID(id)
	}
	var err error
	hz, hasHz := formValue(r, "hz")
	if hasHz {
		if req.hz, err = parseBound("hz", hz, 1, h.lim.MaxSnapshotHz, "snapshots per second"); err != nil {
			return req, http.StatusBadRequest, err
		}
	}
	bps, hasBps := formValue(r, "bps")
	if hasBps {
		if req.bps, err = parseBound("bps", bps, h.lim.MinBytesPerSec, h.lim.MaxBytesPerSec, "bytes per second"); err != nil {
			return req, http.StatusBadRequest, err
		}
	}
	if !hasHz && !hasBps {
		return req, http.StatusBadRequest, errors.New("give hz, bps or both")
	}
	return req, 0, nil
}

// formValue returns the value of key and whether the request gave it.
func formValue(r *http.Request, key string) (string, bool) {
	vs, ok := r.Form[key]
	if !ok {
		return "", false
	}
	return vs[0], true
}

// parseBound parses v as an integer in lo..hi.
func parseBound(name, v string, lo, hi int, unit string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a whole number (want %d..%d %s)", name, v, lo, hi, unit)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s %d outside %d..%d %s", name, n, lo, hi, unit)
	}
	return n, nil
}

func describeClient(id server.ClientID) string {
	if id == 0 {
		return "every client and the defaults"
	}
	return fmt.Sprintf("client %d", id)
}

func describeValue(v int) string {
	if v == 0 {
		return "default"
	}
	return strconv.Itoa(v)
}

// httpError answers status with a one-line plain-text message.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.Error(w, msg, status)
}
