# meetwarden: the two set-up commands the README shows are `make run` and `make test`.
# Both work on a fresh Debian 12 machine: they install the system packages that
# are missing (as root, or through sudo), create .venv and install meetwarden in it.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
# Debian packages, checked one by one and installed only when missing: what the
# server needs, and what the tests need beside it (real clamd, PostgreSQL, Redis, Chromium,
# Firefox, coturn, and iptables for the TURN tests' firewalled host).
RUN_PACKAGES ?= python3-venv python3-dev gcc libmagic1
TEST_PACKAGES ?= clamav-daemon postgresql redis-server chromium firefox-esr coturn iptables iproute2
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
TYPED_RUNTIME := interpreter telling timers places room inbox entrances audit_entries decided writes view_batches \
  observations media_seam
TYPED_OPERATIONS := config cli_serve draining data_dir logs metrics operations capabilities turn problems \
  placement serving workers.handoff workers.front workers.worker workers.supervisor \
  i18n i18n.languages i18n.catalogs i18n.rendering i18n.markers i18n.issues i18n.extract_schema \
  cluster cluster.connection cluster.cpu cluster.keys cluster.nodes cluster.registry \
  cluster.placement cluster.placement_scripts cluster.envelope cluster.bus
PORT ?= 8000

.PHONY: run test test-fast test-deps lint format docs messages system-deps venv bench fuzz screenshots clean

system-deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(RUN_PACKAGES)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(DEV_STAMP)

venv: $(DEV_STAMP)

run: $(STAMP)
	$(VENV)/bin/meetwarden serve --host $(HOST) --port $(PORT) --data-dir data

test-deps: $(DEV_STAMP)
	@$(MAKE) --no-print-directory system-deps PACKAGES="$(TEST_PACKAGES)"

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# mypy reads the packages under the names they are imported by (meetwarden.*),
	@# through a tree of folder links (the editable install's finder is not a path).
	@rm -rf build/typecheck && mkdir -p build/typecheck/meetwarden
	@ln -s ../../../policies build/typecheck/meetwarden/policies
	@ln -s ../../../policies/protocol build/typecheck/meetwarden/protocol
	@ln -s ../../../client_sdk build/typecheck/meetwarden/client_sdk
	@ln -s ../../../server build/typecheck/meetwarden/server
	@ln -s ../../../server/rtc build/typecheck/meetwarden/rtc
	cd build/typecheck && MYPYPATH=. ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml \
	  -p meetwarden.policies -p meetwarden.protocol -p meetwarden.client_sdk -p meetwarden.rtc
	@# The Room's core is held to the same bar: its effect interpreter is exhaustive
	@# (assert_never), so an effect nothing applies fails here.
	cd build/typecheck && MYPYPATH=. ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml \
	  --follow-imports=silent $(addprefix -m meetwarden.server.runtime.,$(TYPED_RUNTIME)) \
	  $(addprefix -m meetwarden.server.,$(TYPED_OPERATIONS))
	$(VENV)/bin/lint-imports

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Two test processes, each taking whole modules (a module's server is started once): the
# suite waits on servers, browsers and networks more than it computes. TEST_JOBS=1: one.
# Then the tests that measure media against a clock (marker `alone`), by themselves.
TEST_JOBS ?= 2
test: test-deps lint
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadgroup -m "not alone"
	$(PY) -m pytest -q -m alone

# The fast tests only (no browser, WebRTC, PostgreSQL, Redis, clamd or server process): under a minute.
test-fast: venv
	$(PY) -m pytest -q -m "not slow"

# Every benchmark prints its figures beside a baseline measured in the same run.
bench: test-deps
	$(PY) bench/decisions.py
	$(PY) bench/name_check.py
	$(PY) bench/server_joins.py --quick
	$(PY) bench/webinar_admit.py --quick
	$(PY) bench/join_timing.py --rounds 30
	$(PY) bench/media_forwarding.py --quick
	$(PY) bench/media_meeting.py --quick
	$(PY) bench/media_network.py --quick
	$(PY) bench/room_memory.py --quick
	$(PY) bench/room_lifecycle.py --meetings 300
	$(PY) bench/file_upload.py
	$(PY) bench/media_camera_check.py
	$(PY) bench/browser_send_rate.py
	$(PY) bench/load.py --quick
	$(PY) bench/cluster_load.py --quick
	$(PY) bench/workers.py --quick

# The generated references: the policy language, and the case files that test a policy.
# Tests check these files against the models; they never rewrite them.
docs: $(DEV_STAMP)
	$(PY) -m meetwarden.policies.reference > docs/policy.md
	$(PY) -m meetwarden.policies.case_reference > docs/policy-testing.md
	$(PY) -m meetwarden.policies.case_reference --schema > docs/cases.schema.json

# The message catalogs (docs/web-client.md, "Languages"): every sentence of the server
# (M_, N_, say) and of the browser client (t('...') and the pages' texts) into the template,
# then each language's .po brought up to date. New sentences arrive untranslated, and
# tests/server/test_i18n_catalogs.py fails until each has its translation. Tests never
# rewrite these files.
LOCALES := server/i18n/locales
messages: $(DEV_STAMP)
	$(VENV)/bin/pybabel extract -F server/i18n/babel.cfg --no-default-keywords \
	  -k M_:1c,2 -k N_ -k say:2 -k t --no-location --sort-output --width 100 \
	  --project meetwarden --version 0.1.0 --copyright-holder "the meetwarden authors" \
	  -o $(LOCALES)/meetwarden.pot .
	@for locale in en zh_CN; do \
	  [ -f $(LOCALES)/$$locale/LC_MESSAGES/meetwarden.po ] || \
	    $(VENV)/bin/pybabel init -i $(LOCALES)/meetwarden.pot -d $(LOCALES) -D meetwarden -l $$locale --width 100; \
	done
	$(VENV)/bin/pybabel update -i $(LOCALES)/meetwarden.pot -d $(LOCALES) -D meetwarden \
	  --no-fuzzy-matching --width 100
	$(PY) -m meetwarden.server.i18n.maintain

# Every fuzz target for FUZZ_SECONDS each (docs/fuzzing.md); a crash found is saved
# in tests/fuzz/corpus/<target>/ and replayed by the tests from then on.
FUZZ_SECONDS ?= 60
fuzz: venv
	$(PY) bench/fuzz.py --seconds $(FUZZ_SECONDS)

# The README's pictures. Every browser test run saves its screenshots under
# build/screenshots (never into the working tree); this runs them afresh and replaces
# docs/screenshots with the documented ones (name-{1280,390}-{light,dark}.png).
screenshots: test-deps
	rm -rf build/screenshots
	$(PY) -m pytest -q tests/browser
	rm -f docs/screenshots/*.png
	cp build/screenshots/*-light.png build/screenshots/*-dark.png docs/screenshots/

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
