# bento/user: the `bento` command, the FUSE user host.
#
# $(O)/bin/bento links the whole of libbento (--whole-archive) and exports
# its symbols (-rdynamic): file-system modules are loaded with dlopen and
# take every bento_* symbol they use from the binary, not only those the
# host itself happens to call.

FUSE3_CFLAGS := $(shell pkg-config --cflags fuse3 2>/dev/null)
FUSE3_LIBS := $(shell pkg-config --libs fuse3 2>/dev/null)

BENTO_USER_SRCS := $(wildcard bento/user/*.c)
BENTO_USER_OBJS := $(BENTO_USER_SRCS:%.c=$(O)/%.o)
BENTO_BIN := $(O)/bin/bento

$(BENTO_USER_OBJS): CFLAGS += $(FUSE3_CFLAGS)

$(BENTO_BIN): $(BENTO_USER_OBJS) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(BENTO_USER_OBJS) \
		$(LIBBENTO_WHOLE) \
		$(LIBBENTO_LIBS) $(FUSE3_LIBS)

ALL += $(BENTO_BIN)

# The POSIX behaviour test program lives with its test (tests/posix/).
include tests/posix/posix.mk

# The live-upgrade test modules and helper (tests/upgrade/).
include tests/upgrade/upgrade.mk
