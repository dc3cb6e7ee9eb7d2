# The two commands a person needs:
#   make demo   set everything up, run the quick pipeline end to end (render, CNN, noise model,
#               policy, ONNX export, web app), print the figures and serve the page
#               (DEMO_SERVE=0: stop after the figures; stages already done are skipped)
#   make test   set everything up, lint, run the test suite (every tier, npm and Chromium)
# And:
#   make setup      just the main venv (.venv: the pinned requirements, then this package, editable);
#                   on a machine where `nvidia-smi -L` lists a GPU it adds the CUDA 12 build of the
#                   same JAX (requirements-cuda.txt); ACCEL=cpu or ACCEL=cuda chooses by hand
#   make test-fast  the unit tier only (pytest -m unit, and the web unit tests): under a minute
#   make tensorboard RUN=DIR   serve a run's live curves (DIR/tensorboard, written as it trains)
#                   on 127.0.0.1:6006 (TB_PORT=...); RUN=runs serves every run below runs/
SHELL := /bin/bash
PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
# cuda where an NVIDIA GPU answers, else cpu. The choice is part of the stamp: changing it reinstalls.
ACCEL ?= $(shell nvidia-smi -L 2>/dev/null | grep -q '^GPU' && echo cuda || echo cpu)
STAMP := $(VENV)/.installed-$(ACCEL)-$(shell cat requirements.txt requirements-cuda.txt constraints.txt pyproject.toml | sha1sum | cut -c1-12)
CUDA_PLUGINS := jax-cuda12-plugin jax-cuda12-pjrt
# WHEELHOUSE=DIR: install from DIR alone, with no network (make wheelhouse fills it).
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check $(if $(WHEELHOUSE),--no-index --find-links $(WHEELHOUSE))
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test test-fast lint spec clean export tensorboard gpu-figures gpu-physics gpu-rotation gpu-humanoid \
	gpu-results wheelhouse gpu-wheels gpu-deps

setup: $(STAMP)

# Python 3.11 exactly: bpy 5.0.1 (the render venv) ships cp311 wheels only, and the pins in
# constraints.txt were resolved under 3.11. Another interpreter stops here with the fix.
PY_CHECK = $(1) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
	echo "error: Python 3.11 is required ($(1) is $$($(1) --version 2>&1)); install it and pass PY=python3.11" >&2; exit 2; }

# Node.js >= 20.19 (Vite 7 needs it; npm would only warn and the build would fail later).
NODE_CHECK = node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null || { \
	echo "error: Node.js >= 20.19 with npm is required (node is $$(node --version 2>&1 || echo missing))" >&2; exit 2; }

$(STAMP): requirements.txt requirements-cuda.txt constraints.txt pyproject.toml
	@case "$(ACCEL)" in cpu|cuda) ;; *) echo "error: ACCEL must be cpu or cuda, got '$(ACCEL)'" >&2; exit 2;; esac
	@test -x $(PYTHON) || $(call PY_CHECK,$(PY))
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	@test -z "$(WHEELHOUSE)" || test -d "$(WHEELHOUSE)" || { echo "error: WHEELHOUSE=$(WHEELHOUSE) is not a folder (make wheelhouse fills one)" >&2; exit 2; }
	$(PIP_INSTALL) -r requirements.txt -c constraints.txt
	$(if $(filter cuda,$(ACCEL)),$(PIP_INSTALL) -r requirements-cuda.txt -c constraints.txt,$(PYTHON) -m pip uninstall --quiet --yes $(CUDA_PLUGINS) 2>/dev/null)
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .
	@echo "setup: JAX for $(ACCEL) ($$($(PYTHON) -c 'import jax; print(jax.__version__, jax.default_backend(), len(jax.devices()), "device(s)")' 2>/dev/null | tail -1))"
	rm -f $(VENV)/.installed-*
	touch $@

# web/public/models/task.json from the `cube` task profile (orient_jax/profiles/cube.py).
spec: setup
	$(PYTHON) -m orient_jax.profiles cube --out web/public/models/task.json

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

# pytest on two workers, a test file to each (--dist loadfile keeps a file's shared jitted
# fixtures in one process): 840 s against 1,208 s in one process on the 2-core machine.
test: setup render-setup web-setup original-deps lint
	$(PYTHON) -m pytest -n 2 --dist loadfile
	$(MAKE) web-test
	$(MAKE) original-test

