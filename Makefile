# Redes: `make demo` installs everything and runs the local pipeline; `make test` runs the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.redes-installed
ARGS ?=
PYTEST_ARGS ?=

.PHONY: install demo test bench lock clean

install: $(STAMP)

$(STAMP): requirements/requirements.lock requirements/sql_util_stub.py setup.py scripts/install_env.sh \
          scripts/install_browser.sh
	bash scripts/install_env.sh $(VENV)
	bash scripts/install_browser.sh
	$(PY) -m redes.ingest.demo_data
	touch $@

demo: install
	$(PY) local_runner.py $(ARGS)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/demo_run.py

# Re-resolve the lock files from requirements/requirements.in and gpu.in (needs uv: `$(VENV)/bin/uv`).
lock:
	$(VENV)/bin/uv pip compile --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  requirements/requirements.in --override requirements/overrides.txt -o requirements/requirements.lock
	$(VENV)/bin/uv pip compile --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  requirements/gpu.in -c requirements/requirements.lock -o requirements/gpu.lock

clean:
	rm -rf redes_output
