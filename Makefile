# netrig - network protocol test harness and fuzzing suite.
#
#   make            build everything into $(B)/ (never installs packages)
#   make deps       install the missing Debian packages of ci/packages.txt
#   make run        deps, build, run the bundled scenario suite with capture, print the report
#                   (SCN="paths": those scenarios only; OUT=dir: the reports there)
#   make check      deps, then every test: unit + integration + scenario suite, and the unit
#                   tests and fuzz regressions again under ASan+UBSan
#   make install    PREFIX=/usr/local DESTDIR= : netrig in bin/, the targets in
#                   libexec/netrig/, man pages and docs in share/; make uninstall
#   make man        the man pages into $(B)/man/ (go-md2man)
#
# Sources are discovered by directory, so adding a file needs no Makefile edit:
#   harness/lib/*.c          -> $(B)/libnr.a          (the nr_ library)
#   harness/src/*.c          -> $(B)/bin/netrig
#   targets/common/*.c, targets/<t>/*.c (not main.c) -> $(B)/libtargets.a
#   targets/<t>/main.c       -> $(B)/bin/<t>
#   harness/tests/test_*.c, targets/tests/test_*.c -> $(B)/tests/<name> (cmocka)
#   harness/tests/helpers/*.c -> $(B)/tests/helpers/<name> (programs the tests start)

B        ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
PREFIX   ?= /usr/local
CC       ?= cc
CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
STD      := -std=gnu11
INCLUDES := -Iharness/lib -Itargets/common -Itargets
PKG_CONFIG ?= pkg-config
PCAP_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcap 2>/dev/null)
PCAP_LIBS   := $(shell $(PKG_CONFIG) --libs libpcap 2>/dev/null || echo -lpcap)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)
# netrig's reports: JUnit with libxml2's xmlTextWriter, JSON Lines with jansson
REPORT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libxml-2.0 jansson 2>/dev/null || echo -I/usr/include/libxml2)
REPORT_LIBS   := $(shell $(PKG_CONFIG) --libs libxml-2.0 jansson 2>/dev/null || echo -lxml2 -ljansson)
# The executor hashes the streams it judges with XXH3 (libxxhash).
XXHASH_LIBS   := $(shell $(PKG_CONFIG) --libs libxxhash 2>/dev/null || echo -lxxhash)

ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ifeq ($(SAN),thread) # ThreadSanitizer (cannot be combined with ASan): make B=build/tsan SAN=thread
SANFLAGS := -fsanitize=thread -fno-omit-frame-pointer
endif

ALL_CFLAGS  = $(STD) $(WARN) $(CFLAGS) $(SANFLAGS) -pthread
ALL_CPPFLAGS = $(INCLUDES) $(PCAP_CFLAGS) $(REPORT_CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS) -pthread

