# Bento and Enoki in C - top-level build.
#
#   make            build everything into build/
#   make demo       the main job: xv6fs over FUSE serving a real workload
#   make check      every test, normal build and ASan+UBSan build
#   make bench      every benchmark: bench-fs (xv6fs against ext4 and
#                   fuse2fs), bench-sim (simulator and replay) and
#                   bench-upgrade (live upgrades under load)
#
# Each part of the tree adds its own rules in a fragment (*.mk, listed
# below) using the variables defined here.  O is the output directory;
# SAN=1 builds with AddressSanitizer and UBSan (make check does both, the
# sanitized build into build/san).  WERROR=1 turns warnings into errors
# (make check sets it).

O ?= build
SAN ?= 0
WERROR ?= 0

CC ?= gcc
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g -O2 -fPIC -MMD -MP \
	-Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wvla -fno-strict-aliasing \
	-Iinclude -Ibento/lib
ifeq ($(WERROR),1)
CFLAGS_BASE += -Werror
endif
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
endif
CFLAGS := $(CFLAGS_BASE) $(EXTRA_CFLAGS)
LDFLAGS := $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)

# Filled by the fragments.
ALL :=		# everything `make` builds
TESTS :=	# test programs/scripts run by `make check`, in order
CLEAN :=

.PHONY: all deps demo check check-build test bench bench-fs clean format
all: build-all

include common/common.mk
include bento/lib/lib.mk
include bento/user/user.mk
include bento/test/test.mk
include fs/hello/hello.mk
include fs/xv6fs/xv6fs.mk
include tools/tools.mk
include tests/tests.mk
include bench/bench.mk
-include enoki/enoki.mk
-include enoki/log/log.mk
-include sched/sched.mk
-include enoki/bpf/bpf.mk

.PHONY: build-all
build-all: $(ALL)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Install the Debian packages the build and tests need (no-op if present).
deps:
	@scripts/install-deps.sh

demo: deps
	$(MAKE) all
	scripts/demo.sh $(O)

# Everything, twice: a plain build and a sanitized one.
check: deps
	$(MAKE) WERROR=1 all
	$(MAKE) WERROR=1 O=build/san SAN=1 all
	tests/run-all.sh build build/san

bench: bench-fs bench-sim bench-upgrade

clean:
	rm -rf build $(CLEAN)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

-include $(shell find $(O) -name '*.d' 2>/dev/null)
