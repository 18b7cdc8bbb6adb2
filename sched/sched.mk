# sched/sched.mk - the Enoki policies, native builds.
#
# Each policy is one source, sched/NAME/NAME.bpf.c, that includes only
# <enoki/enoki.h> (and its own message header).  Natively it becomes
#
#   $(O)/sched/NAME.so      loaded by `enoki sim` and `enoki replay`; its
#                           enoki_* calls resolve from the enoki binary
#   $(O)/sched/libNAME.a    for test programs that link a policy in
#
# The BPF build of the same sources is enoki/bpf/bpf.mk's.  Callbacks are
# global functions without prototypes, as in sched_ext's BPF C, hence
# -Wno-missing-prototypes.

SCHED_POLICIES := fifo wfq shinjuku arachne locality
SCHED_CFLAGS = $(CFLAGS) -Wno-missing-prototypes

define sched_policy_rules
$(O)/sched/native/$(1).o: sched/$(1)/$(1).bpf.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SCHED_CFLAGS) -Isched/$(1) -c -o $$@ $$<

$(O)/sched/$(1).so: $(O)/sched/native/$(1).o
	$$(CC) -shared $$(LDFLAGS) -o $$@ $$<

$(O)/sched/lib$(1).a: $(O)/sched/native/$(1).o
	@rm -f $$@
	$$(AR) rcs $$@ $$<
endef
$(foreach p,$(SCHED_POLICIES),$(eval $(call sched_policy_rules,$(p))))

SCHED_SOS := $(SCHED_POLICIES:%=$(O)/sched/%.so)
SCHED_LIBS := $(SCHED_POLICIES:%=$(O)/sched/lib%.a)

.PHONY: sched
sched: $(SCHED_SOS) $(SCHED_LIBS)

ALL += $(SCHED_SOS) $(SCHED_LIBS)

-include tests/enoki-policies/policies.mk
