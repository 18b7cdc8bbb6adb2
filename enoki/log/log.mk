# enoki/log and enoki/replay: the record-and-replay log library, the
# recorder, the replay engine, and their tests.
#
# Products:
#   $(O)/lib/libenokilog.a   log reader/writer, recorder (record.h) and
#                            replay engine (replay.h), with common/'s
#                            objects folded in; link it with
#                            $(LIBENOKILOG_LIBS).  The path is fixed, so
#                            enoki/enoki.mk (included before this file)
#                            may name it literally.
#   $(O)/tests/bin/enoki_replay_*   tests/enoki-replay/*.c
ENOKILOG_SRCS := $(wildcard enoki/log/*.c) $(wildcard enoki/replay/*.c)
LIBENOKILOG := $(O)/lib/libenokilog.a
LIBENOKILOG_LIBS := -lz -ldl

$(LIBENOKILOG): $(ENOKILOG_SRCS:%.c=$(O)/%.o) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

ALL += $(LIBENOKILOG)

# ---- tests -------------------------------------------------------------------
#
# The tests link the native host layer (enoki/host) and load a small
# policy of their own, tests/enoki-replay/testpol.c, built twice as a .so:
# as is, and as a "changed build" whose inserts go through diverge.c,
# which changes the slice of the ENOKI_TEST_DIVERGE_AT-th insert, so that
# replay must report a divergence at that event.  The policy source is not
# touched: -D renames its enoki_dsq_insert calls.  tests/enoki-replay.t
# does the same with the simulator and the sched/ policies.
ENOKI_HOST_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard enoki/host/*.c))
ENOKI_REPLAY_TD := $(O)/tests/enoki-replay
ENOKI_TEST_DIVERGE_AT := 500
ENOKI_DIVERGE_RENAME := -Denoki_dsq_insert=enoki_test_diverge_insert \
	-Denoki_dsq_insert_vtime=enoki_test_diverge_insert_vtime
ENOKI_REPLAY_TESTS := $(patsubst tests/enoki-replay/%.c,\
	$(O)/tests/bin/enoki_replay_%,$(filter-out \
	tests/enoki-replay/testpol.c tests/enoki-replay/common.c \
	tests/enoki-replay/diverge.c tests/enoki-replay/lockpol.c \
	tests/enoki-replay/lockorder.c,$(wildcard tests/enoki-replay/*.c)))
ENOKI_REPLAY_SOS := $(ENOKI_REPLAY_TD)/testpol.so \
	$(ENOKI_REPLAY_TD)/testpol_diverge.so \
	$(ENOKI_REPLAY_TD)/lockpol_ab.so $(ENOKI_REPLAY_TD)/lockpol_ba.so

$(O)/tests/enoki-replay/%.o: CFLAGS += -Ienoki/log -Ienoki/replay
$(ENOKI_REPLAY_TD)/diverge.o: CFLAGS += -DDIVERGE_AT=$(ENOKI_TEST_DIVERGE_AT)

$(ENOKI_REPLAY_TD)/testpol.so: $(ENOKI_REPLAY_TD)/testpol.o
	$(CC) $(LDFLAGS) -shared -o $@ $^

$(ENOKI_REPLAY_TD)/testpol_renamed.o: tests/enoki-replay/testpol.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ENOKI_DIVERGE_RENAME) -c -o $@ $<

$(ENOKI_REPLAY_TD)/testpol_diverge.so: $(ENOKI_REPLAY_TD)/testpol_renamed.o \
		$(ENOKI_REPLAY_TD)/diverge.o
	$(CC) $(LDFLAGS) -shared -o $@ $^

# lockpol takes two locks on every enqueue, a then b (lockpol_ab.so, the
# recorded build) or b then a (lockpol_ba.so, the changed build): the
# order comes from lockorder.c, built once per order.
$(ENOKI_REPLAY_TD)/lockorder_%.o: tests/enoki-replay/lockorder.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DLOCKPOL_ORDER=$(if $(filter ba,$*),1,0) -c -o $@ $<

$(ENOKI_REPLAY_TD)/lockpol_%.so: $(ENOKI_REPLAY_TD)/lockpol.o \
		$(ENOKI_REPLAY_TD)/lockorder_%.o
	$(CC) $(LDFLAGS) -shared -o $@ $^

# The same changed build of every sched/ policy, for tests/enoki-replay.t
# (its 100th insert differs: the workload there is short).
ENOKI_TEST_SCHED_DIVERGE_AT := 100
ENOKI_REPLAY_SCHED := $(notdir $(basename $(basename \
	$(wildcard sched/*/*.bpf.c))))
ENOKI_REPLAY_SCHED_SOS := $(ENOKI_REPLAY_SCHED:%=$(ENOKI_REPLAY_TD)/%_diverge.so)

$(ENOKI_REPLAY_TD)/sched_diverge.o: tests/enoki-replay/diverge.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DDIVERGE_AT=$(ENOKI_TEST_SCHED_DIVERGE_AT) -c -o $@ $<

define enoki_replay_sched_rule
$(ENOKI_REPLAY_TD)/sched_$(1)_renamed.o: sched/$(1)/$(1).bpf.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Wno-missing-prototypes -Isched/$(1) \
		$$(ENOKI_DIVERGE_RENAME) -c -o $$@ $$<
endef
$(foreach p,$(ENOKI_REPLAY_SCHED),$(eval $(call enoki_replay_sched_rule,$(p))))

$(ENOKI_REPLAY_TD)/%_diverge.so: $(ENOKI_REPLAY_TD)/sched_%_renamed.o \
		$(ENOKI_REPLAY_TD)/sched_diverge.o
	$(CC) $(LDFLAGS) -shared -o $@ $^

# Test programs export the host layer (-rdynamic) for the policy .so files.
$(O)/tests/bin/enoki_replay_%: $(O)/tests/enoki-replay/%.o \
		$(ENOKI_REPLAY_TD)/common.o $(LIBENOKILOG) $(ENOKI_HOST_OBJS) \
		| $(ENOKI_REPLAY_SOS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(LIBENOKILOG) \
		$(LIBENOKILOG_LIBS) -lcmocka

.PRECIOUS: $(O)/tests/enoki-replay/%.o $(ENOKI_REPLAY_TD)/sched_%_renamed.o \
	$(ENOKI_HOST_OBJS)

enoki-replay-tests: $(ENOKI_REPLAY_TESTS) $(ENOKI_REPLAY_SOS) \
	$(ENOKI_REPLAY_SCHED_SOS)
.PHONY: enoki-replay-tests

ALL += $(ENOKI_REPLAY_TESTS) $(ENOKI_REPLAY_SOS) $(ENOKI_REPLAY_SCHED_SOS)
