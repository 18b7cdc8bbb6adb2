# enoki/log and enoki/replay: the record-and-replay log library, the
# recorder, the replay engine, and their tests.
#
# Products:
#   $(O)/lib/libenokilog.a   log reader/writer, recorder (record.h) and
#                            replay engine (replay.h); link it with
#                            $(LIBENOKILOG_LIBS).  The path is fixed, so
#                            enoki/enoki.mk (included before this file)
#                            may name it literally.
#   $(O)/tests/bin/enoki_replay_*   tests/enoki-replay/*.c
ENOKILOG_SRCS := $(wildcard enoki/log/*.c) $(wildcard enoki/replay/*.c)
LIBENOKILOG := $(O)/lib/libenokilog.a
LIBENOKILOG_LIBS := -lz -ldl

$(LIBENOKILOG): $(ENOKILOG_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL += $(LIBENOKILOG)

# ---- tests -------------------------------------------------------------------
#
# The tests link the native host layer (enoki/host) and a small policy of
# their own (tests/enoki-replay/testpol.c), built twice: as is, and with
# -DTESTPOL_DIVERGE_AT=N, which changes one decision (the slice of the Nth
# insert), to check that replay finds the first divergence at the right
# event.  The tests that need the simulator and sched/ policies are in
# tests/enoki-replay.t.
ENOKI_HOST_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard enoki/host/*.c))
ENOKI_REPLAY_TEST_DIR := $(O)/tests/enoki-replay
ENOKI_REPLAY_TESTS := $(patsubst tests/enoki-replay/%.c,\
	$(O)/tests/bin/enoki_replay_%,$(filter-out \
	tests/enoki-replay/testpol.c tests/enoki-replay/common.c,\
	$(wildcard tests/enoki-replay/*.c)))
ENOKI_REPLAY_TEST_LIBS := $(ENOKI_REPLAY_TEST_DIR)/common.o \
	$(ENOKI_REPLAY_TEST_DIR)/testpol.o \
	$(ENOKI_REPLAY_TEST_DIR)/testpol_diverge.o

$(O)/tests/enoki-replay/%.o: CFLAGS += -Ienoki/log -Ienoki/replay

$(ENOKI_REPLAY_TEST_DIR)/testpol_diverge.o: tests/enoki-replay/testpol.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DTESTPOL_DIVERGE_AT=500 -c -o $@ $<

$(O)/tests/bin/enoki_replay_%: $(O)/tests/enoki-replay/%.o \
		$(ENOKI_REPLAY_TEST_LIBS) $(LIBENOKILOG) $(ENOKI_HOST_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(LIBENOKILOG) \
		$(LIBENOKILOG_LIBS) -lcmocka

.PRECIOUS: $(O)/tests/enoki-replay/%.o

enoki-replay-tests: $(ENOKI_REPLAY_TESTS)
.PHONY: enoki-replay-tests

ALL += $(ENOKI_REPLAY_TESTS)
