# wxfcgi - one GNU Makefile for the whole tree.
#
#   make                 build the programs into build/ (says which Debian
#                        packages to install when some are missing)
#   make test            install missing packages, then every test
#   make run             install missing packages, then the local stack
#                        (everything it writes is under /tmp/wxfcgi)
#   make stop            stop the stack of make run
#   make clean-run       stop it and remove /tmp/wxfcgi
#   make bench           the benchmark (wrk + callgrind)
#   make fuzz FUZZ_SECONDS=60   each libFuzzer target of tests/fuzz/ for so long
#   make soak SOAK_SECONDS=600  steady load through the stack; fails on growth
#   make install PREFIX=/usr/local DESTDIR= SYSCONFDIR=/etc
#   make uninstall       the same variables: removes what install put there
#   make deb             the Debian package, build/wxfcgi_VERSION_amd64.deb
#   make SANITIZE=address,undefined check    unit tests under ASan/UBSan
#   V=1                  show the commands

BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
SANITIZE ?=
VERSION  := 0.1.0

CC       ?= cc
PKGS     := fcgi expat libcrypto inih libcurl jansson hiredis libqrencode libpng libsystemd
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes \
            -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE -DWX_VERSION='"$(VERSION)"'
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) -MMD -MP
# Every file of src/ is compiled with the list of banned calls in force.
BANNED   := -include wx/banned.h
ifneq ($(SANITIZE),)
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS    += -fsanitize=$(SANITIZE)
endif

