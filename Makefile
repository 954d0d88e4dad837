# deployctl: build, test, benchmark, install.
#   make            build ./deployctl (release)
#   make deps       install missing build and test dependencies (Debian, apt)
#   make test       unit and integration tests under ASan+UBSan
#   make test-crash SIGKILL after every call of up fargate-ecs (minutes)
#   make bench      benchmarks, printed as ratios against peers
#   make install    PREFIX=/usr/local (DESTDIR honoured)

PREFIX ?= /usr/local
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= python3
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

LIBS_PC := libcurl jansson libxml-2.0 openssl libgit2 libzip
PC_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(LIBS_PC))
PC_LIBS = $(shell $(PKG_CONFIG) --libs $(LIBS_PC))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
BASE_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-DDC_VERSION='"$(VERSION)"' -DDC_DATADIR='"$(PREFIX)/share/deployctl"' -I. -Icli -include cli/util/prelude.h \
	$(WARN) $(PC_CFLAGS) -MMD -MP
RELEASE_CFLAGS = -O2 -g
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDLIBS = -Wl,--as-needed $(PC_LIBS) -lpthread -lm

SRC := $(sort $(wildcard cli/*.c cli/*/*.c commands/*.c))
LIB_SRC := $(filter-out cli/main.c,$(SRC))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c)) tests/unit/harness.c $(wildcard tests/unit/support_*.c)

REL_OBJ := $(SRC:%.c=build/rel/%.o)
ASAN_OBJ := $(SRC:%.c=build/asan/%.o)
ASAN_LIB_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
TEST_OBJ := $(TEST_SRC:%.c=build/asan/%.o)
VG_OBJ := $(LIB_SRC:%.c=build/rel/%.o) $(TEST_SRC:%.c=build/rel/%.o)

.PHONY: all deps demo test test-crash test-faults unit integration leakcheck bench install clean format

all: deployctl

deployctl: $(REL_OBJ)
	@echo "  LD      $@"
	@$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(BASE_CFLAGS) $(RELEASE_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/asan $<"
	@$(CC) $(BASE_CFLAGS) $(ASAN_FLAGS) -c -o $@ $<

# Test files see the harness header and the generated registry.
build/asan/tests/%.o build/rel/tests/%.o: BASE_CFLAGS += -Itests/unit -Ibuild/gen

build/gen/registry.h: $(TEST_SRC) tests/unit/gen-registry.sh
	@mkdir -p $(dir $@)
	sh tests/unit/gen-registry.sh $(filter tests/unit/test_%.c,$(TEST_SRC)) > $@

build/asan/tests/unit/harness.o build/rel/tests/unit/harness.o: build/gen/registry.h

build/asan/deployctl: $(ASAN_OBJ)
	@echo "  LD/asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/asan/unit-tests: $(ASAN_LIB_OBJ) $(TEST_OBJ)
	@echo "  LD/asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/rel/unit-tests: $(VG_OBJ)
	@echo "  LD      $@"
	@$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(LDLIBS)

# Test tools (tests/tools/<name>.c with its own main) linked with the
# library: sigv4_driver (botocore differential test and signing bench),
# resource_driver (one resource type against moto).
build/asan/tools/%: $(ASAN_LIB_OBJ) build/asan/tests/tools/%.o
	@mkdir -p $(dir $@)
	@echo "  LD/asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

build/rel/tools/%: $(LIB_SRC:%.c=build/rel/%.o) build/rel/tests/tools/%.o
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(LDLIBS)

# Links libcurl and OpenSSL only: the floor that deployctl's memory stands on.
build/rel/tools/curl_floor: build/rel/tests/tools/curl_floor.o
	@mkdir -p $(dir $@)
	@$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs libcurl openssl)

TOOLS := sigv4_driver resource_driver
.SECONDARY:

deps:
	@sh tests/tools/install_deps.sh
	@$(PYTHON) tests/tools/check_python_deps.py
	@sh tests/app/install.sh

unit: build/asan/unit-tests
	cd tests && DC_SHARED_DIR=$(CURDIR)/../shared ../build/asan/unit-tests

integration: build/asan/deployctl
	$(PYTHON) tests/integration/run.py --binary build/asan/deployctl

test-crash: build/asan/deployctl
	DEPLOYCTL_TEST_CRASH=1 $(PYTHON) tests/integration/run.py --binary build/asan/deployctl \
		test_crash_fargate

# The fault soak (about an hour): every AWS architecture up and destroyed
# through faults at 10% and 30% of calls, 20 seeds each, and killed at
# random points of up and destroy; nothing may be left. SOAK_ARGS narrows it
# (e.g. SOAK_ARGS="--archs k8s --seeds 2").
test-faults: deployctl
	$(PYTHON) tests/soak/faults.py --binary ./deployctl $(SOAK_ARGS)

test: build/asan/unit-tests build/asan/deployctl $(TOOLS:%=build/asan/tools/%)
	@$(PYTHON) tests/run_all.py --shared $(CURDIR)/../shared

leakcheck: build/rel/unit-tests
	cd tests && DC_SHARED_DIR=$(CURDIR)/../shared valgrind --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 -q ../build/rel/unit-tests

bench: deployctl build/rel/tools/sigv4_driver build/rel/tools/maxrss build/rel/tools/curl_floor \
		build/rel/tools/tiny_httpd
	$(PYTHON) tests/bench/run.py --binary ./deployctl

# The whole job on this machine, no AWS account: up (local target), bench,
# the table and an HTML report, destroy. DEMO_N requests per stack.
DEMO_ARCHS ?= $(sort $(patsubst templates/%/stack.json,%,$(wildcard templates/*/stack.json)))
DEMO_N ?= 500
demo: deps deployctl
	@sh tests/tools/demo.sh ./deployctl $(DEMO_N) deployctl-report.html $(DEMO_ARCHS)

