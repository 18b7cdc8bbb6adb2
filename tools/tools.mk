# tools: fsck.xv6fs (mkfs.xv6fs is built by fs/xv6fs/xv6fs.mk), and the
# bad-image tests of xv6fs (tests/badimg/, tests/badimg.t).
#
#   $(O)/bin/fsck.xv6fs            check and repair (tools/fsck/*.c)
#   $(O)/tests/bin/badimg_xv6fs    bad images through the test host
#   $(O)/tests/badimg/corrupt      helper of tests/badimg.t: populates and
#                                  corrupts images (not a test itself)

FSCK_XV6FS := $(O)/bin/fsck.xv6fs
FSCK_SRCS := $(wildcard tools/fsck/*.c)
FSCK_OBJS := $(FSCK_SRCS:%.c=$(O)/%.o)

$(FSCK_XV6FS): $(FSCK_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lz -lxxhash

# --version: bento's version (XV6_TOOLS_CFLAGS, from fs/xv6fs/xv6fs.mk).
$(O)/tools/fsck/main.o: CFLAGS += $(XV6_TOOLS_CFLAGS)

ALL += $(FSCK_XV6FS)

# Bad-image tests: one helper that makes the images (shared by the C
# test and the shell test), linked with the test host and xv6fs.
BADIMG_COMMON := $(O)/tests/badimg/images.o
BADIMG_TEST := $(O)/tests/bin/badimg_xv6fs
BADIMG_TOOL := $(O)/tests/badimg/corrupt

$(O)/tests/badimg/%.o: CFLAGS += -Ibento/test

$(BADIMG_TEST): $(O)/tests/badimg/badimg.o $(BADIMG_COMMON) \
		$(LIBBENTOTEST) $(XV6FS_LIB) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBBENTOTEST) $(XV6FS_LIB) \
		$(LIBBENTO) $(LIBBENTO_LIBS)

$(BADIMG_TOOL): $(O)/tests/badimg/corrupt.o $(BADIMG_COMMON) \
		$(LIBBENTOTEST) $(XV6FS_LIB) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBBENTOTEST) $(XV6FS_LIB) \
		$(LIBBENTO) $(LIBBENTO_LIBS)

.PRECIOUS: $(O)/tests/badimg/%.o

ALL += $(BADIMG_TEST) $(BADIMG_TOOL)
