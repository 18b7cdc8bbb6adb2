# tests/enoki-policies/policies.mk - policy unit tests over the mock host
# (included from sched/sched.mk).  The simulator tests are
# tests/enoki-policies.t.

POLICY_UNIT := $(O)/tests/bin/enoki_policy_unit
POLICY_UNIT_OBJS := $(O)/tests/enoki-policies/policy_unit.o \
	$(O)/tests/enoki-policies/mock_host.o

$(POLICY_UNIT): $(POLICY_UNIT_OBJS) $(SCHED_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(POLICY_UNIT_OBJS) $(SCHED_LIBS)

ALL += $(POLICY_UNIT)
