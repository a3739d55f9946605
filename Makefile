# `make run` sets everything up and serves the console with one worker; `make test` runs the tests
# (what CI runs); `make test-fast` leaves out those that convert real models or start workers or
# browsers (the `slow`, `worker` and `browser` marks, pyproject.toml).
VENV ?= .venv
PORT ?= 8000
PY := $(VENV)/bin/python
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run setup install test test-fast lint clean

run: setup
	$(PY) manage.py ensure_admin
	honcho start --port $(PORT)  # honcho hands PORT to the web process

setup: install .secret_key
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_templates
	$(PY) manage.py make_example  # DATA_DIR/examples/mnist-cnn/, once (TensorFlow, its own process); Try it copies it
	$(PY) manage.py compile_translations
	$(PY) manage.py collectstatic --noinput -v 0

install: $(VENV)/.installed

# A random SECRET_KEY, made once and kept (git-ignored, mode 0600); SECRET_KEY in the environment wins.
.secret_key: | $(VENV)/.installed
	$(PY) -m console.secret_key

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

test: install .secret_key
	$(PY) manage.py compile_translations
	$(PY) tests/everything.py  # pytest on two processes, and tests/scale again on PostgreSQL and Redis beside it

test-fast: install .secret_key
	$(PY) manage.py compile_translations
	$(PY) -m pytest -n $${TEST_PROCESSES:-2} --dist loadfile -m "not slow and not worker and not browser" --hypothesis-profile=fast

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) staticfiles work .test-db.sqlite3* test-artifacts