# Recursive (=) so that pkg-config runs only when a recipe needs it: the
# deps targets may have just installed the packages.
LIBS       = $(shell pkg-config --libs $(PKGS))
CHECK_LIBS = $(shell pkg-config --libs check)

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Every directory of src/ but lib and bench is a program of that name.
PROG_NAMES := $(filter-out lib bench,$(notdir $(wildcard src/*)))
# libwx, one folder a layer (core, proto, server, state, api): see README "Layout".
LIB_SRC  := $(wildcard src/lib/*/*.c)
LIB_OBJ  := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
PROG_OBJ := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(foreach p,$(PROG_NAMES),$(wildcard src/$(p)/*.c)))
TEST_SRC := $(wildcard tests/unit/*.c)
TEST_OBJ := $(TEST_SRC:tests/%.c=$(BUILD)/obj/tests/%.o)
LIBWX    := $(BUILD)/libwx.a
# The /wx application (gateway, handlers, retry table) without its main():
# what the unit tests and the benchmark link besides libwx.
APP_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out src/wxfcgi/main.c,$(wildcard src/wxfcgi/*.c)))
APPWX    := $(BUILD)/libwxfcgi.a
# The config sections of the other programs: the config tests load them too.
CONF_OBJ := $(patsubst %,$(BUILD)/obj/%/conf.o,wxproxy wxtoken wxsim wxctl)
PROGS    := $(PROG_NAMES:%=$(BUILD)/%)
BENCH    := $(BUILD)/wx-ceiling $(BUILD)/wx-bench-core
# Each program's man page lives beside its source, the scripts' beside
# them; wx.ini(5) at the top.
MANS     := $(wildcard src/*/*.1) $(wildcard scripts/*.1)
MAN5     := wx.ini.5
SCRIPTS  := scripts/wx-replay scripts/wx-spawn scripts/wx-certs
# Programs link only the libraries they use.
LDFLAGS  += -Wl,--as-needed

.PHONY: all test check e2e run stop clean-run bench install uninstall clean \
        deps-check deps-build deps-test deps-run deps-bench test-all lint \
        fuzz fuzz-bins soak deb

all: $(PROGS)

# Every compilation waits for the check of the build dependencies, which
# names the packages to install instead of failing with "cc: not found".
$(BUILD)/obj/%.o: src/%.c | deps-check
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(BANNED) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c | deps-check
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(LIBWX): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(APPWX): $(APP_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

define wx_program
$(BUILD)/$(1): $(patsubst src/%.c,$(BUILD)/obj/%.o,$(wildcard src/$(1)/*.c)) $(LIBWX)
	@$$(if $$(Q),echo "  LD      $$@")
	$$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$(filter %.o,$$^) $$(LIBWX) $$(LIBS)
endef
$(foreach p,$(PROG_NAMES),$(eval $(call wx_program,$(p))))

$(BUILD)/check_wx: $(TEST_OBJ) $(CONF_OBJ) $(APPWX) $(LIBWX)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(CONF_OBJ) $(APPWX) $(LIBWX) $(LIBS) $(CHECK_LIBS)

$(BUILD)/wx-ceiling: $(BUILD)/obj/bench/ceiling.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/wx-bench-core: $(BUILD)/obj/bench/core.o $(APPWX) $(LIBWX)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# --- dependencies (Debian packages; installed when missing) --------------

deps-check:
	@scripts/deps.sh --check build
deps-build:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh build test
deps-run:
	@scripts/deps.sh build run
deps-bench:
	@scripts/deps.sh build run bench

# --- tests ---------------------------------------------------------------

# Unit tests (Check) against the library.
check: $(BUILD)/check_wx
	$(Q)WX_FIXTURES=tests/fixtures $(BUILD)/check_wx

# End-to-end: real nginx, spawn-fcgi and the master on loopback; wxsim
# behind nginx with TLS; wxtoken against it; the README's commands against
# the demo stack.  Every suite runs (suite.sh fails one that leaves a
# process behind); the target fails if any did.
E2E := run sim token proxy accounts_api upstream ctl help readme redis routes accounts oauth families push hostile valgrind keepalive ops package redis_fleet redis_failover
e2e: $(PROGS)
	$(Q)rc=0; for t in $(E2E); do tests/e2e/suite.sh $$t $(BUILD) || rc=1; done; exit $$rc

test-all:
	$(Q)$(MAKE) --no-print-directory all check
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/san SANITIZE=address,undefined OPT=-O1 check
	$(Q)$(MAKE) --no-print-directory e2e

test: deps-test
	$(Q)$(MAKE) --no-print-directory test-all

# --- fuzzing -------------------------------------------------------------

# libFuzzer targets (tests/fuzz/*.c), built with clang against libwx and
# the programs' objects instrumented the same way, under $(BUILD)/fuzz;
# scripts/fuzz.sh seeds them from tests/fixtures and runs each.
FUZZ_SECONDS ?= 60
FUZZ_NAMES := gateway gateway_safe decrypt query config token answers upstream
FUZZ_BINS   = $(FUZZ_NAMES:%=$(BUILD)/fuzz_%)
# What the targets use of the programs besides libwx (an archive: each
# target takes only what it needs).  wxctl's menu.c and wxtoken's main.c
# are included by answers.c for their static readers.
FUZZ_PROG_OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out %/main.c src/wxctl/menu.c,\
                $(wildcard src/wxproxy/*.c src/wxctl/*.c src/wxtoken/*.c src/wxsim/conf.c)))

fuzz: deps-test
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang OPT=-O1 \
	    SANITIZE=fuzzer-no-link,address,undefined fuzz-bins
	$(Q)scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

fuzz-bins: $(FUZZ_BINS)

$(BUILD)/libfuzzprogs.a: $(FUZZ_PROG_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

.SECONDARY: $(FUZZ_NAMES:%=$(BUILD)/obj/tests/fuzz/%.o)
$(BUILD)/obj/tests/fuzz/%.o: ALL_CFLAGS += -Wno-unused-function
$(BUILD)/obj/tests/fuzz/gateway_safe.o: tests/fuzz/gateway.c | deps-check
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -DWX_FUZZ_SAFE $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(BUILD)/fuzz_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/libfuzzprogs.a $(APPWX) $(LIBWX)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libfuzzprogs.a $(APPWX) $(LIBWX) $(LIBS)

# --- running -------------------------------------------------------------

run: deps-run
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/wx-stack run

stop:
	$(Q)scripts/wx-stack stop

clean-run:
	$(Q)scripts/wx-stack clean

# Steady load through nginx and the master for SOAK_SECONDS; fails when a
# worker's memory or descriptors grow (scripts/soak.sh).  Not in make test.
SOAK_SECONDS ?= 600
soak: deps-bench
	$(Q)$(MAKE) --no-print-directory all $(BENCH)
	$(Q)scripts/soak.sh $(BUILD) $(SOAK_SECONDS)

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory all $(BENCH)
	$(Q)scripts/bench.sh $(BUILD) scripts/bench.png

lint:
	$(Q)scripts/check-layers.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
	    --inline-suppr -Iinclude -Isrc src \
	    --include=$$(pkg-config --variable=includedir jansson)/jansson.h

# --- installing ----------------------------------------------------------

# The example production config becomes $(SYSCONFDIR)/wxfcgi/wx.ini only
# when there is none: an existing one is never touched.
ETC := $(DESTDIR)$(SYSCONFDIR)/wxfcgi

install: $(PROGS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/wxfcgi/nginx \
	    $(DESTDIR)$(PREFIX)/share/doc/wxfcgi $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(ETC)
	install -m 0755 $(PROGS) $(SCRIPTS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 nginx/wx.conf nginx/wxproxy.conf nginx/wxsim.conf.in nginx/nginx.conf.in $(DESTDIR)$(PREFIX)/share/wxfcgi/nginx/
	install -m 0644 wx.ini wx.production.ini README.md $(DESTDIR)$(PREFIX)/share/doc/wxfcgi/
	install -m 0644 $(MANS) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/
	$(Q)if [ -e $(ETC)/wx.ini ]; then \
	    echo "$(ETC)/wx.ini exists: kept (the example is $(DESTDIR)$(PREFIX)/share/doc/wxfcgi/wx.production.ini)"; \
	else \
	    echo "install -m 0644 wx.production.ini $(ETC)/wx.ini"; \
	    install -m 0644 wx.production.ini $(ETC)/wx.ini; \
	fi

# Removes what install put there; $(SYSCONFDIR)/wxfcgi/wx.ini only when it
# is still the example, unchanged.
uninstall:
	rm -f $(PROG_NAMES:%=$(DESTDIR)$(PREFIX)/bin/%) $(SCRIPTS:scripts/%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(MANS)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man5/,$(notdir $(MAN5)))
	rm -rf $(DESTDIR)$(PREFIX)/share/wxfcgi $(DESTDIR)$(PREFIX)/share/doc/wxfcgi
	$(Q)if [ -e $(ETC)/wx.ini ] && ! cmp -s wx.production.ini $(ETC)/wx.ini; then \
	    echo "$(ETC)/wx.ini was changed: kept"; \
	else \
	    echo "rm -f $(ETC)/wx.ini"; rm -f $(ETC)/wx.ini; \
	    rmdir $(ETC) 2>/dev/null || true; \
	fi

# The Debian package: $(BUILD)/wxfcgi_$(VERSION)_amd64.deb (scripts/make-deb).
deb: $(PROGS)
	$(Q)scripts/make-deb $(BUILD) $(VERSION)

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(PROG_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
