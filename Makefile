# The two quick-start commands: `make run` and `make test`. Each does its own idempotent set-up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests need: command -> package
DEB_TOOLS := chromium:chromium chromium-headless-shell:chromium-headless-shell msmtp:msmtp snmpwalk:snmp pdftotext:poppler-utils
# Debian packages found by a file they install: file -> package (the PDF report's fonts)
DEB_FILES := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:fonts-dejavu-core \
             /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf:fonts-ipafont-gothic
PYTEST_ARGS ?=

.PHONY: run test setup debs venv lint clean

run: setup
	$(BIN)/epson-hil run

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: debs venv

debs:
	@missing=""; \
	for pair in $(DEB_TOOLS); do \
	  tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	for pair in $(DEB_FILES); do \
	  file=$${pair%%:*}; pkg=$${pair##*:}; \
	  test -e $$file || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check harness tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