test-fast: setup web-deps
	$(PYTHON) -m pytest -m unit -q -n auto
	$(MAKE) web-unit

# experiments/demo.py: each stage is content-hashed into runs/demo (data/quick, data/test
# for the renders); a re-run skips valid stages and resumes an interrupted one.
DEMO_SERVE ?= 1
demo: setup render-setup web-deps
	$(PYTHON) -m experiments.demo --port $(WEB_PORT) --host $(WEB_HOST) $(if $(filter 0,$(DEMO_SERVE)),--no-serve)

TB_PORT ?= 6006
tensorboard: setup
	@test -n "$(RUN)" || { echo "error: pass RUN=DIR, a run directory (or a folder of them, such as runs)"; exit 2; }
	@test -d "$(RUN)" || { echo "error: $(RUN) is not a folder; train a run first"; exit 2; }
	$(VENV)/bin/tensorboard --logdir "$(RUN)" --host 127.0.0.1 --port $(TB_PORT)

# Re-export web/public/models (pose.onnx, policy.onnx, task.json, manifest.json) from the shipped models.
export: setup
	$(PYTHON) -m experiments.export

# -- GPU figures: targets that each end within 9 minutes on one H100/H200 (their own
# `timeout`s) and write their figures line by line as they measure, so a slot cut short
# keeps what it measured. Everything goes under GPU_OUT; `make gpu-results` folds it into
# docs/results/humanoid_gpu.json and docs/results/humanoid.json.
#   make gpu-physics    Humanoid physics steps/s, MJX-JAX and MuJoCo Warp, 8k and 32k worlds;
#                       native MuJoCo on the machine's cores; parity with native       (~4 min)
#   make gpu-rotation   rotation env steps/s (MJX, native), time to 95 % success cold, then
#                       again with JAX's compile cache                                  (~3 min)
#   make gpu-humanoid   the Humanoid `gpu` preset for GPU_TRAIN_S seconds of process wall time
#                       (a resumable run), then scored in native Gymnasium, 20 x 1000 steps
#   make gpu-figures    the three, then gpu-results
# GPU_PY runs them: the venv's Python (make setup) by default. A machine that brings its own
# Python 3.12 and CUDA JAX, often without a network: `make gpu-deps WHEELHOUSE=DIR` there,
# then GPU_PY=python3 (docs/setup.md).
GPU_OUT ?= runs/gpu
GPU_TRAIN_S ?= 420
GPU_PY ?= $(PYTHON)
GPU_SITE := .gpu-site
GPU_RUN = env PYTHONPATH=$(CURDIR)/$(GPU_SITE):$(CURDIR) $(GPU_PY)
GPU_SETUP = $(if $(filter $(PYTHON),$(GPU_PY)),setup)
PHYSICS_IMPL = $(GPU_RUN) -m experiments.physics_impl --steps 100 --out $(GPU_OUT)/physics.jsonl

gpu-physics: $(GPU_SETUP)
	mkdir -p $(GPU_OUT)
	-timeout 150 $(PHYSICS_IMPL) --impl warp --physics gymnasium floor4 --batches 8192 32768 --native-batch 4096
	-timeout 120 $(PHYSICS_IMPL) --impl jax --physics floor4 gymnasium --batches 8192
	-timeout 150 $(PHYSICS_IMPL) --impl warp jax --physics gymnasium --batches --parity-steps 300

gpu-rotation: $(GPU_SETUP)
	mkdir -p $(GPU_OUT)
	-timeout 120 $(GPU_RUN) -m experiments.benchmark --suite gpu-quick --only env --out $(GPU_OUT)/rotation_env
	rm -rf $(GPU_OUT)/jax-cache
	-JAX_COMPILATION_CACHE_DIR=$(CURDIR)/$(GPU_OUT)/jax-cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	  timeout 150 $(GPU_RUN) -m experiments.benchmark --suite gpu-quick --only ttt --out $(GPU_OUT)/rotation_ttt_cold
	-JAX_COMPILATION_CACHE_DIR=$(CURDIR)/$(GPU_OUT)/jax-cache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
	  timeout 150 $(GPU_RUN) -m experiments.benchmark --suite gpu-quick --only ttt --out $(GPU_OUT)/rotation_ttt_cached

