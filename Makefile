# The two commands: `make demo` and `make test`. Both set everything up first.
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.ictus-installed
# Debian packages: the JACK server and PortAudio for the live engine's tests, sox for
# the benchmark's peer, libltc11 to decode LTC in the tests, espeak-ng for the show's
# spoken cues, iproute2 for the Link tests, chromium for the web page's tests (Playwright
# drives Debian's browser; it never downloads one). Installed when running as root, else
# one apt-get line is printed.
DEB_PACKAGES := jackd2 libjack-jackd2-0 libportaudio2 sox libltc11 espeak-ng iproute2 chromium
DEMO_OUT := demo-out

.PHONY: setup demo test bench soak lint lock clean

$(STAMP): pyproject.toml tools/setup.sh constraints.txt Makefile
	sh tools/setup.sh $(DEB_PACKAGES)
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	@mkdir -p $(DEMO_OUT)
	$(BIN)/ictus render examples/example.click -o $(DEMO_OUT)/example.wav
	$(BIN)/ictus info examples/example.click
	$(BIN)/ictus plot examples/example.click -o $(DEMO_OUT)/example-tempo.png
	@echo "demo: listen to $(DEMO_OUT)/example.wav, look at $(DEMO_OUT)/example-tempo.png"

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Real-time JACK tests try up to this many times before a run with xruns that jackd
# blames on ictus counts as a failure (a shared 2-core VM stalls now and then).
ICTUS_RT_ATTEMPTS ?= 3
export ICTUS_RT_ATTEMPTS

test: lint
	$(BIN)/pytest -m "not soak" --doctest-modules src tests

bench: setup
	$(BIN)/python bench/bench.py

soak: setup
	$(BIN)/pytest -m soak tests

# Upgrade .venv to the newest releases pyproject.toml allows and record them in
# constraints.txt; then run `make test` and commit constraints.txt on its own.
lock: setup
	VENV=$(VENV) sh tools/lock.sh
	@echo "lock: now run 'make test'; if it passes, commit constraints.txt alone"

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
