# The browser runtime (web/): included from the top-level Makefile with `-include web/web.mk`.
#
#   make web-setup   Debian's chromium (apt-get, when /usr/bin/chromium is missing) + npm ci
#   make web-deps    npm ci only (what building and serving need; `make demo` uses it)
#   make web-build   build the static site into web/dist (models from web/public/models)
#   make serve       build and serve the shipped models on http://127.0.0.1:$(WEB_PORT)/
#   make web-test    unit tests (node:test) + end to end in headless Chromium (WASM, WebGPU)
#   make web-eval    the shipped policy.onnx in cannon-es: 1,000 starts, truth and noisy
#
# Nothing here downloads a browser or fetches anything at run time.

WEB_DIR := web
WEB_PORT ?= 8080
WEB_HOST ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium
WEB_EPISODES ?= 1000
# The CNN's measured error model when one has been written; else the eval's constant 5 deg.
WEB_NOISE_MODEL ?= $(firstword $(wildcard models/pose/eval/error_model.json $(WEB_DIR)/public/models/error_model.json))
WEB_NPM := npm --prefix $(WEB_DIR)
WEB_STAMP := $(WEB_DIR)/node_modules/.installed-$(shell cat $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
WEB_SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: web-setup web-deps web-build serve web-test web-unit web-e2e web-eval

web-setup: $(WEB_STAMP) $(CHROMIUM)

web-deps: $(WEB_STAMP)

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "no $(CHROMIUM): install Chromium and pass CHROMIUM=/path/to/chromium"; exit 1; }
	$(WEB_SUDO) apt-get update
	$(WEB_SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	@$(NODE_CHECK)
	cd $(WEB_DIR) && npm ci --no-audit --no-fund
	rm -f $(WEB_DIR)/node_modules/.installed-*
	touch $@

web-build: $(WEB_STAMP)
	$(WEB_NPM) run build

serve: web-build
	node $(WEB_DIR)/scripts/serve.mjs --port $(WEB_PORT) --host $(WEB_HOST)

web-unit: $(WEB_STAMP)
	$(WEB_NPM) test

web-e2e: web-setup web-build
	CHROMIUM_PATH=$(CHROMIUM) $(WEB_NPM) run test:e2e

web-test: web-unit web-e2e

web-eval: $(WEB_STAMP)
	$(WEB_NPM) run eval -- --episodes $(WEB_EPISODES) $(if $(WEB_NOISE_MODEL),--noise-model $(abspath $(WEB_NOISE_MODEL))) --json
