# Osprey — the two commands of the README set-up are `make demo` and
# `make test`; both install what they need when it is missing.

GO        ?= go
BIN       := bin/osprey
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOBIN     := $(shell $(GO) env GOPATH)/bin
STATICCHECK_VERSION := v0.8.2
# Packages with goroutines of their own run under the race detector.
RACE_PKGS := ./internal/capture/... ./internal/sensor/... ./internal/daemon/... ./internal/store ./internal/store/duckdb ./cmd/... ./internal/devices ./internal/enrich/... ./internal/collect/... ./internal/detect/... ./internal/deliver/... ./internal/api
FUZZTIME  ?= 4s
APT_GET   := DEBIAN_FRONTEND=noninteractive apt-get -y -q

.PHONY: all build demo test vet staticcheck unit race fuzz-smoke fuzz bench deps-test deps-bench clean console test-console console-screenshots

all: build

build: console
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/osprey

# demo: synthesise a mirrored (VXLAN) fleet and plant capture and turn it
# into sessions, applications and devices with the embedded defaults; no
# server to install. Then the demo site (osprey demo, docs/console.md):
# two days of an IoT and cloud fleet up to now, with incidents, through
# detection into demo/site, served with the console on DEMO_LISTEN until
# Ctrl-C; DEMO_SERVE=0 stops once it is loaded.
DEMO_LISTEN ?= 127.0.0.1:9782
DEMO_SERVE  ?= 1

demo: build
	@mkdir -p demo
	$(BIN) synth --packets 300000 --flows 3000 --vxlan --iot -o demo/fleet.pcap
	$(BIN) read --stats --output zeek demo/fleet.pcap > demo/conn.log
	$(BIN) read --config examples/demo/osprey.yaml --output json demo/fleet.pcap > demo/sessions.jsonl
	rm -rf demo/store && $(BIN) read --config examples/demo/osprey.yaml --store demo/store --findings demo/findings.jsonl demo/fleet.pcap
	$(BIN) read --config examples/demo/osprey.yaml --store demo/store examples/demo/vpc-flow.log
	@echo; echo "== first sessions (demo/conn.log, Zeek conn.log format) =="
	@grep -v '^#' demo/conn.log | head -8 | cut -f3-8,10-12,16-20
	@echo; echo "== one session as JSON (demo/sessions.jsonl) =="
	@head -1 demo/sessions.jsonl
	@echo; echo "== embedded store (demo/store): top talkers and ports =="
	$(BIN) query --store demo/store --top src.ip --by bytes --limit 5
	$(BIN) query --store demo/store --top dst.port --by sessions --limit 5 --filter 'proto = tcp'
	@echo; echo "== applications (identified from the payload: docs/dpi.md) =="
	$(BIN) query --store demo/store --top app --by sessions --limit 12
	@echo; echo "== enrichment (examples/demo: assets, mirror sessions, segments, a watchlist; docs/enrichment.md) =="
	$(BIN) query --store demo/store --matrix segment --filter 'not (src.segment = "mirror-infra")'
	@grep -m1 '"field":"http.host"' demo/sessions.jsonl | grep -o '"mirror":{[^}]*}\|"intel":\[[^]]*\]' || true
	@echo; echo "== cloud flow logs (examples/demo/vpc-flow.log, AWS VPC Flow Logs; docs/flowlogs.md): what the security groups turned away =="
	$(BIN) query --store demo/store --filter 'source = "vpcflow" and action = "reject"' --top dst.port --by sessions --limit 5
	@echo; echo "== device inventory: PLCs and HMIs of the plant network (docs/devices.md) =="
	$(BIN) query --store demo/store --devices --category plc --limit 4
	$(BIN) query --store demo/store --devices --category hmi --limit 4
	@echo; echo "== detection (docs/findings.md): behavioural detectors, threat intel and a baseline policy (examples/demo/policy.yaml); all in demo/findings.jsonl =="
	$(BIN) query --store demo/store --findings --severity medium --detector vertical-scan --limit 3
	$(BIN) query --store demo/store --findings --severity high --detector brute-force --limit 3
	$(BIN) policy test --store demo/store --examples 1 examples/demo/policy.yaml
	@echo; echo "Peer check: osprey read --output zeek ../shared/testdata/zeek/vxlan/vxlan.pcap"
	@[ -f ../shared/testdata/zeek/vxlan/vxlan.pcap ] && $(BIN) read --output zeek ../shared/testdata/zeek/vxlan/vxlan.pcap | grep -v '^#' | cut -f3-8,10-12,16-21 || true
	@echo; echo "== the demo site (examples/demo/site.yaml; docs/console.md): IoT devices and VMs, two days up to now with incidents, through detection into demo/site =="
	rm -rf demo/site
	$(BIN) demo --config examples/demo/site.yaml --log-level warn --api $(DEMO_LISTEN) --serve=$(if $(filter 0,$(DEMO_SERVE)),false,true)

