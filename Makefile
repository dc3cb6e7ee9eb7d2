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
SHELL := /bin/bash
PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
# cuda where an NVIDIA GPU answers, else cpu. The choice is part of the stamp: changing it reinstalls.
ACCEL ?= $(shell nvidia-smi -L 2>/dev/null | grep -q '^GPU' && echo cuda || echo cpu)
STAMP := $(VENV)/.installed-$(ACCEL)-$(shell cat requirements.txt requirements-cuda.txt constraints.txt pyproject.toml | sha1sum | cut -c1-12)
CUDA_PLUGINS := jax-cuda12-plugin jax-cuda12-pjrt
export PYTHONUNBUFFERED := 1
export XLA_FLAGS ?= --xla_cpu_multi_thread_eigen=false

.PHONY: setup demo test test-fast lint spec clean export gpu-figures

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
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(if $(filter cuda,$(ACCEL)),$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-cuda.txt -c constraints.txt,$(PYTHON) -m pip uninstall --quiet --yes $(CUDA_PLUGINS) 2>/dev/null)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
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

# Re-export web/public/models (pose.onnx, policy.onnx, task.json, manifest.json) from the shipped models.
export: setup
	$(PYTHON) -m experiments.export

# The GPU figures, in one command on a machine with an NVIDIA GPU (make setup
# installs CUDA JAX there): the gpu-quick suite (<= 8 min), the Humanoid gpu preset trained
# with the process's wall time, its ONNX scored over 20 native Gymnasium 1000-step episodes
# (merged into docs/results/humanoid.json), and the compile cache's effect on the GPU presets.
gpu-figures: setup
	$(PYTHON) -m experiments.benchmark --suite gpu-quick --out runs/benchmark/gpu-quick
	$(PYTHON) -m experiments.train humanoid --config gpu --run runs/humanoid/gpu
	$(PYTHON) -m experiments.export_humanoid --ppo runs/humanoid/gpu --out runs/humanoid/gpu/export
	$(PYTHON) -m experiments.humanoid_results --ppo-1000 runs/humanoid/gpu --onnx runs/humanoid/gpu/export/humanoid_ppo.onnx
	$(PYTHON) -m experiments.compile_cache rotation:gpu humanoid:gpu --out runs/benchmark/compile_cache_gpu.json

clean:
	rm -rf runs/demo

# The Blender side (own venv: bpy pins numpy<2) and the browser side live in their own files.
-include render/render.mk
-include web/web.mk
-include original/original.mk
