# Flotilla. `make help` lists the targets.
GO       ?= go
FUZZTIME ?= 15s
ARGS     ?=

# Every fuzz target, as package:Target. `make fuzz` runs each for FUZZTIME.
FUZZ_TARGETS := \
	./codec:FuzzDecodeSnapshot \
	./codec:FuzzSnapshotRoundTrip \
	./codec:FuzzStream \
	./codec:FuzzQuatDequantize \
	./codec:FuzzSchemaDesc \
	./netcode:FuzzParseHeader \
	./netcode:FuzzServerDatagram \
	./netcode:FuzzSessionDatagram \
	./netcode:FuzzClientDatagram \
	./protocol:FuzzMessages \
	./protocol:FuzzMeshMessages \
	./tools/client:FuzzReceive \
	./tools/pcapbw/bw:FuzzAnalyze \
	./netcode/udpio:FuzzProcDrops \
	./tools/abuse/halfopen:FuzzReceive \
	./browser-bridge:FuzzOffer

.PHONY: help test vet jstest browsertest bench fuzz run perf simcheck capture abuse mixed

help:
	@echo "make test       vet, format check, every test, the race detector on server, netcode, the client library and the protocol, and the page in Chromium (what CI runs)"
	@echo "make jstest     the JavaScript client library's tests under node --test (part of make test)"
	@echo "make browsertest the page in headless Chromium against a server with 30 bots, about 35 s (part of make test;"
	@echo "                needs /usr/bin/chromium; installs playwright-core under browser-bridge/web/test; screenshot in test-artifacts/)"
	@echo "make bench      benchmarks with allocation counts; the room's tick with 1,000 and 5,000 clients"
	@echo "make fuzz       each fuzz target for FUZZTIME (default $(FUZZTIME))"
	@echo "make simcheck   the determinism check: hash lines of a 20000-frame combat100 run"
	@echo "make perf       the payload harness: bit-packed vs FlatBuffers, protobuf, JSON+zstd, naive (ARGS='-json')"
	@echo "make capture    server + bots on loopback under tcpdump, then pcapbw's report (needs root; BOTS=, DURATION=)"
	@echo "make abuse      bots alone, then beside half-open sessions that reconnect, each on a fresh server: RSS, tick, action p99 (BOTS=, SESSIONS=, DURATION=, SOURCE_IPS=)"
	@echo "make mixed      native bots, WebRTC bots, then both, each on a fresh server beside an idle one: what a browser session costs"
	@echo "                (goroutines, heap, RSS, CPU, tick p99) next to a native one (NATIVE=, BROWSER=, DURATION=)"
	@echo "make run        the server with the demo game and 200 in-process bots, a summary line a second, and the"
	@echo "                browser page at http://127.0.0.1:7778/ (ARGS='-duration 10s')"

# The race detector runs over the packages that claim goroutine safety
# (-short skips their 10 s end-to-end runs, which run without it above).
RACE_PKGS := ./server/... ./netcode/... ./tools/client/... ./protocol/...

test: vet jstest
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race -short $(RACE_PKGS)
	$(MAKE) browsertest

# The JavaScript client library's tests (golden vectors, the Go<->JS
# differential test, which runs browser-bridge/js/testdata/gen with go run).
# The go tool skips testdata in ./..., so the generator is vetted here.
jstest:
	$(GO) vet ./browser-bridge/js/testdata/gen
	node --test browser-bridge/js/test/*.test.js

# The page in a real Chromium (browser-bridge/web/test/page.test.js):
# Debian's chromium driven by playwright-core, pinned in package-lock.json
# and installed here (no browser is downloaded).
browsertest:
	@test -d browser-bridge/web/test/node_modules/playwright-core || \
		(cd browser-bridge/web/test && npm ci --no-audit --no-fund)
	node --test browser-bridge/web/test/page.test.js

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The room's load benchmarks take up to a few minutes to set up their
# clients: the tick runs a fixed 60 ticks per size (for its p99), the
# memory benchmark 3 rounds, the hot tile 60 ticks of 1,000 and 10,000
# spectators, the crowd 20 ticks of 1,000, 5,000 and 10,000 players on
# in-memory links.
bench:
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v '/server$$')
	$(GO) test -run '^$$' -bench Tick -benchtime 60x -timeout 60m ./server
	$(GO) test -run '^$$' -bench RoomMemory -benchtime 3x -timeout 60m ./server
	$(GO) test -run '^$$' -bench HotTile -benchtime 60x -timeout 30m ./server
	$(GO) test -run '^$$' -bench Crowd -benchtime 20x -timeout 30m ./server

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$pkg; \
	done

simcheck:
	$(GO) run ./tools/simcheck -scenario combat100 -seed 7 -frames 20000 $(ARGS)

run:
	$(GO) run ./server/cmd/flotilla -bots 200 -summary 1s -http 127.0.0.1:7778 $(ARGS)

perf:
	$(GO) run ./perf/cmd/payloads $(ARGS)

capture:
	bash tools/pcapbw/capture.sh

abuse:
	bash tools/abuse/measure.sh

mixed:
	bash tools/bots/mixed.sh
