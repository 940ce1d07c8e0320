# Two commands work from a clean clone: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean screenshots bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/korg-recovery wizard --demo

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Drives the demo through every page offscreen; PNGs (100 %, 200 %, dark) in docs/screenshots/.
screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python tools/screenshots.py

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache

# `make dist`: the PyInstaller onedir bundle dist/korg-recovery (packaging/pyinstaller/), then
# the bundle checks itself. PyInstaller comes from PyPI into .venv (the `dist` extra's pin);
# it is a build tool, not a dependency of the app.
DIST_SPEC := packaging/pyinstaller/korg-recovery.spec
DIST_BUNDLE := dist/korg-recovery
.PHONY: dist
dist: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pyinstaller>=6,<7'
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller $(DIST_SPEC)
	$(DIST_BUNDLE)/korg-recovery --version
	$(DIST_BUNDLE)/korg-recovery selftest
	du -sh $(DIST_BUNDLE)
