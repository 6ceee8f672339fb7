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

APXS_WC      = $(foreach f,$(WARN) -fvisibility=hidden $(SAN_FLAGS) $(INCLUDES),-Wc,$(f))
MODULE_LIBS  = $(shell $(PKG_CONFIG) --libs jansson libjwt 2>/dev/null)

.SECONDEXPANSION:

.PHONY: all build deps run test unit lint itest check test-asan bench install clean db-shell \
        format-check

all: build

build: $(SHARED_LIB) $(MODULE_SOS)

$(BUILD)/shared/%.o: shared/%.c $(wildcard shared/*.h) | $(BUILD)/shared
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(BUILD)/shared:
	@mkdir -p $@

$(SHARED_LIB): $(SHARED_OBJ)
	@rm -f $@
	ar rcs $@ $^

# apxs/libtool writes its objects beside the sources; the .so lands in $(BUILD)/.libs.
$(BUILD)/%.so: $(SHARED_LIB) $$(wildcard %/*.c) $$(wildcard %/*.h) $$(wildcard %/*.json) $(wildcard shared/*.h)
	@mkdir -p $(BUILD)
	$(APXS) -c -o $(BUILD)/$*.la $(APXS_WC) $(wildcard $*/*.c) $(SHARED_LIB) \
	    $(MODULE_LIBS) $(if $(SAN_FLAGS),-Wl$(comma)-fsanitize=address) \
	    -Wl,--exclude-libs,ALL >$(BUILD)/$*.build.log 2>&1 \
	    || { cat $(BUILD)/$*.build.log; exit 1; }
	@grep -E ': (warning|error):' $(BUILD)/$*.build.log || true
	cp $(BUILD)/.libs/$*.so $@


# ---- unit tests (Check): one runner per t/unit/test_*.c, linking libccshared.a ----
UNIT_SRC   := $(wildcard t/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:t/unit/%.c=$(BUILD)/unit/%)
UNIT_LIBS   = $(shell $(PKG_CONFIG) --libs apr-1 apr-util-1 jansson libjwt check)

$(BUILD)/unit/%: t/unit/%.c t/unit/cc_test.h $(SHARED_LIB) $(UNIT_MODULE_CORE)
	@mkdir -p $(BUILD)/unit
	$(CC) $(WARN) -g -O1 $(SAN_FLAGS) $(INCLUDES) -It/unit -o $@ $< $(UNIT_MODULE_CORE) \
	    $(SHARED_LIB) $(UNIT_LIBS)

unit: $(UNIT_BINS)
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

# ---- lint: every t/lint/check_*.sh and check_*.py must pass ----
lint: build
	@rc=0; for l in $(sort $(wildcard t/lint/check_*.sh t/lint/check_*.py)); do \
	    echo "== $$l"; case $$l in *.py) $(PY) $$l || rc=1;; *) bash $$l || rc=1;; esac; \
	done; exit $$rc
