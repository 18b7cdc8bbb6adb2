# enoki/enoki.mk - the native host layer, the simulator, the enoki
# command, the simulator's tests and `make bench-sim`.
#
#   $(O)/bin/enoki                 enoki sim / enoki replay (tools/enoki)
#   $(O)/lib/libenokisim.a         simulator + host layer, for tests
#   $(O)/tests/bin/enoki_sim_*     tests/enoki-sim/*.c (cmocka)
#
# enoki links the host layer's objects directly and -rdynamic, so policy
# .so files resolve enoki_* from it.  It links enoki/log's library for
# --record and `enoki replay`; log.mk, included after this file, has the
# rule for it (its path is fixed: $(O)/lib/libenokilog.a).  The host
# layer's objects include common/'s (the build id reader, common.mk).

ENOKI_HOST_SRCS := $(wildcard enoki/host/*.c)
ENOKI_SIM_SRCS := $(wildcard enoki/sim/*.c)
ENOKI_SIM_OBJS := $(ENOKI_HOST_SRCS:%.c=$(O)/%.o) $(ENOKI_SIM_SRCS:%.c=$(O)/%.o) \
	$(COMMON_OBJS)
ENOKI_SIM_LIB := $(O)/lib/libenokisim.a
ENOKI_SIM_LIBS := -ljansson -lm -ldl
ENOKI_BIN := $(O)/bin/enoki

$(ENOKI_SIM_LIB): $(ENOKI_SIM_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

$(ENOKI_BIN): $(O)/tools/enoki/main.o $(ENOKI_SIM_OBJS) $(O)/lib/libenokilog.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(O)/tools/enoki/main.o \
		$(ENOKI_SIM_OBJS) $(O)/lib/libenokilog.a -lz $(ENOKI_SIM_LIBS)

ALL += $(ENOKI_SIM_LIB) $(ENOKI_BIN)

# ---- tests -------------------------------------------------------------------
ENOKI_SIM_TESTS := $(patsubst tests/enoki-sim/%.c,$(O)/tests/bin/enoki_sim_%,\
	$(filter-out tests/enoki-sim/common.c,$(wildcard tests/enoki-sim/*.c)))

$(O)/tests/bin/enoki_sim_%: $(O)/tests/enoki-sim/%.o \
		$(O)/tests/enoki-sim/common.o $(ENOKI_SIM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) \
		$(ENOKI_SIM_LIBS) -lcmocka

.PRECIOUS: $(O)/tests/enoki-sim/%.o

ALL += $(ENOKI_SIM_TESTS)

# ---- bench -------------------------------------------------------------------
.PHONY: bench-sim
bench-sim: $(ENOKI_BIN) $(ENOKI_SIM_TEST_POLS) sched
	bench/sim/run.sh $(O)

# Policies of the CLI test (tests/enoki-sim.t), built like sched/'s.
ENOKI_SIM_TEST_POLS := $(O)/tests/enoki-sim/tfifo.so \
	$(O)/tests/enoki-sim/stall.so

$(O)/tests/enoki-sim/%.so: tests/enoki-sim/pol/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -shared $(LDFLAGS) -o $@ $<

ALL += $(ENOKI_SIM_TEST_POLS)