install: deployctl
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 deployctl $(DESTDIR)$(PREFIX)/bin/deployctl
	install -m 644 man/deployctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/deployctl.1
	install -d $(DESTDIR)$(PREFIX)/share/deployctl
	cp -R templates $(DESTDIR)$(PREFIX)/share/deployctl/

# ---- fuzzing (libFuzzer, clang, ASan+UBSan) --------------------------------
#   make fuzz            each tests/fuzz/fuzz_<name>.c for FUZZ_SECONDS (60),
#                        one after another, corpus in build/fuzz/corpus/<name>
#                        seeded from tests/fuzz/corpus/<name>; crashes are
#                        written to build/fuzz/crash/<name>/
#   make fuzz FUZZ_TARGETS="config server" FUZZ_SECONDS=600
#   make fuzz-regress    replay tests/fuzz/regress/<name>/* and the seed
#                        corpora through every target (seconds)
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -Wno-unknown-warning-option
FUZZ_ALL := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o) build/fuzz/tests/fuzz/support.o

build/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/fuzz $<"
	@$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/tests/fuzz/%.o: BASE_CFLAGS += -Itests/fuzz

build/fuzz/fuzz_%: $(FUZZ_LIB_OBJ) build/fuzz/tests/fuzz/fuzz_%.o
	@echo "  LD/fuzz $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.PHONY: fuzz fuzz-build fuzz-regress
fuzz-build: $(FUZZ_ALL:%=build/fuzz/fuzz_%)

fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-regress: fuzz-build
	@sh tests/fuzz/regress.sh $(FUZZ_ALL)

# The same inputs through the gcc ASan+UBSan build with a plain main
# (tests/fuzz/replay.c): part of make test, no clang build needed.
FUZZ_REPLAY := $(FUZZ_ALL:%=build/asan/fuzz/replay_%)
build/asan/tests/fuzz/%.o: BASE_CFLAGS += -Itests/fuzz

build/asan/fuzz/replay_%: $(ASAN_LIB_OBJ) build/asan/tests/fuzz/fuzz_%.o \
		build/asan/tests/fuzz/support.o build/asan/tests/fuzz/replay.o
	@mkdir -p $(dir $@)
	@echo "  LD/asan $@"
	@$(CC) $(ASAN_FLAGS) -o $@ $^ $(LDLIBS)

test: $(FUZZ_REPLAY)
# ---- end fuzzing ------------------------------------------------------------

format:
	clang-format -i $(SRC) $(wildcard cli/*.h cli/*/*.h) $(TEST_SRC)

clean:
	rm -rf build deployctl

-include $(shell find build -name '*.d' 2>/dev/null)
