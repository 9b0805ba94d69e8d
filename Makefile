# mxguard - build, test, run.
#
#   make            build ./mxguard
#   make run        install missing Debian packages, build, run in the foreground
#   make test       install missing Debian packages, build, run every test tier
#   make demo       a local show: DNS server + private Postfix + mxguard + senders
#   make bench      throughput and latency against a Postfix without mxguard
#   make install    PREFIX=/usr/local DESTDIR=
#   make lint       cppcheck; make sanitize: unit tests under ASan+UBSan;
#                   make fuzz: libFuzzer harnesses, FUZZ_TIME=60 s each
#
# Library flags are evaluated lazily (=) so that `make deps` can install
# the packages before pkg-config is asked about them.

PREFIX  ?= /usr/local
DESTDIR ?=
SBINDIR  = $(PREFIX)/sbin
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
MANDIR   = $(PREFIX)/share/man

CC      ?= cc
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Werror
STD      = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE
PKGS     = libcares opendkim libidn2 libpsl
SAN     ?=
CPPFLAGS_ALL = -I. $(shell pkg-config --cflags $(PKGS) milter)
# The daemon's default -c: PREFIX/etc/mxguard.conf (/etc/mxguard.conf for PREFIX=/usr).
DEFS     = -DMXGUARD_CONF_PATH='"$(SYSCONFDIR)/mxguard.conf"'
CFLAGS_ALL   = $(STD) $(WARN) $(OPT) $(SAN) $(DEFS) $(CPPFLAGS_ALL) $(CFLAGS)
LIBS     = -lmilter -lspf2 $(shell pkg-config --libs $(PKGS)) -pthread
TEST_LIBS = -lspf2 $(shell pkg-config --libs $(PKGS) cmocka) -pthread

BUILD   = build
POLICY_SRC = $(wildcard policy/*.c)
CONF_SRC   = $(wildcard conf/*.c)
MILTER_SRC = $(wildcard milter/*.c)
# The real network layer; unit tests link tests/unit/fake_resolver.c instead.
NET_SRC    = policy/resolver.c policy/resolver_share.c
CORE_SRC   = $(filter-out $(NET_SRC),$(POLICY_SRC)) $(CONF_SRC)
CORE_OBJ   = $(CORE_SRC:%.c=$(BUILD)/%.o)
NET_OBJ    = $(NET_SRC:%.c=$(BUILD)/%.o)
MILTER_OBJ = $(MILTER_SRC:%.c=$(BUILD)/%.o)

UNIT_SRC   = $(wildcard tests/unit/test_*.c)
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_SUPPORT_SRC = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_SUPPORT_OBJ = $(UNIT_SUPPORT_SRC:%.c=$(BUILD)/%.o)

.PHONY: all deps run test test-unit test-milter test-e2e test-spf test-dkim demo bench install clean lint sanitize
.PHONY: san-bins fuzz-bins fuzz-harnesses fuzz FORCE

all: mxguard

deps:
	@bash contrib/install-deps.sh

mxguard: $(CORE_OBJ) $(NET_OBJ) $(MILTER_OBJ)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

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

$(BUILD)/tests/%: tests/unit/%.c $(CORE_OBJ) $(UNIT_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $^ $(TEST_LIBS)

run: deps mxguard
	./mxguard -f -c conf/mxguard.conf

# Every tier; each prints its own "N passed, N failed" and the summary adds them up.
test: deps
	@$(MAKE) --no-print-directory mxguard $(UNIT_BIN)
	@bash tests/run-all.sh

test-unit: deps $(UNIT_BIN)
	@bash tests/run-all.sh unit

test-milter: deps mxguard
	@bash tests/run-all.sh milter

test-e2e: deps mxguard
	@bash tests/run-all.sh e2e

test-spf: deps mxguard
	@bash tests/run-all.sh spf

test-dkim: deps mxguard
	@bash tests/run-all.sh dkim

unit-bins: $(UNIT_BIN)

demo: deps mxguard
	@bash tests/demo.sh

bench: deps mxguard
	@bash tests/bench/run.sh

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -I. -D__GNUC__ policy conf milter tests

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
FUZZ_LIBS  = -lspf2 $(shell pkg-config --libs $(PKGS)) -pthread

sanitize: deps san-bins
	@bash tests/static/run.sh sanitize

fuzz: deps fuzz-bins
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

# Harnesses link an archive, so each pulls in only the objects it uses
# (the core, the unit tests' fake resolver, milter/ parts but its main).
$(BUILD)/libcore.a: $(CORE_OBJ) $(UNIT_SUPPORT_OBJ) $(filter-out $(BUILD)/milter/main.o,$(MILTER_OBJ))
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(wildcard tests/unit/*.h) $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(BUILD)/libcore.a $(FUZZ_LIBS)

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
