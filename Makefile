# Callcenter: one entry point.  `make run` and `make test` are all a newcomer needs.
#
# Build: shared/*.c -> build/libccshared.a (PIC, hidden symbols), linked into each module
# with apxs; every module exports only its module struct (t/lint/check_symbols.sh).

APXS        ?= apxs
CC          ?= gcc
PKG_CONFIG  ?= pkg-config
comma       := ,
BUILD       := build
PY          := /usr/bin/python3

# CC_SANITIZE=1 builds everything with AddressSanitizer (make test-asan).
ifeq ($(CC_SANITIZE),1)
SAN_FLAGS   := -fsanitize=address -fno-omit-frame-pointer -O1
BUILD       := build-asan
else
SAN_FLAGS   :=
endif

APR_CFLAGS   = $(shell $(PKG_CONFIG) --cflags apr-1 apr-util-1 2>/dev/null)
DEP_CFLAGS   = $(shell $(PKG_CONFIG) --cflags jansson libjwt 2>/dev/null)
HTTPD_INC    = $(shell $(APXS) -q INCLUDEDIR 2>/dev/null)
WARN         = -std=gnu11 -Wall -Wextra -Werror
INCLUDES     = -Ishared -Imod_cc_auth -Imod_cc_tenant -Imod_callcenter -Imod_cc_chat \
               -I$(HTTPD_INC) $(APR_CFLAGS) $(DEP_CFLAGS)
LIB_CFLAGS   = $(WARN) -g -O2 -fPIC -fvisibility=hidden $(SAN_FLAGS) $(INCLUDES)

SHARED_SRC  := $(wildcard shared/*.c)
SHARED_OBJ  := $(SHARED_SRC:shared/%.c=$(BUILD)/shared/%.o)
SHARED_LIB  := $(BUILD)/libccshared.a

MODULES     := mod_cc_auth mod_cc_tenant mod_callcenter mod_cc_chat
MODULE_SOS  := $(foreach m,$(MODULES),$(if $(wildcard $(m)/$(m).c),$(BUILD)/$(m).so))

# Module files that are pure ("core") and so unit-tested directly.
UNIT_MODULE_CORE := $(wildcard mod_cc_auth/cc_auth_jwt.c mod_cc_tenant/cc_tenant_cache.c)

# -Wa,-I: the assembler finds the assembled OpenAPI document that cc_openapi.c .incbins.
APXS_WC      = $(foreach f,$(WARN) -fvisibility=hidden $(SAN_FLAGS) $(INCLUDES) \
                 -Wa$(comma)-I$(abspath $(BUILD)),-Wc,$(f))
MODULE_LIBS  = $(shell $(PKG_CONFIG) --libs jansson libjwt 2>/dev/null)

.SECONDEXPANSION:

.PHONY: all build deps client-deps run test unit lint itest check test-asan bench install clean db-shell \
        fuzz fuzz-deps distclean format-check

all: build

build: $(SHARED_LIB) $(MODULE_SOS)

# ---- the OpenAPI document: shared/openapi-base.json + each mod_*/openapi.json fragment,
# assembled (duplicates fail) into the file mod_callcenter embeds and serves byte for byte.
OPENAPI_DOC   := $(BUILD)/cc-openapi.json
OPENAPI_PARTS := shared/openapi_assemble.py shared/openapi-base.json $(wildcard mod_*/openapi.json)

$(OPENAPI_DOC): $(OPENAPI_PARTS)
	@mkdir -p $(BUILD)
	$(PY) shared/openapi_assemble.py . $@

$(BUILD)/mod_callcenter.so: $(OPENAPI_DOC)

$(BUILD)/shared/%.o: shared/%.c $(wildcard shared/*.h) | $(BUILD)/shared
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(BUILD)/shared:
	@mkdir -p $@

$(SHARED_LIB): $(SHARED_OBJ)
	@rm -f $@
	ar rcs $@ $^

# apxs/libtool writes its objects beside the sources; the .so lands in $(BUILD)/.libs.
$(BUILD)/%.so: $(SHARED_LIB) $$(wildcard %/*.c) $$(wildcard %/*.h) $(wildcard shared/*.h)
	@mkdir -p $(BUILD)
	$(APXS) -c -o $(BUILD)/$*.la $(APXS_WC) $(wildcard $*/*.c) $(SHARED_LIB) \
	    $(MODULE_LIBS) $(if $(SAN_FLAGS),-Wl$(comma)-fsanitize=address) \
	    -Wl,--exclude-libs,ALL >$(BUILD)/$*.build.log 2>&1 \
	    || { cat $(BUILD)/$*.build.log; exit 1; }
	@grep -E ': (warning|error):' $(BUILD)/$*.build.log || true
	@# A new inode: httpds running on the old file keep it (cp over it crashes them).
	cp $(BUILD)/.libs/$*.so $@.tmp && mv -f $@.tmp $@


# ---- unit tests (Check): one runner per t/unit/test_*.c, linking libccshared.a ----
UNIT_SRC   := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:t/unit/%.c=$(BUILD)/unit/%)
UNIT_LIBS   = $(shell $(PKG_CONFIG) --libs apr-1 apr-util-1 jansson libjwt check)

