# bench: the file-system benchmark, `make bench-fs`.
#
# Runs bench/fs/run.sh, which compares xv6fs over FUSE (bento mount) with
# kernel ext4 on a loop device and with fuse2fs, and writes the table to
# stdout and bench/results/fs.json.  Knobs (environment or make variables):
#
#   BENCH_REPS=N       repetitions of each workload per target (default 3)
#   BENCH_QUICK=1      small sizes, 1 rep: a smoke run of a minute or two
#   BENCH_TARGETS="…"  subset of "xv6fs ext4 fuse2fs" (default all three)
#   BENCH_OUT=FILE     where the JSON goes
#
# It must run as root (loop devices, mounts, drop_caches).

BENCH_TARGETS ?= xv6fs ext4 fuse2fs
BENCH_FSOPS := $(O)/bench/bin/bench-fsops

$(BENCH_FSOPS): $(O)/bench/fs/fsops.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

BENCH_DEPS := $(BENCH_FSOPS)
ifneq ($(filter xv6fs,$(BENCH_TARGETS)),)
BENCH_DEPS += $(O)/bin/bento $(O)/fs/xv6fs.so $(O)/bin/mkfs.xv6fs
endif

ALL += $(BENCH_FSOPS)

bench-fs: $(BENCH_DEPS)
	BENCH_TARGETS="$(BENCH_TARGETS)" bench/fs/run.sh $(O)

# bench-upgrade: live upgrade under load, `make bench-upgrade`.
#
# Runs bench/upgrade/run.sh: xv6fs mounted, 4 threads of mixed I/O and
# metadata (bench-upgrade, bench/upgrade/upload.c) while the mount is
# upgraded 100 times between two copies of xv6fs.so and its provenance
# build, then the edit-to-running time of `bento dev --once`.  Writes
# bench/results/upgrade.json (upgrade-quick.json for BENCH_QUICK=1: 20
# upgrades).  Target: p99 downtime under 1 ms.  Must run as root.

BENCH_UPGRADE := $(O)/bench/bin/bench-upgrade

$(BENCH_UPGRADE): $(O)/bench/upgrade/upload.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

ALL += $(BENCH_UPGRADE)

.PHONY: bench-upgrade
bench-upgrade: $(BENCH_UPGRADE) $(O)/bin/bento $(XV6FS_SO) $(XV6FS_PROV_SO) \
		$(MKFS_XV6FS) $(O)/bin/fsck.xv6fs
	BENCH_CFLAGS="$(CFLAGS)" bench/upgrade/run.sh $(O)
