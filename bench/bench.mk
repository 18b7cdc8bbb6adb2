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
