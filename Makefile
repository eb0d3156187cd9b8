# Two commands do everything on a fresh machine with Python 3.11 and git:
#   make demo   install, generate the sample inbox, run the pipeline, serve dashboard + Dagster UI
#   make test   install (and Debian's chromium for the browser tests), run the whole test suite
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo test test-fast chromium lint clean bench

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The locked environment (uv.lock), bytecode compiled (see pyproject: importing GX is 3x faster),
# and the dbt project parsed once (its manifest tells Dagster the dbt assets; the first run would
# otherwise parse it, several seconds; it is parsed again whenever the project changes).
install: $(UV)
	$(UV) sync --frozen --quiet
	$(VENV)/bin/python -c "from murmuration.environment import ensure_dbt_manifest as m; m()"

demo: install
	$(VENV)/bin/murmuration demo

# Debian's chromium drives the dashboard tests; never a browser download.
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

# Two workers, a test module each at a time (module fixtures build one initiative each).
test: install chromium
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile --durations=25

# The edit loop: everything but the tests that run the whole pipeline or drive the browser.
test-fast: install
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -m "not slow and not browser"


# Sizes S and M beside the DuckDB floor: a table and benchmark-results.json (docs/performance.md).
bench: install
	$(VENV)/bin/python -m app.benchmark --sizes S M

# Python style (ruff), the layers' import direction (import-linter, pyproject.toml) and the dbt
# project's SQL (sqlfluff with the dbt templater, .sqlfluff): a scratch warehouse for compiling.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	scratch=$$(mktemp -d) && MURMURATION_WAREHOUSE=$$scratch/lint.duckdb \
		MURMURATION_DUCKDB_SPILL=$$scratch/spill $(VENV)/bin/sqlfluff lint dbt_project \
		--disable-progress-bar --nocolor; status=$$?; rm -rf $$scratch; exit $$status

clean:
	rm -rf data/sample/.murmuration data/sample/inbox artifacts dbt_project/target dbt_project/logs
