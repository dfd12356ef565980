# Quick start: `make demo` and `make test`. Both create .venv when it is missing.
# .venv uses the newest Python >= 3.12 that scripts/find-python finds (else python3, if >= 3.11);
# `make PY=/path/to/python ...` picks one (an existing .venv keeps its Python until pyproject.toml changes
# or `make clean`). `make smoke-311` runs a few fast test modules in .venv-311 on Python 3.11, the oldest
# Python dqnn supports (PY311= picks that one).
PY ?=
PY311 ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENV311 := .venv-311
STAMP311 := $(VENV311)/.installed
DEMO_OUT ?= results/demo
PYTEST_ARGS ?= -n 2
# fast modules (about a minute on 2 idle cores): network checks and init, costs and gradients through the
# simulator, `dqnn simulate` and `dqnn estimate`, and the golden numbers at the fixture's own jax release (0.9.2,
# so at its strict tolerance); less test_cost's real-arithmetic pair, which alone took 40%
SMOKE_TESTS ?= tests/test_network.py tests/test_costs.py tests/test_gradients.py tests/test_cli_simulate.py \
	tests/test_cli_estimate.py tests/test_golden.py --deselect tests/test_costs.py::test_real_arithmetic_gives_the_complex_costs_and_gradients

.PHONY: demo test lint typecheck pytest smoke-311 docs bench clean

# $(call make-venv,DIR,PYTHON): (re)create DIR with PYTHON unless it already has that Python version,
# then install dqnn[dev] into it (the stamps rerun this whenever pyproject.toml changes).
define make-venv
	@py="$(2)" && want=$$("$$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') && \
	have=$$($(1)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true) && \
	if [ "$$have" != "$$want" ]; then \
		if [ -n "$$have" ]; then echo "$(1): replacing Python $$have with $$want"; fi; \
		echo "$(1): creating with $$py (Python $$want)"; rm -rf $(1) && "$$py" -m venv $(1); \
	fi
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -e '.[dev]'
	@$(1)/bin/python -c 'import sys, jax, jaxlib; print("$(1): Python", sys.version.split()[0], "jax", jax.__version__, "jaxlib", jaxlib.__version__)'
	touch $(1)/.installed
endef

$(STAMP): pyproject.toml
	$(call make-venv,$(VENV),$(or $(PY),$$(scripts/find-python)))

$(STAMP311): pyproject.toml
	$(call make-venv,$(VENV311),$(or $(PY311),$$(scripts/find-python 3.11)))

demo: $(STAMP)
	$(BIN)/dqnn reproduce --quick --out $(DEMO_OUT)
	@echo "report: $(DEMO_OUT)/report.md (plots beside it)"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) tests

test: lint typecheck pytest

smoke-311: $(STAMP311)
	$(VENV311)/bin/python -m pytest $(PYTEST_ARGS) $(SMOKE_TESTS)

# the documentation site (docs/, mkdocs.yml) into site/; --strict: any warning (a broken link or reference) fails
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_simulate.py

clean:
	rm -rf $(VENV) $(VENV311) results site .pytest_cache .mypy_cache .ruff_cache
