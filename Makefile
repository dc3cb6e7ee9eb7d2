# The two commands a person needs:
#   make demo   set everything up, train the cpu preset, evaluate it, print the figures
#   make test   set everything up, lint, run the test suite
SHELL := /bin/bash
PY ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt | sha1sum | cut -c1-12)
export PYTHONUNBUFFERED := 1
export XLA_FLAGS ?= --xla_cpu_multi_thread_eigen=false

.PHONY: setup demo test lint spec train-cpu eval clean export

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	rm -f $(VENV)/.installed-*
	touch $@

spec: setup
	$(PYTHON) -m orient_jax.spec

lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

test: setup render-setup web-setup lint
	$(PYTHON) -m pytest
	$(MAKE) web-test

# Re-running resumes (or skips) the same run directory.
demo: setup spec
	$(PYTHON) -m experiments.train_rotation --config cpu --run runs/rotation/demo
	$(PYTHON) -m experiments.eval_rotation --run runs/rotation/demo --episodes 1024 --noise-deg 5
	$(MAKE) web-eval
	$(MAKE) serve

# Re-export web/public/models (pose.onnx, policy.onnx, task.json, manifest.json) from the shipped models.
export: setup
	$(PYTHON) -m experiments.export

clean:
	rm -rf runs/rotation/demo

# The Blender side (own venv: bpy pins numpy<2) and the browser side live in their own files.
-include render/render.mk
-include web/web.mk
