# Checks against the original, unchanged browser runtime (sagerkudrick/main-prediction-RL at
# 6957ebb). The runtime is never fetched or copied here: pass the folder of your checkout.
#   make original RUNTIME_DIR=DIR                    set everything up, then make the drop-in models
#                                                    (experiments/original.py: renders, CNN, noise
#                                                    model, PPO, export, verification in DIR's own
#                                                    JS) and install them into DIR if every goal holds
#   make original RUNTIME_DIR=DIR ORIGINAL_ARGS=--list     each stage's state, nothing run
#   make original RUNTIME_DIR=DIR ORIGINAL_ARGS=--restore  DIR's own models back
#   make original-deps                               npm ci in original/ (pinned cannon-es,
#                                                    three and onnxruntime-web that its page loads)
#   make original-check ORIGINAL_RUNTIME_DIR=DIR     the harness tests against that folder
#   make original-eval ORIGINAL_RUNTIME_DIR=DIR      200 seeded drops of DIR's rl-model.onnx in its own JS
#   make original-frames ORIGINAL_RUNTIME_DIR=DIR    its pose model on 200 frames its page renders (Chromium)
#   make original-page ORIGINAL_RUNTIME_DIR=DIR      10 seeded episodes of its page: camera -> CNN -> policy
# Install our models first: python -m experiments.install_original --runtime-dir DIR.
# Without ORIGINAL_RUNTIME_DIR the tests skip and say how to get the runtime.

ORIGINAL_DIR := original
ORIGINAL_STAMP := $(ORIGINAL_DIR)/node_modules/.installed-$(shell cat $(ORIGINAL_DIR)/package.json $(ORIGINAL_DIR)/package-lock.json 2>/dev/null | sha1sum | cut -c1-12)
ORIGINAL_EPISODES ?= 200
ORIGINAL_FRAMES ?= 200
ORIGINAL_PAGE_EPISODES ?= 10

.PHONY: original original-runtime-given original-deps original-test original-check original-eval original-frames original-page

ORIGINAL_ARGS ?=
original-runtime-given:
	@test -n "$(RUNTIME_DIR)" || { echo "error: pass RUNTIME_DIR=DIR, the folder of your checkout of sagerkudrick/main-prediction-RL at 6957ebb (git clone https://github.com/sagerkudrick/main-prediction-RL DIR && git -C DIR checkout 6957ebb)" >&2; exit 2; }
# The folder is asked for before anything is installed; its bytes are checked before any stage.
original: original-runtime-given setup render-setup web-setup original-deps
	$(PYTHON) -m experiments.original --runtime-dir $(abspath $(RUNTIME_DIR)) $(ORIGINAL_ARGS)

original-deps: $(ORIGINAL_STAMP)

$(ORIGINAL_STAMP): $(ORIGINAL_DIR)/package.json $(ORIGINAL_DIR)/package-lock.json
	@$(NODE_CHECK)
	cd $(ORIGINAL_DIR) && npm ci --no-audit --no-fund
	rm -f $(ORIGINAL_DIR)/node_modules/.installed-*
	touch $@

original-test: $(ORIGINAL_STAMP)
	npm --prefix $(ORIGINAL_DIR) test

original-check: $(ORIGINAL_STAMP)
	@test -n "$(ORIGINAL_RUNTIME_DIR)" || { echo "error: pass ORIGINAL_RUNTIME_DIR=DIR, the folder of your checkout of sagerkudrick/main-prediction-RL at 6957ebb"; exit 2; }
	ORIGINAL_RUNTIME_DIR=$(abspath $(ORIGINAL_RUNTIME_DIR)) npm --prefix $(ORIGINAL_DIR) test

original-eval: $(ORIGINAL_STAMP)
	@test -n "$(ORIGINAL_RUNTIME_DIR)" || { echo "error: pass ORIGINAL_RUNTIME_DIR=DIR"; exit 2; }
	node $(ORIGINAL_DIR)/eval.mjs --runtime-dir $(abspath $(ORIGINAL_RUNTIME_DIR)) --episodes $(ORIGINAL_EPISODES)

original-frames: $(ORIGINAL_STAMP)
	@test -n "$(ORIGINAL_RUNTIME_DIR)" || { echo "error: pass ORIGINAL_RUNTIME_DIR=DIR"; exit 2; }
	node $(ORIGINAL_DIR)/frames.mjs --runtime-dir $(abspath $(ORIGINAL_RUNTIME_DIR)) --frames $(ORIGINAL_FRAMES)

original-page: $(ORIGINAL_STAMP)
	@test -n "$(ORIGINAL_RUNTIME_DIR)" || { echo "error: pass ORIGINAL_RUNTIME_DIR=DIR"; exit 2; }
	node $(ORIGINAL_DIR)/page_eval.mjs --runtime-dir $(abspath $(ORIGINAL_RUNTIME_DIR)) --episodes $(ORIGINAL_PAGE_EPISODES)
