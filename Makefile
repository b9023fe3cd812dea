# Every target creates .venv when it is missing; nothing else needs to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: crawl demo test eval lint format clean bench

$(STAMP): pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## crawl the offline fixture mirror into data/demo.db and show what was flagged
	$(BIN)/monitor demo

crawl: $(STAMP)  ## crawl the real outlets into data/monitor.db (needs the internet)
	$(BIN)/monitor crawl

# Two test workers per core: most end-to-end tests wait on a subprocess crawl, a server or a kill, so a second
# worker per core uses that time (a test file stays on one worker). Files are handed out in the order
# tests/conftest.py gives (long ones first): xdist would otherwise reorder them by their number of tests, which
# sends the long files with few cases (kill -9 rounds, distributed faults) last.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(2 * (os.cpu_count() or 1))')

test: $(STAMP)  ## the whole test suite, offline, two workers per core
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

eval: $(STAMP)  ## quality figures: extraction on golden and real pages, rules on the labelled corpus, story clustering
	$(BIN)/python -m monitor.devtools.eval_extraction
	@if [ -f ../shared/tools/eval_extract.py ] && [ -f ../shared/realpages/gold.jsonl ]; then \
		echo; echo "real pages, the shared scorer itself (../shared/tools/eval_extract.py):"; \
		$(BIN)/python ../shared/tools/eval_extract.py ../shared/realpages/gold.jsonl ../shared/realpages \
			-- $(BIN)/monitor extract {file} --url {url} | tail -n 1; \
	else echo "shared scorer: ../shared/tools/eval_extract.py or ../shared/realpages not found, skipped"; fi
	$(BIN)/python -m monitor.devtools.eval_rules
	$(BIN)/python -m monitor.devtools.eval_stories

bench: $(STAMP)  ## benchmarks (not tests), one table with targets and same-run baselines, also in bench/results.json
	$(BIN)/python bench/run.py

lint: $(STAMP)  ## ruff (lint and format) and mypy, all clean
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache *.egg-info build
