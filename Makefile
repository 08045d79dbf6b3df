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

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/geomines assess $(SM)/hazards_illustrative.geojson \
		$(SM)/gpw_v411_2020_count_2020.tif \
		--admin $(SM)/concelhos.gpkg --admin-id name --admin-name name \
		--rings 500,1000,5000 --out $(DEMO_OUT) --overwrite
	@echo "Open $(DEMO_OUT)/map.html in a browser; tables are in $(DEMO_OUT)/."

test: $(STAMP)
	$(PY) -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache
