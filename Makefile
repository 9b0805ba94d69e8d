# mxguard - build, test, run.
#
#   make            build ./mxguard (says what to install when a tool or library is missing)
#   make deps       install the missing Debian packages needed to build and run
#   make test-deps  ... and those the tests need (Postfix, nsd, opendkim, clang, ...;
#                   no service is started or left enabled: contrib/install-deps.sh)
#   make run        make deps, build, run in the foreground
#   make test       make test-deps, build, run every test tier
#   make test-fresh the quick start on a fresh Debian 12 root (debootstrap; slow,
#                   not part of make test): tests/fresh.sh
#   make demo       a local show: DNS server + private Postfix + mxguard + senders
#   make bench      throughput and latency against a Postfix without mxguard
#   make soak       100,000 messages; memory, fds and threads must stay flat
#   make install    PREFIX=/usr/local DESTDIR=
#   make lint       cppcheck; make sanitize: unit tests under ASan+UBSan;
#                   make fuzz: libFuzzer harnesses, FUZZ_TIME=60 s each
#
# Library flags are evaluated lazily (=) so that `make deps` can install
# the packages before pkg-config is asked about them; every object waits for
# build-tools, which says what is missing before any compiler runs.
#
# Each object and binary records the headers it included (-MMD -MP, in
# build/**/*.d, read back below), so touching a header rebuilds exactly
# what includes it.

PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR  = $(PREFIX)/sbin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow
STD      = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE
PKGS     = libcares opendkim libidn2 libpsl zlib
SAN     ?=
DEPFLAGS = -MMD -MP
CPPFLAGS_ALL = -I. $(shell pkg-config --cflags $(PKGS) milter 2>/dev/null)
# The daemon's default -c: PREFIX/etc/mxguard.conf (/etc/mxguard.conf for PREFIX=/usr).
DEFS     = -DMXGUARD_CONF_PATH='"$(SYSCONFDIR)/mxguard.conf"'
CFLAGS_ALL   = $(STD) $(WARN) $(OPT) $(SAN) $(DEFS) $(CPPFLAGS_ALL) $(CFLAGS)
LIBS     = -lmilter -lspf2 $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
CORE_LIBS = -lspf2 $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
TEST_LIBS = -lspf2 $(shell pkg-config --libs $(PKGS) cmocka 2>/dev/null) -pthread

BUILD   = build
POLICY_SRC = $(wildcard policy/*.c)
CONF_SRC   = $(wildcard conf/*.c)
MILTER_SRC = $(wildcard milter/*.c)
# `mxguard replay`'s reading and re-deciding of decision logs (no libmilter)
REPLAY_SRC = $(wildcard replay/*.c)
# The real network layer; unit tests link tests/unit/fake_resolver.c instead.
NET_SRC    = policy/resolver.c policy/resolver_share.c policy/resolver_cache.c policy/dns_engine.c
CORE_SRC   = $(filter-out $(NET_SRC),$(POLICY_SRC)) $(CONF_SRC) $(REPLAY_SRC)
CORE_OBJ   = $(CORE_SRC:%.c=$(BUILD)/%.o)
NET_OBJ    = $(NET_SRC:%.c=$(BUILD)/%.o)
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_SUPPORT_SRC = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJ = $(UNIT_SUPPORT_SRC:%.c=$(BUILD)/%.o)

# The daemon's code but its network layer and main(): every test program links it.
CORE_LIB   = $(BUILD)/libcore.a
CORE_LIB_OBJ = $(CORE_OBJ) $(filter-out $(BUILD)/milter/main.o,$(MILTER_OBJ))
# The unit tests' stand-ins (fake resolver, DNS packet builder, DKIM helpers).
FAKE_LIB   = $(BUILD)/libfake.a

# Test drivers on the real resolver (real DNS from the tier's test server):
# the spf, dkim and resolver tiers run them.
DRIVERS    = $(BUILD)/tests/spf_driver $(BUILD)/tests/dkimcheck $(BUILD)/tests/resolve $(BUILD)/tests/cachecheck

# Compile one C file straight into the program $@ (a unit test, driver or
# harness), recording its headers in $@.d.
LINK_ONE   = $(CC) $(CFLAGS_ALL) $(DEPFLAGS) -MF $@.d -MT $@ -o $@

.PHONY: all deps test-deps build-tools run test test-fresh test-unit test-milter test-e2e test-spf test-dkim
.PHONY: demo bench soak install clean lint sanitize unit-bins drivers san-bins fuzz-bins fuzz-harnesses fuzz FORCE

all: mxguard

# Build and run: compiler, pkg-config, the -dev libraries, publicsuffix.
deps:
	@MAKE_TARGET=deps bash contrib/install-deps.sh build

# ... and the tests' tools. Starts no service and leaves none enabled.
test-deps:
	@MAKE_TARGET=test-deps bash contrib/install-deps.sh build test

# Before the first compiler runs: is there a compiler, pkg-config and every
# library? If not, say what to install (instead of "pkg-config: not found").
build-tools:
	@command -v $(firstword $(CC)) >/dev/null 2>&1 && command -v pkg-config >/dev/null 2>&1 && \
		pkg-config --exists $(PKGS) milter || \
		{ command -v $(firstword $(CC)) >/dev/null 2>&1 || echo "mxguard: no compiler: $(CC) not found" >&2; \
		  command -v pkg-config >/dev/null 2>&1 && pkg-config --print-errors --exists $(PKGS) milter || \
			echo "mxguard: pkg-config or a library is missing" >&2; \
		  MAKE_TARGET=deps bash contrib/install-deps.sh --check build; exit 1; }

mxguard: $(CORE_OBJ) $(NET_OBJ) $(MILTER_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c | build-tools
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -c -o $@ $<

# The default -c path is compiled into main.o: rebuild it when SYSCONFDIR
# changes, so `make install PREFIX=/usr` never installs a binary that looks
# for its configuration under another prefix. The stamp's time only moves
# when its content does.
CONF_STAMP = $(BUILD)/sysconfdir.stamp
$(CONF_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(SYSCONFDIR)' | cmp -s - $@ || echo '$(SYSCONFDIR)' >$@
$(BUILD)/milter/main.o: $(CONF_STAMP)
FORCE:

# ($(filter ...) keeps the headers the .d files add out of the command line.)
$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $(UNIT_SUPPORT_OBJ) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) $(filter %.c %.o,$^) $(TEST_LIBS)

# Replay's unit test reads back what the decision log (milter/, no libmilter) writes.
$(BUILD)/tests/test_replay: $(BUILD)/milter/decision_log.o $(BUILD)/milter/log.o

# The Prometheus text writer is milter/ code without libmilter: its unit test links it.
$(BUILD)/tests/test_metrics: $(BUILD)/milter/metrics_text.o

# The drivers: one source each, the real resolver's objects, the core library.
$(BUILD)/tests/spf_driver: tests/spf/spf_driver.c $(NET_OBJ) $(CORE_LIB) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) $(filter %.c,$^) $(NET_OBJ) $(CORE_LIB) $(CORE_LIBS)
$(BUILD)/tests/dkimcheck: tests/dkim/dkimcheck.c $(NET_OBJ) $(CORE_LIB) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) $(filter %.c,$^) $(NET_OBJ) $(CORE_LIB) $(CORE_LIBS)
$(BUILD)/tests/resolve: tests/resolver/resolve.c $(NET_OBJ) $(CORE_LIB) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) $(filter %.c,$^) $(NET_OBJ) $(CORE_LIB) $(CORE_LIBS)

$(BUILD)/tests/cachecheck: tests/resolver/cachecheck.c $(NET_OBJ) $(CORE_LIB) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) $(filter %.c,$^) $(NET_OBJ) $(CORE_LIB) $(CORE_LIBS)

$(CORE_LIB): $(CORE_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FAKE_LIB): $(UNIT_SUPPORT_OBJ)
	rm -f $@ && ar rcs $@ $^

# Packages first, then the build in a second make: the library flags are read
# after the packages are there, and -j cannot start a compiler before them.
run: deps
	@$(MAKE) --no-print-directory mxguard
	./mxguard -f -c conf/mxguard.conf

# Every tier; each prints its own "N passed, N failed" and the summary adds them up.
test: test-deps
	@$(MAKE) --no-print-directory mxguard $(UNIT_BIN) $(DRIVERS)
	@bash tests/run-all.sh

# The README's quick start (make run, make test) as a new user on a freshly
# bootstrapped Debian 12 would run it (root, a few GB in /tmp, ~15 minutes).
test-fresh:
	@bash tests/fresh.sh

test-unit: test-deps
	@$(MAKE) --no-print-directory unit-bins
	@bash tests/run-all.sh unit

test-milter test-e2e test-spf test-dkim: test-deps
	@$(MAKE) --no-print-directory mxguard
	@bash tests/run-all.sh $(@:test-%=%)

unit-bins: $(UNIT_BIN)

drivers: $(DRIVERS)

demo: test-deps
	@$(MAKE) --no-print-directory mxguard
	@bash tests/demo.sh

bench: test-deps
	@$(MAKE) --no-print-directory mxguard
	@bash tests/bench/run.sh

# Hours of mail (SOAK_MESSAGES=100000 by default) through Postfix + mxguard: delivery
# exactly once, and flat RSS, fds and threads after warm-up (tests/faults/soak.sh).
soak: test-deps
	@$(MAKE) --no-print-directory mxguard
	@bash tests/faults/soak.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -I. -D__GNUC__ policy conf milter replay tests

# Sanitizer and fuzzing builds each live in their own BUILD dir, so they never
# disturb build/ or ./mxguard (tests/static/run.sh runs all three):
#   make sanitize    unit tests under ASan+UBSan (build/asan), run them
#   make fuzz        libFuzzer harnesses (clang, build/fuzz), FUZZ_TIME s each
SAN_BUILD  = build/asan
SAN_FLAGS  = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_BUILD = build/fuzz
FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
FUZZ_SRC   = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN   = $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

sanitize: test-deps
	@$(MAKE) --no-print-directory san-bins
	@bash tests/static/run.sh sanitize

fuzz: test-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@FUZZ_TIME=$(FUZZ_TIME) bash tests/static/run.sh fuzz

san-bins:
	@$(MAKE) --no-print-directory BUILD=$(SAN_BUILD) OPT="-O1 -g" SAN="$(SAN_FLAGS)" \
		unit-bins $(SAN_BUILD)/mxguard

fuzz-bins:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link $(SAN_FLAGS)" fuzz-harnesses

fuzz-harnesses: $(FUZZ_BIN)

# The daemon inside a BUILD dir (make san-bins builds build/asan/mxguard).
$(BUILD)/mxguard: $(CORE_OBJ) $(NET_OBJ) $(MILTER_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

# Harnesses link archives, so each pulls in only the objects it uses (the
# core, milter/ parts but its main, the unit tests' fake resolver); one
# group, as the fakes and the core call each other.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FAKE_LIB) $(CORE_LIB) | build-tools
	@mkdir -p $(dir $@)
	$(LINK_ONE) -fsanitize=fuzzer $(filter %.c,$^) -Wl,--start-group $(FAKE_LIB) $(CORE_LIB) -Wl,--end-group $(CORE_LIBS)

install: mxguard
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 mxguard $(DESTDIR)$(SBINDIR)/mxguard
	install -m 0644 conf/mxguard.conf $(DESTDIR)$(SYSCONFDIR)/mxguard.conf.default
	test -e $(DESTDIR)$(SYSCONFDIR)/mxguard.conf || \
		install -m 0644 conf/mxguard.conf $(DESTDIR)$(SYSCONFDIR)/mxguard.conf
	@if ls contrib/*.8 >/dev/null 2>&1; then install -d $(DESTDIR)$(MANDIR)/man8 && \
		install -m 0644 contrib/*.8 $(DESTDIR)$(MANDIR)/man8/; fi
	@if ls contrib/*.5 >/dev/null 2>&1; then install -d $(DESTDIR)$(MANDIR)/man5 && \
		install -m 0644 contrib/*.5 $(DESTDIR)$(MANDIR)/man5/; fi

clean:
	rm -rf $(BUILD) mxguard

# The headers each object and program included, as the compiler saw them.
-include $(CORE_OBJ:.o=.d) $(NET_OBJ:.o=.d) $(MILTER_OBJ:.o=.d) $(UNIT_SUPPORT_OBJ:.o=.d)
-include $(UNIT_BIN:=.d) $(DRIVERS:=.d) $(FUZZ_BIN:=.d)
