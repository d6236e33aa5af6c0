# The two commands a new user runs are `make run` and `make test`; everything else is for
# developers. Meson does the building; this file only names the steps.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON_OPTS ?=

.PHONY: all deps build run test test-unit test-browser bench fuzz format clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=release -Db_ndebug=false $(MESON_OPTS)

build: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) sheetd

run: build
	@scripts/run.sh $(BUILD)/sheetd

# The whole suite: unit and HTTP tests under ASan+UBSan, then the browser tests against
# the release binary. The last line is "N passed, N failed".
test: deps $(BUILD)/build.ninja
	@ninja -C $(BUILD) sheetd
	@scripts/test.sh $(ASAN_BUILD) $(BUILD)

bench: build
	@scripts/bench.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh $(FUZZ_BUILD)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) bench/out
