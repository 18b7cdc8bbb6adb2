# fs/xv6fs: the journaled file system, its module and static library, and
# mkfs.xv6fs (built from the same on-disk format header).
#
#   $(O)/fs/xv6fs.so       loadable module for the FUSE host
#   $(O)/fs/xv6fs_prov.so  its provenance build: the same objects but
#                          prov.o for prov_none.o (fs/xv6fs/xv6fs_prov.h)
#   $(O)/fs/libxv6fs.a     the base build's objects, for test programs
#   $(O)/fs/libxv6fs_prov.a  the provenance build's, likewise
#   $(O)/bin/mkfs.xv6fs    userspace mkfs (libc, zlib)
#
# The tests of xv6fs live in tests/xv6fs, tests/crash and tests/badimg
# (built by bento/test/test.mk and tests/tests.mk from $(XV6FS_LIB)).

XV6FS_PROV_SRCS := fs/xv6fs/prov.c fs/xv6fs/prov_none.c
XV6FS_SRCS := $(filter-out $(XV6FS_PROV_SRCS),$(wildcard fs/xv6fs/*.c))
XV6FS_OBJS := $(XV6FS_SRCS:%.c=$(O)/%.o) $(O)/fs/xv6fs/prov_none.o
XV6FS_PROV_OBJS := $(XV6FS_SRCS:%.c=$(O)/%.o) $(O)/fs/xv6fs/prov.o
XV6FS_SO := $(O)/fs/xv6fs.so
XV6FS_LIB := $(O)/fs/libxv6fs.a
XV6FS_PROV_SO := $(O)/fs/xv6fs_prov.so
XV6FS_PROV_LIB := $(O)/fs/libxv6fs_prov.a
MKFS_XV6FS := $(O)/bin/mkfs.xv6fs

$(XV6FS_SO): $(XV6FS_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^

$(XV6FS_LIB): $(XV6FS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(XV6FS_PROV_SO): $(XV6FS_PROV_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared $(LDFLAGS) -o $@ $^

$(XV6FS_PROV_LIB): $(XV6FS_PROV_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

# The project version for --version of mkfs and fsck: bento's own.
XV6_TOOLS_VERSION := $(shell sed -n 's/^\#define BENTO_VERSION "\(.*\)"/\1/p' \
	bento/user/user.h 2>/dev/null)
XV6_TOOLS_CFLAGS := $(if $(XV6_TOOLS_VERSION),\
	-DBENTO_VERSION='"$(XV6_TOOLS_VERSION)"')

$(MKFS_XV6FS): tools/mkfs.xv6fs.c fs/xv6fs/xv6fs_format.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XV6_TOOLS_CFLAGS) $(LDFLAGS) -o $@ $< -lz

ALL += $(XV6FS_SO) $(XV6FS_LIB) $(XV6FS_PROV_SO) $(XV6FS_PROV_LIB) \
	$(MKFS_XV6FS)

# The provenance build's test program links libxv6fs_prov.a in place of
# libxv6fs.a (tests/xv6fs/prov/, not picked up by bento/test/test.mk).
XV6FS_PROV_TEST := $(O)/tests/bin/xv6fs_prov
$(XV6FS_PROV_TEST): $(O)/tests/xv6fs/prov/prov.o $(O)/tests/xv6fs/common.o \
		$(LIBBENTOTEST) $(XV6FS_PROV_LIB) $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBBENTOTEST) \
		$(XV6FS_PROV_LIB) $(LIBBENTO) $(LIBBENTO_LIBS) -lcmocka
ALL += $(XV6FS_PROV_TEST)
