# Two commands matter: `make run` (portal with demo data) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
DEV_ENV := PORTAL_ENV=development
VENDOR := static/vendor/utrecht
# Every Python package, runtime and dev, pinned with hashes; `make lock` writes it.
LOCK := requirements/lock.txt
PIP_TOOLS := pip-tools==7.6.2
# `make run PORT=5100 MAIL_PORT=8125`: a second checkout on the same machine gets its own portal
# and its own mail sink.
PORT ?= 5000
MAIL_PORT ?= 8025
# Replies to the portal's mail: the inbound endpoint (`mail receive`) listens here.
INBOUND_PORT ?= 8026
RUN_ENV := $(DEV_ENV) PORTAL_MAIL_PORT=$(MAIL_PORT) PORTAL_INBOUND_MAIL_PORT=$(INBOUND_PORT)

.PHONY: run test setup lint format translations extract-messages assets system-deps clean lock mutate

setup: $(VENV)/.installed assets translations

# Only what the lock names, each file checked against its hash; then the portal itself, built
# with the locked hatchling and babel. `pip check` catches a lock older than pyproject.toml.
$(VENV)/.installed: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; \
	  echo "$(LOCK) does not match pyproject.toml: run 'make lock'"; exit 1; }
	touch $@

# Re-resolve after editing the dependencies in pyproject.toml; current pins are kept where they
# still fit. `make lock UPGRADE=1` moves everything to the newest allowed versions. The build
# requirements (hatchling, babel, editables) are locked too: the editable install above builds
# without isolation, so nothing unpinned is fetched.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(PIP_TOOLS)
	mkdir -p $(dir $(LOCK))
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes \
	  --allow-unsafe --strip-extras --extra dev --all-build-deps \
	  --no-emit-index-url --no-emit-find-links \
	  $(if $(UPGRADE),--upgrade) --output-file $(LOCK) pyproject.toml

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/@utrecht/component-library-css/dist/index.css $(VENDOR)/component-library.css
	cp node_modules/@utrecht/design-tokens/dist/index.css $(VENDOR)/design-tokens.css
	mkdir -p static/vendor/leaflet/images static/vendor/leaflet.markercluster
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css static/vendor/leaflet/
	cp node_modules/leaflet/dist/images/*.png static/vendor/leaflet/images/
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	  node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	  node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css static/vendor/leaflet.markercluster/

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations -f 2>&1 | grep -v '^$$' || true

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project wijkzaken-portal -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

# The mail sink, the outbox worker and the inbound mail endpoint run beside the portal and stop
# with it.
run: setup
	$(RUN_ENV) $(FLASK) db upgrade
	$(RUN_ENV) $(FLASK) seed wijken
	@echo "Development mail is caught by a local SMTP sink on port $(MAIL_PORT) and saved in instance/mail/ (one .eml per message)."
	@echo "Replies to that mail can be sent by SMTP to 127.0.0.1:$(INBOUND_PORT) (their Reply-To address)."
	@$(RUN_ENV) $(FLASK) devmail --port $(MAIL_PORT) --dir instance/mail & sink=$$!; \
	  $(RUN_ENV) $(FLASK) outbox send --loop --interval 5 & worker=$$!; \
	  $(RUN_ENV) $(FLASK) mail receive & inbound=$$!; \
	  trap 'kill $$sink $$worker $$inbound 2>/dev/null' EXIT INT TERM; \
	  $(RUN_ENV) $(FLASK) seed demo --base-url http://127.0.0.1:$(PORT) && \
	  $(RUN_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

# Debian's Chromium drives the browser tests (Playwright cannot download its own here), Java runs
# the Nu HTML checker, and the shared rate-limit test starts a redis-server of its own.
system-deps:
	@missing=; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v java >/dev/null || missing="$$missing default-jre-headless"; \
	  command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian's$$missing for the tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  fi

test: setup system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2 -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules $(VENDOR) translations/*/LC_MESSAGES/*.mo

# Mutation testing (slow, not in CI): [tool.mutmut] in pyproject.toml says which modules and
# which tests (SQLite only). A part: `make mutate ONLY='portal.domain.tokens.*'`. Starts from a
# fresh mutants/ (git-ignored); `.venv/bin/mutmut browse` (or `show NAME`) for the survivors.
mutate: $(VENV)/.installed
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 $(ONLY)
	$(BIN)/mutmut results
