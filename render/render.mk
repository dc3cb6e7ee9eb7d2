# The Blender side: its own venv, because bpy 5.0.1 pins numpy<2 while jax needs numpy>=2.
# Included by the main Makefile; its variables are prefixed RENDER_ to stay out of its way.
#   make render-setup           create .render-venv from render/requirements.txt (pinned)
#   make data PRESET=quick      render data/$(PRESET) (a preset of render/config.py) for task profile
#                               $(TASK) (default cube); re-running resumes, and on a finished
#                               dataset it re-verifies every checksum. A profile whose object is
#                               its runtime's mesh reads it from RUNTIME_DIR:
#                               make data TASK=original PRESET=original RUNTIME_DIR=../main-prediction-RL
#   make data-verify PRESET=..  check manifest, checksums, shapes and every label
#   make glb                    re-export the profile's object.glb (cube: web/public/models) from render/asset.py
RENDER_VENV := .render-venv
RENDER_PYTHON := $(RENDER_VENV)/bin/python
RENDER_STAMP := $(RENDER_VENV)/.installed-$(shell cat render/requirements.txt | sha1sum | cut -c1-12)
PRESET ?= quick
TASK ?= cube
RENDER_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: render-setup data data-verify glb

render-setup: $(RENDER_STAMP)

$(RENDER_STAMP): render/requirements.txt
	@test -x $(RENDER_PYTHON) || $(call PY_CHECK,$(or $(PY),python3))
	test -x $(RENDER_PYTHON) || $(or $(PY),python3) -m venv $(RENDER_VENV)
	$(RENDER_PYTHON) -m pip install --quiet --disable-pip-version-check -r render/requirements.txt
	rm -f $(RENDER_VENV)/.installed-*
	touch $@

data: $(RENDER_STAMP)
	$(RENDER_PYTHON) -m render render --preset $(PRESET) --task $(TASK) --out data/$(PRESET) --workers $(RENDER_WORKERS) \
		$(if $(RUNTIME_DIR),--runtime-dir $(abspath $(RUNTIME_DIR)))

data-verify: $(RENDER_STAMP)
	$(RENDER_PYTHON) -m render verify data/$(PRESET)

glb: $(RENDER_STAMP)
	$(RENDER_PYTHON) -m render export-glb --task $(TASK)
