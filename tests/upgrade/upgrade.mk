# tests/upgrade: what tests/upgrade.t needs (included from
# bento/user/user.mk).
#
#   $(O)/tests/upgrade/up_*.so   variants of one small file system
#                                (upfs.c) for every path of an upgrade
#   $(O)/tests/upgrade/holder    keeps files open and does checked I/O
#                                while a mount is upgraded under it
#
# They live outside tests/bin: run-all.sh runs everything there without
# arguments, and these are helpers of the shell test.

UP_DIR := $(O)/tests/upgrade
UP_VARIANTS := v1 v2 v2b refuse failxfer nomem notransfer noprepare \
	failprepare other badapi notmod noabandon
UP_MODS := $(UP_VARIANTS:%=$(UP_DIR)/up_%.so)
UP_HOLDER := $(UP_DIR)/holder

# Flags per variant.  v2 writes record version 2 and reads 1 and 2.
UP_CFLAGS_v1 := -DUP_VERSION='"1.0"'
UP_CFLAGS_v2 := -DUP_VERSION='"2.0"' -DUP_WRITES=2 -DUP_READS_MAX=2
UP_CFLAGS_v2b := -DUP_VERSION='"2.1"' -DUP_WRITES=2 -DUP_READS_MAX=2
UP_CFLAGS_refuse := -DUP_VERSION='"9.0"' -DUP_WRITES=9 -DUP_READS_MIN=9 \
	-DUP_READS_MAX=9
UP_CFLAGS_failxfer := -DUP_VERSION='"3.0"' -DUP_READS_MAX=2 \
	-DUP_FAIL_TRANSFER=EIO
UP_CFLAGS_nomem := -DUP_VERSION='"3.1"' -DUP_READS_MAX=2 \
	-DUP_FAIL_TRANSFER=ENOMEM
UP_CFLAGS_notransfer := -DUP_VERSION='"4.0"' -DUP_NO_TRANSFER
UP_CFLAGS_noprepare := -DUP_VERSION='"5.0"' -DUP_NO_PREPARE
UP_CFLAGS_failprepare := -DUP_VERSION='"6.0"' -DUP_FAIL_PREPARE=ENOMEM
UP_CFLAGS_other := -DUP_NAME=upother -DUP_READS_MAX=2
UP_CFLAGS_badapi := -DUP_BAD_API -DUP_READS_MAX=2
UP_CFLAGS_notmod := -DUP_NOT_MODULE
UP_CFLAGS_noabandon := -DUP_VERSION='"7.0"' -DUP_NO_ABANDON \
	-DUP_WRITES=2 -DUP_READS_MAX=2

# Static patterns: a plain up_%.o would also match the .d files' names
# when make tries to remake them.
$(UP_VARIANTS:%=$(UP_DIR)/up_%.o): $(UP_DIR)/up_%.o: tests/upgrade/upfs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(UP_CFLAGS_$*) -c -o $@ $<

$(UP_MODS): $(UP_DIR)/up_%.so: $(UP_DIR)/up_%.o
	$(CC) -shared $(LDFLAGS) -o $@ $<

$(UP_HOLDER): $(UP_DIR)/holder.o
	$(CC) $(LDFLAGS) -o $@ $^

$(UP_DIR)/holder.o: tests/upgrade/holder.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

ALL += $(UP_MODS) $(UP_HOLDER)
include tests/model/model.mk