gpu-humanoid: $(GPU_SETUP)
	mkdir -p $(GPU_OUT)
	t0=$$(date +%s%N); timeout -s TERM $(GPU_TRAIN_S) $(GPU_RUN) -m experiments.train humanoid --config gpu \
	  --run $(GPU_OUT)/humanoid --no-eval; rc=$$?; \
	  echo "{\"rc\": $$rc, \"wall_s\": $$(( ($$(date +%s%N) - t0) / 1000000 ))e-3}" >> $(GPU_OUT)/humanoid_wall.jsonl; \
	  [ $$rc = 0 ] || [ $$rc = 124 ]
	timeout 120 $(GPU_RUN) -m experiments.evaluate humanoid --run $(GPU_OUT)/humanoid --gymnasium \
	  --episodes 20 --episode-steps 1000 | tail -n 1 > $(GPU_OUT)/humanoid_native.json

gpu-results: $(GPU_SETUP)
	$(GPU_RUN) -m experiments.gpu_results --dir $(GPU_OUT)

gpu-figures: gpu-physics gpu-rotation gpu-humanoid gpu-results

# The wheels a setup needs, into WHEELHOUSE, for a machine with no network:
#   make wheelhouse [ACCEL=cuda] [WHEELHOUSE=DIR]   every pinned wheel of this project's venv
#                                                   (Python 3.11); then, offline,
#   make setup WHEELHOUSE=DIR [ACCEL=cuda]          installs from DIR alone
#   make gpu-wheels [WHEELHOUSE=DIR]                the cp312 wheels a GPU image with its own
#                                                   Python 3.12 and CUDA JAX lacks; there,
#   make gpu-deps WHEELHOUSE=DIR                    installs them into .gpu-site (GPU_PY=python3)
WHEELHOUSE ?=
wheelhouse:
	@test -n "$(WHEELHOUSE)" || { echo "error: name the folder: make wheelhouse WHEELHOUSE=DIR" >&2; exit 2; }
	$(PY) -m pip download --quiet --disable-pip-version-check --only-binary=:all: -d $(WHEELHOUSE) \
	  -r requirements.txt $(if $(filter cuda,$(ACCEL)),-r requirements-cuda.txt) -c constraints.txt setuptools
	@echo "wheelhouse: $$(ls $(WHEELHOUSE) | wc -l) wheels, $$(du -sh $(WHEELHOUSE) | cut -f1) in $(WHEELHOUSE)"

# The GPU image's JAX stays as it is; flax follows it (flax 0.12.8, our pin, fails to import
# under jax 0.11: GPU_FLAX is the flax for that JAX). Its own numpy, scipy, orbax, pillow,
# tqdm and matplotlib are used.
GPU_FLAX ?= 0.12.12
GPU_WHEELS := mujoco mujoco-core mujoco-mjx warp-lang brax optax chex jaxopt ml-collections \
	tensorboardX trimesh gymnasium flask flask-cors glfw cloudpickle farama-notifications
gpu-wheels:
	@test -n "$(WHEELHOUSE)" || { echo "error: name the folder: make gpu-wheels WHEELHOUSE=DIR" >&2; exit 2; }
	$(PY) -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
	  --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
	  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d $(WHEELHOUSE) \
	  $$(for p in $(GPU_WHEELS); do grep -ihE "^$$p==" constraints.txt | head -n1 | grep . || echo $$p; done) flax==$(GPU_FLAX)
	@echo "gpu-wheels: $$(ls $(WHEELHOUSE) | wc -l) wheels, $$(du -sh $(WHEELHOUSE) | cut -f1) in $(WHEELHOUSE)"

gpu-deps:
	@test -d "$(WHEELHOUSE)" || { echo "error: WHEELHOUSE=DIR must name the folder make gpu-wheels filled" >&2; exit 2; }
	$(GPU_PY) -m pip install --quiet --no-index --no-deps --no-compile --upgrade --target $(GPU_SITE) $(WHEELHOUSE)/*.whl
	$(GPU_RUN) -c 'import sys, jax, flax, mujoco, warp; print("gpu-deps: python", sys.version.split()[0], "jax", jax.__version__, "flax", flax.__version__, "mujoco", mujoco.__version__, "warp", warp.__version__, jax.devices())'

clean:
	rm -rf runs/demo

# The Blender side (own venv: bpy pins numpy<2) and the browser side live in their own files.
-include render/render.mk
-include web/web.mk
-include original/original.mk
