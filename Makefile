# Two commands matter: `make run` (portal with demo data) and `make test` (everything).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
DEV_ENV := PORTAL_ENV=development
VENDOR := static/vendor/utrecht

.PHONY: run test setup lint format translations extract-messages assets system-deps clean

setup: $(VENV)/.installed assets translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed
	mkdir -p $(VENDOR)
	cp node_modules/@utrecht/component-library-css/dist/index.css $(VENDOR)/component-library.css
	cp node_modules/@utrecht/design-tokens/dist/index.css $(VENDOR)/design-tokens.css

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations -f 2>&1 | grep -v '^$$' || true

extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project wijkzaken-portal -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

# The mail sink and the outbox worker run beside the portal and stop with it.
run: setup
	$(DEV_ENV) $(FLASK) db upgrade
	$(DEV_ENV) $(FLASK) seed wijken
	@echo "Development mail is caught by a local SMTP sink and saved in instance/mail/ (one .eml per message)."
	@$(DEV_ENV) $(FLASK) devmail --port 8025 --dir instance/mail & sink=$$!; \
	  $(DEV_ENV) $(FLASK) outbox send --loop --interval 5 & worker=$$!; \
	  trap 'kill $$sink $$worker 2>/dev/null' EXIT INT TERM; \
	  $(DEV_ENV) $(FLASK) seed demo && \
	  $(DEV_ENV) $(FLASK) run --host 127.0.0.1 --port 5000

# Debian's Chromium drives the browser tests (Playwright cannot download its own here).
system-deps:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

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