test: deps-test vet staticcheck fuzz-smoke unit race test-console

# The web console (docs/console.md): npm ci when package-lock.json
# changed, vite build into web/console/dist/app when a source did;
# `go build` embeds it (a build without it serves a placeholder page).
CONSOLE     := web/console
CONSOLE_SRC := $(shell find $(CONSOLE)/src $(CONSOLE)/public -type f 2>/dev/null) $(addprefix $(CONSOLE)/,index.html vite.config.ts tsconfig.json package.json)

console: $(CONSOLE)/dist/app/index.html

$(CONSOLE)/node_modules/.package-lock.json: $(CONSOLE)/package-lock.json
	@command -v npm >/dev/null || { echo "console: npm (Node.js >= 20.19) is needed to build the web console" >&2; exit 1; }
	cd $(CONSOLE) && npm ci --no-audit --no-fund

$(CONSOLE)/dist/app/index.html: $(CONSOLE)/node_modules/.package-lock.json $(CONSOLE_SRC)
	cd $(CONSOLE) && npm run build

# Browser tests: Playwright drives Debian's chromium headless against
# osprey serve over a store of synthetic traffic (web/console/tests);
# screenshots land in web/console/test-results/screenshots.
test-console: build
	cd $(CONSOLE) && OSPREY_BIN=$(abspath $(BIN)) npx playwright test

# The same tests, copying the main screenshots into docs/img.
console-screenshots: build
	cd $(CONSOLE) && OSPREY_BIN=$(abspath $(BIN)) OSPREY_DOCS_IMG=1 npx playwright test

vet:
	$(GO) vet ./...

staticcheck:
	@[ -x $(GOBIN)/staticcheck ] || GOFLAGS= $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -count=1 ./...

race:
	$(GO) test -count=1 -race $(RACE_PKGS)

# Every fuzz target runs briefly over its committed seed corpus and
# fresh inputs; `make fuzz FUZZTIME=5m` runs them longer.
fuzz-smoke:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz:
	FUZZTIME=$(if $(filter 4s,$(FUZZTIME)),2m,$(FUZZTIME)) scripts/fuzz.sh

bench: deps-bench deps-test build
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 $$($(GO) list ./internal/... | grep -v /storebench)
	scripts/bench.sh
	$(GO) test -run='^$$' -bench=PacketToWebhook -benchtime=1x -timeout=10m ./cmd/osprey
	$(GO) test -run='^$$' -bench=Dashboard -benchtime=1x -timeout=90m ./internal/store/storebench
	scripts/api_bench.sh

# Debian packages the tests need: iproute2 for the network-namespace
# VXLAN test, clickhouse-server for the ClickHouse store (the tests start
# their own servers on loopback), postgresql for the row-store baseline,
# libndpi-bin (ndpiReader) to compare application labels with nDPI's,
# tshark to check that the generated IoT/OT traffic dissects cleanly,
# softflowd as a real NetFlow/IPFIX exporter, and mosquitto with its
# clients as a real MQTT broker and publishers for Device Defender reports,
# and chromium for the web console's browser tests.
deps-test:
	@command -v ip >/dev/null || { $(APT_GET) update && $(APT_GET) install iproute2; }
	@[ -x /usr/sbin/clickhouse-server ] || { $(APT_GET) update && $(APT_GET) install clickhouse-server; }
	@[ -x /usr/lib/postgresql/15/bin/postgres ] || { $(APT_GET) update && $(APT_GET) install postgresql; }
	@command -v ndpiReader >/dev/null || { $(APT_GET) update && $(APT_GET) install libndpi-bin; }
	@command -v tshark >/dev/null || { $(APT_GET) update && $(APT_GET) install tshark; }
	@command -v softflowd >/dev/null || { $(APT_GET) update && $(APT_GET) install softflowd; }
	@[ -x /usr/sbin/mosquitto ] && command -v mosquitto_pub >/dev/null || { $(APT_GET) update && $(APT_GET) install mosquitto mosquitto-clients; }
	@[ -x /usr/bin/chromium ] || { $(APT_GET) update && $(APT_GET) install chromium; }
	@[ -x /usr/sbin/rsyslogd ] && dpkg -s rsyslog-gnutls >/dev/null 2>&1 || { $(APT_GET) update && $(APT_GET) install rsyslog rsyslog-gnutls; }

# ndpiReader (libndpi-bin) is the peer the whole-process benchmark is
# measured against, in the same run.
deps-bench:
	@command -v ndpiReader >/dev/null && command -v wrk >/dev/null || { $(APT_GET) update && $(APT_GET) install libndpi-bin wrk; }

clean:
	rm -rf bin demo
