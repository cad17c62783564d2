# The two set-up commands (see README.md):
#   make demo   install what is missing, build (release), run the embedded demo on :8080
#   make test   install what is missing, build (dev: ASan + UBSan), run every test
# Other targets: build, release, bench, format, lint (clang-tidy), clean.

JOBS ?= $(shell nproc)
DEMO_ARGS ?=

.PHONY: demo test build release bench format lint clean deps deps-test

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test

build: deps-test
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

release: deps
	@cmake --preset release -DFW_BUILD_TESTS=OFF -DFW_BUILD_BENCH=OFF >/dev/null
	@cmake --build --preset release -j $(JOBS) --target fraudwatch

demo: release
	./build/release/src/app/fraudwatch demo $(DEMO_ARGS)

test: build
	@scripts/lint.sh
	@scripts/run-tests.sh

lint: build
	@scripts/lint.sh

bench: deps-test
	@cmake --preset release -DFW_BUILD_TESTS=ON -DFW_BUILD_BENCH=ON >/dev/null
	@cmake --build --preset release -j $(JOBS)
	for b in build/release/bench/fw_bench_*; do $$b; done
	./build/release/src/app/fraudwatch bench

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf build
