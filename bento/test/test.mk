# bento/test: the in-process test host (libbentotest.a), and the rules for
# the tests built on it (tests/xv6fs/*.c, tests/crash/*.c), which link a
# file system straight into the test program.
BENTOTEST_SRCS := $(wildcard bento/test/*.c)
LIBBENTOTEST := $(O)/lib/libbentotest.a

# Tests find mkfs.xv6fs and fsck.xv6fs in this build's bin/.
$(O)/bento/test/tools.o: CFLAGS += -DBENTO_TEST_BIN_DIR='"$(abspath $(O))/bin"'

$(LIBBENTOTEST): $(BENTOTEST_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL += $(LIBBENTOTEST)

# Test programs over xv6fs: one per source file, named xv6fs_<file> and
# crash_<file>.
XV6FS_LIB := $(O)/fs/libxv6fs.a
XV6FS_TEST_SRCS := $(wildcard tests/xv6fs/*.c)
CRASH_TEST_SRCS := $(wildcard tests/crash/*.c)
XV6FS_TESTS := $(patsubst tests/xv6fs/%.c,$(O)/tests/bin/xv6fs_%,\
	$(filter-out tests/xv6fs/common.c,$(XV6FS_TEST_SRCS)))
CRASH_TESTS := $(patsubst tests/crash/%.c,$(O)/tests/bin/crash_%,\
	$(filter-out tests/crash/recdev.c,$(CRASH_TEST_SRCS)))
BENTOTEST_LDLIBS = $(LIBBENTOTEST) $(XV6FS_LIB) $(LIBBENTO) \
	$(LIBBENTO_LIBS) -lcmocka
XV6FS_TEST_COMMON := $(if $(wildcard tests/xv6fs/common.c),\
	$(O)/tests/xv6fs/common.o)

$(O)/tests/xv6fs/%.o $(O)/tests/crash/%.o: CFLAGS += -Ibento/test

$(O)/tests/bin/xv6fs_%: $(O)/tests/xv6fs/%.o $(XV6FS_TEST_COMMON) \
		$(LIBBENTOTEST) $(XV6FS_LIB) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BENTOTEST_LDLIBS)

$(O)/tests/bin/crash_%: $(O)/tests/crash/%.o $(LIBBENTOTEST) $(XV6FS_LIB) \
		$(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BENTOTEST_LDLIBS)

# The recording device's own test needs no file system.
BENTOTEST_SELFTEST := $(O)/tests/bin/crash_recdev
$(BENTOTEST_SELFTEST): $(O)/tests/crash/recdev.o $(LIBBENTOTEST) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBBENTOTEST) $(LIBBENTO) \
		$(LIBBENTO_LIBS)
ALL += $(BENTOTEST_SELFTEST)

# The tests run mkfs.xv6fs and fsck.xv6fs, so they are built with them.
bentotest-xv6fs: $(XV6FS_TESTS) $(CRASH_TESTS) $(O)/bin/mkfs.xv6fs \
	$(O)/bin/fsck.xv6fs
.PHONY: bentotest-xv6fs

ALL += $(XV6FS_TESTS) $(CRASH_TESTS)
