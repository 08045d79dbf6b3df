# Two entry points on a fresh machine with Python 3.11+:
#   make demo   run the main job on the bundled sample data
#   make test   run the whole test suite
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.geomines-installed
DEMO_OUT ?= out/demo
SM     := sample_data/sao_miguel

.PHONY: demo test install clean bench bench-data browser lint

$(STAMP): pyproject.toml setup.py geomines/engine/cgreen.c
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/geomines assess $(SM)/hazards_illustrative.geojson \
		$(SM)/gpw_v411_2020_count_2020.tif \
		--admin $(SM)/concelhos.gpkg --admin-id name --admin-name name \
		--rings 500,1000,5000 \
		--places $(SM)/places_geonames.geojson --place-radius 1000 \
		--out $(DEMO_OUT) --overwrite
	@echo "Open $(DEMO_OUT)/map.html in a browser; tables are in $(DEMO_OUT)/."

# Debian's chromium, for the map tests in a real headless browser.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			chromium fonts-dejavu-core >/dev/null; }

test: $(STAMP) browser lint
	$(PY) -m pytest

# ruff (lint and format) and mypy on the package, configured in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check geomines
	$(VENV)/bin/ruff format --check geomines
	$(VENV)/bin/mypy

# The benchmark (not part of the tests): its own venv, because the peers pin old packages.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml setup.py geomines/engine/cgreen.c benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e ".[dask]" -r benchmarks/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-deps popexposure==1.0.0.dev18
	touch $(BENCH_STAMP)

bench-data: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/make_data.py
	$(BENCH_VENV)/bin/python benchmarks/make_data.py --scale 2
	$(BENCH_VENV)/bin/python benchmarks/make_data.py --load 2000
	$(BENCH_VENV)/bin/python benchmarks/make_data.py --load 100000

bench: bench-data
	$(BENCH_VENV)/bin/python benchmarks/run.py --repeat 1 --scaling --dask --out benchmarks/results_latest.md

clean:
	rm -rf $(VENV) $(BENCH_VENV) out .pytest_cache