LIB_SRC     := $(wildcard harness/lib/*.c)
NETRIG_SRC  := $(wildcard harness/src/*.c)
TARGETS     := $(patsubst targets/%/main.c,%,$(wildcard targets/*/main.c))
TLIB_SRC    := $(wildcard targets/common/*.c) \
               $(filter-out %/main.c,$(foreach t,$(TARGETS),$(wildcard targets/$(t)/*.c)))
TEST_SRC    := $(wildcard harness/tests/test_*.c targets/tests/test_*.c)
TESTS       := $(patsubst %.c,$(B)/tests/%,$(notdir $(TEST_SRC)))
HELPER_SRC  := $(wildcard harness/tests/helpers/*.c)
HELPERS     := $(patsubst harness/tests/helpers/%.c,$(B)/tests/helpers/%,$(HELPER_SRC))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))

LIBNR    := $(B)/libnr.a
LIBTGT   := $(B)/libtargets.a
BINS     := $(addprefix $(B)/bin/,$(TARGETS)) $(if $(NETRIG_SRC),$(B)/bin/netrig)

DEPS_STAMP := $(if $(NR_NODEPS),,$(B)/.deps-ok)

.SECONDARY:
.PHONY: all bins tests run check soak golden check-unit check-asan check-integration install uninstall \
        man clean deps bench-run mutate FORCE
all: bins tests

bins: $(BINS)
tests: $(TESTS) $(HELPERS) $(B)/bench-sources.ok $(B)/tests/libnr-shortio.so $(B)/tests/libnr-fault.so

# Benchmark programs are built by their scripts (some with afl-clang-fast);
# compile-check them here so an API change cannot break them unnoticed.
BENCH_SRC := $(wildcard harness/bench/*.c fuzz/bench/*.c)
$(B)/bench-sources.ok: $(BENCH_SRC) $(wildcard harness/lib/*.h harness/tests/*.h fuzz/lib/*.h)
	@mkdir -p $(@D)
	$(Q)for f in $(BENCH_SRC); do \
	    $(CC) $(ALL_CPPFLAGS) -Iharness/tests -Ifuzz/lib $(ALL_CFLAGS) -fsyntax-only $$f || exit 1; done
	@touch $@

deps: $(DEPS_STAMP)
$(B)/.deps-ok: ci/packages.txt ci/install-deps.sh
	@mkdir -p $(@D)
	sh ci/install-deps.sh
	@touch $@

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIBNR): $(call obj,$(LIB_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBTGT): $(call obj,$(TLIB_SRC))
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# Reference docs embedded in netrig (`netrig help scenario`), as a C array.
$(B)/gen/doc_scenario.c: harness/doc/scenario.md
	@mkdir -p $(@D)
	$(Q){ echo 'const char nr_doc_scenario[] = {'; od -An -v -tx1 $< | \
	  sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; } > $@.tmp && mv $@.tmp $@
$(B)/gen/%.o: $(B)/gen/%.c
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# `netrig --version`: the VERSION file of a release tarball, else `git
# describe` of the tree; rewritten only when it changes.
NR_VERSION = $(or $(shell cat VERSION 2>/dev/null),$(shell git describe --tags --always --dirty 2>/dev/null),unknown)
$(B)/gen/version.c: FORCE
	@mkdir -p $(@D)
	$(Q)echo 'const char netrig_version[] = "$(NR_VERSION)";' > $@.tmp && \
	  if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(B)/bin/netrig: $(call obj,$(NETRIG_SRC)) $(B)/gen/doc_scenario.o $(B)/gen/version.o $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(REPORT_LIBS) $(XXHASH_LIBS)

# Tests of netrig's report writers (harness/tests/test_report_*.c) link them.
REPORT_OBJ := $(call obj,$(wildcard harness/src/run_report.c harness/src/run_json.c harness/src/run_result.c \
                                    harness/src/run_github.c harness/src/run_shard.c))
$(B)/tests/test_report_%: $(B)/obj/harness/tests/test_report_%.o $(REPORT_OBJ) $(B)/gen/version.o $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(REPORT_LIBS)

# The executor as an archive (harness/src less main and the commands) for
# its unit tests (harness/tests/test_exec_*.c).
EXEC_OBJ := $(call obj,$(filter-out harness/src/main.c harness/src/cmd_%,$(NETRIG_SRC)))
$(B)/libnrexec.a: $(EXEC_OBJ)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^
$(B)/tests/test_exec_%: $(B)/obj/harness/tests/test_exec_%.o $(B)/libnrexec.a $(B)/gen/version.o $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PCAP_LIBS) $(REPORT_LIBS) $(XXHASH_LIBS)

$(B)/bin/%: $(B)/obj/targets/%/main.o $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# Unit tests link every library; a test's name says what it covers.
$(B)/tests/%: $(B)/obj/harness/tests/%.o $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PCAP_LIBS)
$(B)/tests/helpers/%: $(B)/obj/harness/tests/helpers/%.o $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^
$(B)/tests/%: $(B)/obj/targets/tests/%.o $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PCAP_LIBS)

# LD_PRELOAD injectors for the targets' tests (targets/tests/preload/*.c:
# shortio.c short reads/writes and EAGAIN, fault.c failing allocations and
# system calls): never sanitized, preloaded into any build.
$(B)/tests/libnr-%.so: targets/tests/preload/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(STD) $(WARN) $(CFLAGS) -fPIC -shared -fvisibility=hidden -pthread -o $@ $< -ldl

# What make check runs under ThreadSanitizer (in $(B)/tsan, see ci/run-tests.sh).
TSAN_CHECK := bin/tcp-echo-mt bin/netrig tests/test_srv_echo_mt

# --- running -------------------------------------------------------------

# Only these three install packages (ci/install-deps.sh); they build after it.
# make run SCN="paths" runs only those scenarios; OUT=dir (default $(B)/report).
run: deps
	$(MAKE) --no-print-directory B=$(B) all
	sh ci/run-suite.sh $(B) $(SCN)

check: deps
	$(MAKE) --no-print-directory B=$(B) all
	$(MAKE) --no-print-directory B=$(B)/asan SAN=1 NR_NODEPS=1 all
	$(MAKE) --no-print-directory B=$(B)/tsan SAN=thread NR_NODEPS=1 $(addprefix $(B)/tsan/,$(TSAN_CHECK))
	sh ci/test-import-cycles.sh $(B)
	sh ci/run-tests.sh $(B) $(B)/asan

# The flake budget: the suite REPEAT (20) times, -j JOBS (CPUs), under a busy
# loop per CPU; SCN="paths" to soak specific scenarios.  See ci/soak.sh.
soak: bins
	sh ci/soak.sh $(B)

# What capture costs a scenario, with tcpdump -w as the baseline (harness/doc/pcap.md).
bench-run: bins
	sh harness/bench/run_bench.sh $(B)

# What the fault proxy costs: a 64 MiB echo direct vs through it, latency
# accuracy (harness/doc/faults.md).  RUNS= SAMPLES=
.PHONY: bench-proxy
bench-proxy: bins
	sh harness/bench/proxy_bench.sh $(B)

# The crafted capture corpus and N (10000) byte-flip mutants of it through
# the capture analysis under ASan+UBSan (harness/doc/pcap.md).
.PHONY: pcap-mutants
pcap-mutants:
	sh harness/bench/pcap_mutants.sh $${N:-10000} $(B)

# Re-capture the scenarios that have golden captures in pcaps/ and store
# them (SCN="harness/scenarios/x/y.scn ..." to add or refresh specific ones).
golden: bins
	sh ci/golden.sh refresh $(B) $(SCN)

# Mutation testing (ci/MUTATION.md): FILES= MAX= SEED= JOBS= WORK=, in a private
# copy of git HEAD; the table is written to $(B)/mutate/mutation.md.
mutate:
	WORK=$${WORK:-$(B)/mutate} sh ci/mutate.sh

# Installed layout: netrig in bin/, the targets (which would clash with other
# programs' names) in libexec/netrig/, where netrig looks for them.
MAN_PAGES := $(B)/man/netrig.1 $(B)/man/netrig-pcap.1 $(B)/man/netrig-scenario.5
DOCS      := README.md harness/doc/scenario.md harness/doc/pcap.md harness/doc/run-json.md \
             harness/doc/run-json.schema.json harness/doc/your-server.md
TARGET_BINS := $(addprefix $(B)/bin/,$(TARGETS))
man: $(MAN_PAGES)
$(B)/man/%.1: harness/doc/man/%.1.md
	@mkdir -p $(@D)
	$(Q)go-md2man -in $< -out $@
$(B)/man/netrig-scenario.5: harness/doc/man/netrig-scenario.5.head harness/doc/scenario.md
	@mkdir -p $(@D)
	$(Q)cat $^ | go-md2man -out $@

install: bins man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/netrig \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/doc/netrig
	install -m 755 $(B)/bin/netrig $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(TARGET_BINS) $(DESTDIR)$(PREFIX)/libexec/netrig/
	install -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/netrig/

# Removes exactly what install puts there; under a DESTDIR also the
# directories left empty (a staging tree is left as it was found).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/netrig
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/libexec/netrig/,$(TARGETS))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(filter %.1,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man5/,$(notdir $(filter %.5,$(MAN_PAGES))))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/doc/netrig/,$(notdir $(DOCS)))
	rmdir $(DESTDIR)$(PREFIX)/libexec/netrig $(DESTDIR)$(PREFIX)/share/doc/netrig 2>/dev/null || true
	$(if $(DESTDIR),rmdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec \
	    $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/doc 2>/dev/null || true)

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
include fuzz/fuzz.mk
