# fuzz.mk - netrig's fuzzing builds; `include fuzz/fuzz.mk` at the end of the
# top Makefile (it uses B, CC, STD, WARN, ALL_*FLAGS, PCAP_LIBS, CMOCKA_LIBS,
# LIB_SRC, TLIB_SRC, LIBNR, LIBTGT, obj from there).  fuzz/README.md explains.
#
# Discovered by directory, like the rest of the build:
#   fuzz/<name>.c          one harness (LLVMFuzzerTestOneInput) per file ->
#     $(B)/fuzz/replay-<name>        plain replay program (build's own flags; ASan in build/asan)
#     $(B)/fuzz/afl-<name>           afl-clang-fast + AFL++'s libFuzzer driver, ASan+UBSan (FUZZ_ASAN=0: none)
#     $(B)/fuzz/afl-<name>.cmplog    the same with AFL_LLVM_CMPLOG=1
#     $(B)/fuzz/libfuzzer-<name>     clang -fsanitize=fuzzer,address,undefined
#   fuzz/lib/*.c           -> $(B)/libfz.a (records, player + socketpair driver)
#   fuzz/tests/test_*.c    -> $(B)/tests/test_* (cmocka; run by make check)
#   fuzz/preload/*.c       -> $(B)/fuzz/libnetrig-preload.so (LD_PRELOAD desocketing)
#   fuzz/preload/tests/*.c -> $(B)/fuzz/preload-tests/<name> (tiny test servers)
#   targets/<t>/main.c     -> $(B)/fuzz/aflbin-<t> (server built with afl-clang-fast, for preload mode)

AFL_CC      ?= afl-clang-fast
# afl-clang-fast's banners and pass chatter only with V=1, like the commands
ifneq ($(Q),)
export AFL_QUIET := 1
endif
LF_CC       ?= clang
FUZZ_CFLAGS ?= -O2 -g
FUZZ_ASAN   ?= 1
FUZZER      ?= tcp-greet
SECONDS     ?= 60
JOBS        ?= 1

FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(wildcard fuzz/*.c))
FZLIB_SRC    := $(wildcard fuzz/lib/*.c)
FZTEST_SRC   := $(wildcard fuzz/tests/test_*.c)
FZPRE_SRC    := $(wildcard fuzz/preload/*.c)
FZPRET_SRC   := $(wildcard fuzz/preload/tests/*.c)
LIBFZ        := $(B)/libfz.a
FZ_PRELOAD   := $(B)/fuzz/libnetrig-preload.so
FZ_PRETESTS  := $(patsubst fuzz/preload/tests/%.c,$(B)/fuzz/preload-tests/%,$(FZPRET_SRC))
FUZZ_REPLAYS := $(addprefix $(B)/fuzz/replay-,$(FUZZ_NAMES))
FUZZ_TESTS   := $(patsubst fuzz/tests/%.c,$(B)/tests/%,$(FZTEST_SRC))
FUZZ_AFL     := $(addprefix $(B)/fuzz/afl-,$(FUZZ_NAMES)) \
                $(addsuffix .cmplog,$(addprefix $(B)/fuzz/afl-,$(FUZZ_NAMES)))
FUZZ_LF      := $(addprefix $(B)/fuzz/libfuzzer-,$(FUZZ_NAMES))

FZ_SAN       := $(if $(filter 1,$(FUZZ_ASAN)),-fsanitize=address -fsanitize=undefined -fno-sanitize-recover=undefined)
FZ_CFLAGS     = $(STD) $(WARN) $(FUZZ_CFLAGS) -pthread
FZ_CODE      := $(LIB_SRC) $(TLIB_SRC) $(FZLIB_SRC)
fzobj         = $(patsubst %.c,$(B)/fuzz/obj-$(1)/%.o,$(2))

.PHONY: fuzz-replay fuzz-tests fuzz-test fuzz-afl fuzz-libfuzzer fuzz-preload \
        fuzz fuzz-triage fuzz-selftest fuzz-bench
all: $(FUZZ_REPLAYS) $(FZ_PRELOAD) $(FZ_PRETESTS)
tests: $(FUZZ_TESTS)

fuzz-replay: $(FUZZ_REPLAYS)
fuzz-tests: $(FUZZ_TESTS)
fuzz-afl: $(FUZZ_AFL)
fuzz-libfuzzer: $(FUZZ_LF)
fuzz-preload: $(FZ_PRELOAD) $(FZ_PRETESTS)

# Build and run the fuzz library's own tests (make check runs them too).
fuzz-test: $(FUZZ_TESTS) $(FZ_PRELOAD) $(FZ_PRETESTS)
	@for t in $(FUZZ_TESTS); do NR_BIN=$(B)/bin CMOCKA_MESSAGE_OUTPUT=stdout $$t || exit 1; done

# --- plain replay + library, with the build's own flags (B=build/asan: ASan) --
$(LIBFZ): $(call obj,$(FZLIB_SRC))
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/fuzz/replay-%: $(B)/obj/fuzz/%.o $(B)/obj/fuzz/driver/replay_main.o $(LIBFZ) $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PCAP_LIBS)

$(B)/tests/test_fz_%: $(B)/obj/fuzz/tests/test_fz_%.o $(LIBFZ) $(LIBTGT) $(LIBNR)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PCAP_LIBS)

# --- AFL++ and libFuzzer flavours: target code compiled per flavour ----------
$(B)/fuzz/obj-afl/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(ALL_CPPFLAGS) $(FZ_CFLAGS) $(FZ_SAN) -MMD -MP -c $< -o $@
$(B)/fuzz/obj-cmplog/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)AFL_LLVM_CMPLOG=1 $(AFL_CC) $(ALL_CPPFLAGS) $(FZ_CFLAGS) $(FZ_SAN) -MMD -MP -c $< -o $@
$(B)/fuzz/obj-lf/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(LF_CC) $(ALL_CPPFLAGS) $(FZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

# Each flavour's library and target code as an archive: a program links only
# the objects it uses, so its coverage map (which afl-fuzz scans after every
# execution) holds only code the harness can reach, and a server built for
# preload mode does not link libpcap and its dependencies, whose mappings
# every fork and exit would pay for.
$(foreach f,afl cmplog lf,$(eval $(B)/fuzz/libcode-$(f).a: $(call fzobj,$(f),$(FZ_CODE))))
$(B)/fuzz/libcode-%.a:
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/fuzz/afl-%.cmplog: $(B)/fuzz/obj-cmplog/fuzz/%.o $(B)/fuzz/libcode-cmplog.a
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)AFL_LLVM_CMPLOG=1 $(AFL_CC) $(FZ_CFLAGS) $(FZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PCAP_LIBS)
$(B)/fuzz/afl-%: $(B)/fuzz/obj-afl/fuzz/%.o $(B)/fuzz/libcode-afl.a
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(FZ_CFLAGS) $(FZ_SAN) -fsanitize=fuzzer -o $@ $^ $(PCAP_LIBS)
$(B)/fuzz/libfuzzer-%: $(B)/fuzz/obj-lf/fuzz/%.o $(B)/fuzz/libcode-lf.a
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(LF_CC) $(FZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PCAP_LIBS)
$(B)/fuzz/aflbin-%: $(B)/fuzz/obj-afl/targets/%/main.o $(B)/fuzz/libcode-afl.a
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(FZ_CFLAGS) $(FZ_SAN) -o $@ $^

# Benchmark programs (fuzz/bench.sh): never sanitized, for comparable figures.
$(B)/fuzz/bench-empty-persistent: fuzz/bench/empty_persistent.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(FZ_CFLAGS) -fsanitize=fuzzer -o $@ $<
$(B)/fuzz/bench-empty-fork: fuzz/bench/empty_fork.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(FZ_CFLAGS) -o $@ $<
$(B)/fuzz/bench-thread-cost: fuzz/bench/thread_cost.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(STD) $(WARN) $(FUZZ_CFLAGS) -pthread -o $@ $<
$(B)/fuzz/bench-tcp-baseline: fuzz/bench/tcp_baseline.c $(B)/fuzz/libcode-afl.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(AFL_CC) $(ALL_CPPFLAGS) $(FZ_CFLAGS) $(FZ_SAN) -o $@ $^

# --- LD_PRELOAD desocketing library: never sanitized (it is preloaded into
# arbitrary binaries), self-contained (compiles the record parser and the
# record player, which need only libc, again).
$(B)/fuzz/obj-pic/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_CPPFLAGS) $(STD) $(WARN) $(FUZZ_CFLAGS) -fPIC -fvisibility=hidden -pthread -MMD -MP -c $< -o $@
$(FZ_PRELOAD): $(call fzobj,pic,$(FZPRE_SRC) fuzz/lib/fz_records.c fuzz/lib/fz_player.c)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) -shared -pthread -o $@ $^ -ldl
$(B)/fuzz/preload-tests/%: fuzz/preload/tests/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(STD) $(WARN) $(FUZZ_CFLAGS) -pthread -o $@ $<

# --- campaigns and tools: scripts build what they need through make ---------
FZ_MAKE = $(MAKE) --no-print-directory B=$(B)
# make fuzz fails when the campaign saved a crash: campaign.sh ends by
# naming the raw crashes and the regression files triage wrote, and exits 1
# (0: no crash, 2: it could not run).  GNU make turns any failed recipe into
# its own exit status 2 ("Error 1" names the script's), so a CI job that
# must tell a crash from a broken setup runs `sh fuzz/campaign.sh NAME
# SECONDS JOBS` itself.  Graphs: $(B)/fuzz/out/$(FUZZER)/plot/index.html.
# FUZZ_CMPLOG=0: no CmpLog program or instance.
fuzz:
	FUZZ_MAKE='$(FZ_MAKE)' B=$(B) sh fuzz/campaign.sh $(FUZZER) $(SECONDS) $(JOBS)
fuzz-triage:
	FUZZ_MAKE='$(FZ_MAKE)' B=$(B) sh fuzz/triage.sh $(FUZZER)
# SECONDS given to make (command line or environment) bounds each planted
# bug's campaign; else selftest.sh's own default (300).
fuzz-selftest:
	FUZZ_MAKE='$(FZ_MAKE)' B=$(B) sh fuzz/selftest.sh \
	    $(if $(filter command line environment,$(origin SECONDS)),$(SECONDS))
# every server target unless FUZZER=<target> is given
fuzz-bench:
	FUZZ_MAKE='$(FZ_MAKE)' B=$(B) sh fuzz/bench.sh $(SECONDS) \
	    $(if $(filter command line,$(origin FUZZER)),$(FUZZER))

# Objects are kept by the top Makefile's `.SECONDARY:` (every target); a
# `.SECONDARY` with a list here would narrow it to that list.

-include $(shell find $(B)/fuzz -name '*.d' 2>/dev/null)