$(BUILD)/unit/%: t/unit/%.c $(wildcard t/unit/*.h) $(SHARED_LIB) $(UNIT_MODULE_CORE)
	@mkdir -p $(BUILD)/unit
	$(CC) $(WARN) -g -O1 $(SAN_FLAGS) $(INCLUDES) -It/unit -o $@ $< $(UNIT_MODULE_CORE) \
	    $(SHARED_LIB) $(UNIT_LIBS)

unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

# ---- lint: every t/lint/check_*.sh and check_*.py must pass ----
lint: export CC_BUILD_DIR := $(abspath $(BUILD))
lint: build
	@rc=0; for l in $(sort $(wildcard t/lint/check_*.sh t/lint/check_*.py)); do \
	    echo "== $$l"; case $$l in *.py) $(PY) $$l || rc=1;; *) bash $$l || rc=1;; esac; \
	done; exit $$rc

# ---- developer environment: private MariaDB + httpd (t/env/*.sh; layout in t/env/lib.sh) ----
# Every script takes CC_VAR_DIR (var/), CC_DB_PORT (13306), CC_HTTP_PORT (8080), ...
APACHE_ETC  ?= /etc/apache2
LIBEXECDIR   = $(shell $(APXS) -q LIBEXECDIR 2>/dev/null)
ASAN_REPORTS = build-asan/asan-reports
# use_sigaltstack=0: GCC 12's runtime reports a false stack-use-after-scope in its own
# sigaltstack interceptor when a thread exits (seen with APR threads).
UNIT_ASAN_OPTIONS = detect_leaks=1:use_sigaltstack=0

# Installs missing Debian packages only (node and npm included); silent when all are there.
deps:
	@bash t/env/deps.sh
	@$(MAKE) -s --no-print-directory client-deps

# The integration suite's client check (t/integration/test_920_client.py) runs
# openapi-typescript, tsc and Redocly CLI at the versions t/client/package-lock.json pins;
# npm ci only when node_modules is missing or older than the lock file.  No install
# scripts: none of the three needs one.
NPM_STAMP := t/client/node_modules/.package-lock.json
client-deps: $(NPM_STAMP)

$(NPM_STAMP): t/client/package.json t/client/package-lock.json
	@command -v npm >/dev/null || { echo "client-deps: no npm (make deps installs it)" >&2; exit 1; }
	cd t/client && timeout 600 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

# Foreground; Ctrl-C (or SIGTERM to make, which make forwards) stops httpd and MariaDB.
run: deps
	@$(MAKE) -s --no-print-directory build
	@exec bash t/env/run.sh

# The mariadb client as administrator on the running dev database (stdin may be a pipe).
db-shell:
	@bash t/env/db.sh shell

# Everything CI runs: each stage runs even if an earlier one failed; any failure fails.
test: deps
	@$(MAKE) --no-print-directory build
	@rc=0; for stage in unit lint itest; do \
	    echo "==== make $$stage"; \
	    $(MAKE) --no-print-directory $$stage || { echo "**** make $$stage FAILED"; rc=1; }; \
	done; \
	if [ $$rc -eq 0 ]; then echo "==== make test: all passed"; else echo "**** make test FAILED"; fi; \
	exit $$rc

# Integration tests only: the harness starts its own MariaDB + httpd in a temp dir.
itest: export CC_BUILD_DIR := $(abspath $(BUILD))
itest: build client-deps
	@bash t/env/itest.sh

check: unit lint itest

# Modules and unit tests under AddressSanitizer; the integration suite runs against
# httpd with libasan preloaded; fails on any ASan/LSan report that involves our code.
test-asan: deps
	@$(MAKE) --no-print-directory CC_SANITIZE=1 build
	@ASAN_OPTIONS=$(UNIT_ASAN_OPTIONS) $(MAKE) --no-print-directory CC_SANITIZE=1 unit
	@CC_BUILD_DIR=$(abspath build-asan) CC_ASAN_REPORTS=$(abspath $(ASAN_REPORTS)) \
	    bash t/env/asan.sh

# Modules into apxs's LIBEXECDIR, a2enmod snippets into mods-available, the sample
# vhost into sites-available.  DESTDIR is honoured for packaging.
# 3 tenants x 10,000 users and x 5,000 DIDs, then wrk on loopback; prints the README table.
bench: deps build
	bash t/bench/bench.sh

install: build
	install -d $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(APACHE_ETC)/mods-available \
	    $(DESTDIR)$(APACHE_ETC)/sites-available
	@for m in $(MODULES); do \
	    test -f $(BUILD)/$$m.so || { echo "missing $(BUILD)/$$m.so" >&2; exit 1; }; \
	    echo "install -m 644 $(BUILD)/$$m.so $(DESTDIR)$(LIBEXECDIR)/$$m.so"; \
	    install -m 644 $(BUILD)/$$m.so $(DESTDIR)$(LIBEXECDIR)/$$m.so || exit 1; \
	done
	install -m 644 httpd-conf/mods-available/*.load httpd-conf/mods-available/*.conf \
	    $(DESTDIR)$(APACHE_ETC)/mods-available/
	install -m 644 httpd-conf/callcenter.conf $(DESTDIR)$(APACHE_ETC)/sites-available/
	@echo "Next: set CCAuthJWTKeyFile and DBDParams, then"
	@echo "  a2enmod cc_auth cc_tenant callcenter cc_chat ssl && a2ensite callcenter"

# Build products only; the dev database in var/ survives (make distclean removes it).
clean:
	rm -rf build build-asan .pytest_cache t/integration/__pycache__ t/lint/__pycache__ \
	    shared/__pycache__
	rm -rf $(foreach d,shared $(MODULES),$(d)/.libs)
	rm -f $(foreach d,shared $(MODULES),$(d)/*.lo $(d)/*.slo $(d)/*.o $(d)/*.la)

distclean: clean
	@if bash t/env/db.sh status 2>/dev/null; then \
	    echo "the dev database is running (make run): stop it first" >&2; exit 1; fi
	rm -rf var

# ---- fuzzing (libFuzzer, clang): hostile bytes into the parsers behind the network ----
# `make fuzz` runs each target for FUZZ_TIME seconds from its seed corpus (t/fuzz/corpus).
FUZZ_TIME    ?= 30
FUZZ_TARGETS := $(patsubst t/fuzz/%.c,%,$(wildcard t/fuzz/fuzz_*.c))
FUZZ_CORE    := $(filter-out shared/cc_http.c shared/cc_db.c shared/cc_audit.c shared/cc_user.c,\
                  $(wildcard shared/*.c)) mod_cc_auth/cc_auth_jwt.c

$(BUILD)/fuzz/%: t/fuzz/%.c t/fuzz/fuzz_common.h t/unit/cc_test_fields.h $(FUZZ_CORE) $(wildcard shared/*.h)
	@mkdir -p $(BUILD)/fuzz
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    $(INCLUDES) -o $@ $< $(FUZZ_CORE) $(UNIT_LIBS)

fuzz-deps:
	@command -v clang >/dev/null && clang -print-file-name=libclang_rt.fuzzer-x86_64.a \
	    | grep -q / || { $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq \
	    clang libclang-rt-14-dev >/dev/null; }

fuzz: fuzz-deps $(FUZZ_TARGETS:%=$(BUILD)/fuzz/%)
	@for t in $(FUZZ_TARGETS); do echo "== $$t ($(FUZZ_TIME) s)"; \
	    mkdir -p $(BUILD)/fuzz/corpus-$$t; \
	    $(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
	        -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	        $(BUILD)/fuzz/corpus-$$t t/fuzz/corpus/$$t >$(BUILD)/fuzz/$$t.log 2>&1 \
	        || { tail -40 $(BUILD)/fuzz/$$t.log; exit 1; }; \
	    grep -E 'stat::number_of_executed_units' $(BUILD)/fuzz/$$t.log; \
	done
