# xdpbeat build. `make` builds everything, `make test` runs all tests,
# `make deps` installs the Debian packages, `make run` runs the sensor.
# SAN=1 builds with AddressSanitizer/UBSan into build-san/.

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
SAN ?= 0

ifeq ($(FUZZ),1)
# libFuzzer targets (tests/fuzz/lf_*.c): everything instrumented for coverage + ASan/UBSan.
BUILD ?= build-fuzz
CC := clang-14
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1 -g
else ifeq ($(SAN),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT := -O2 -g
endif

PKGS := libbpf jansson yaml-0.1 libcurl libpcap zlib libzstd
CFLAGS := $(OPT) -std=gnu11 -D_GNU_SOURCE= -Wall -Wextra -Werror -Wno-unused-parameter -pthread \
	-Iinclude -Iprotos -Iuser -I$(BUILD) -MMD -MP $(shell pkg-config --cflags $(PKGS)) $(SANFLAGS) $(EXTRA_CFLAGS)
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lelf -lz -lm -pthread
LDFLAGS := $(SANFLAGS)

BPF_SRC := $(wildcard bpf/*.bpf.c)
BPF_OBJ := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRC))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRC))

USER_SRC := $(shell find user -name '*.c' | sort) $(wildcard protos/*.c)
USER_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRC))
LIB_OBJ := $(filter-out $(BUILD)/user/main.o,$(USER_OBJ))

UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRC))
FUZZ_SRC := $(filter-out tests/fuzz/lf_%.c,$(wildcard tests/fuzz/*.c))
LF_SRC := $(wildcard tests/fuzz/lf_*.c)
LF_TARGETS := $(patsubst tests/fuzz/lf_%.c,%,$(LF_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps test unit golden e2e e2e-workers1 run bench fuzz fuzz-build fuzz-smoke soak attack clean vmlinux format format-check
# Skeletons and BPF objects are kept (not intermediate files make deletes).
.SECONDARY: $(SKELS) $(BPF_OBJ)

all: $(BUILD)/xdpbeat $(BUILD)/unit_tests $(FUZZ_BIN) $(BENCH_BIN)

deps:
	./scripts/install-deps.sh

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/record.h vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -D__bpf__ -Wall -Werror -I. -Iinclude -Ibpf \
		-c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

# Each object depends on the headers it includes (-MMD -MP: build/**/*.d).
$(BUILD)/%.o: %.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/user/config/config_default.o: config/xdpbeat.yml
# Sources that include a skeleton are rebuilt when a BPF program changes.
$(BUILD)/user/capture/capture.o $(BUILD)/tests/unit/test_bpf.o: $(SKELS)

$(BUILD)/xdpbeat: $(USER_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(UNIT_OBJ) $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/lf/%: tests/fuzz/lf_%.c $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIB_OBJ) $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

unit: $(BUILD)/unit_tests
	cd tests && ../$(BUILD)/unit_tests --jobs 2 $(UNIT_ARGS)

# The golden tests (tests/e2e/*_golden.sh) read committed pcaps: no root needed.
golden: $(BUILD)/xdpbeat
	XDPBEAT=$(abspath $(BUILD))/xdpbeat BUILD=$(abspath $(BUILD)) ./tests/run-e2e.sh --golden

# Every other end-to-end script (live capture, Elasticsearch, ...).
e2e: all
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat BUILD=$(CURDIR)/$(BUILD) ./tests/run-e2e.sh

# The live scripts again with one pipeline thread (e2e runs them at the default workers).
e2e-workers1: all
	XB_WORKERS=1 E2E_ONLY=live XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat BUILD=$(CURDIR)/$(BUILD) ./tests/run-e2e.sh

test: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) golden
	$(MAKE) e2e
	$(MAKE) e2e-workers1
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat BUILD=$(CURDIR)/$(BUILD) ./tests/fuzz/smoke.sh
	$(MAKE) fuzz S=30
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat BUILD=$(CURDIR)/$(BUILD) SOAK_SECONDS=15 ./tests/soak.sh
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat ATTACK_SCALE=small ./tests/attack/run.sh
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat ATTACK_SCALE=small ./tests/attack/live.sh

# Coverage-guided fuzzing (libFuzzer, build-fuzz/): `make fuzz T=pipeline S=600` runs one
# target S seconds on its committed corpus; without T every target runs S (default 30) seconds.
fuzz-build:
	$(MAKE) FUZZ=1 $(addprefix build-fuzz/lf/,$(LF_TARGETS))

fuzz: fuzz-build
	./tests/fuzz/run-libfuzzer.sh $(or $(S),30) $(or $(T),$(LF_TARGETS))

# The random whole-pipeline driver (tests/fuzz/fuzz_pipeline.c) for a long soak.
fuzz-smoke: all
	FUZZ_SECONDS=$${FUZZ_SECONDS:-300} BUILD=$(CURDIR)/$(BUILD) ./tests/fuzz/smoke.sh

soak: all
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat BUILD=$(CURDIR)/$(BUILD) SOAK_SECONDS=$${SOAK_SECONDS:-600} ./tests/soak.sh

attack: all
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat ./tests/attack/run.sh
	XDPBEAT=$(CURDIR)/$(BUILD)/xdpbeat ATTACK_SCALE=full ./tests/attack/live.sh

run: deps
	$(MAKE) all
	./tests/run-default.sh $(CURDIR)/$(BUILD)/xdpbeat

bench: all
	BUILD=$(CURDIR)/$(BUILD) ./bench/run.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

# Every C source and header of ours, formatted by .clang-format (a given
# clang-format version: another one lays some lines out differently).
CLANG_FORMAT ?= clang-format-19
FORMAT_SRC = $(shell find user protos include bpf tests/unit tests/fuzz bench -name '*.[ch]' | sort)

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

# Fails on any line `make format` would change (CI runs it).
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-san build-fuzz
$(BUILD)/user/output/es/template.o: config/xdpbeat.template.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
