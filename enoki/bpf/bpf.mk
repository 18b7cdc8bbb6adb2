# enoki/bpf/bpf.mk - every Enoki policy compiled as a sched_ext BPF object.
#
#   $(O)/sched/NAME.bpf.o        from sched/NAME/NAME.bpf.c (one per policy)
#   $(O)/enoki/bpf/bpftest.bpf.o the API-coverage policy, enoki/bpf/test/
#   $(O)/enoki/bpf/consts.bpf.o  native.h's constants == the kernel's
#
# clang -target bpf against include/enoki/vmlinux/vmlinux.h (the 7.3.4
# guest kernel's types, committed; vm/gen-vmlinux-h.sh remakes it) and
# libbpf's headers from bookworm-backports (enoki/bpf/install-bpf-deps.sh).
# -fms-extensions because 7.x kernel types embed tagged structs
# anonymously, which vmlinux.h reproduces.  The native builds of the same
# sources are sched/sched.mk's.

# clang-16: clang 14 emits no BTF for kfuncs named __scx_*.
BPF_CLANG ?= clang-16
BPF_VMLINUX_DIR := include/enoki/vmlinux
BPF_CFLAGS := -target bpf -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 \
	-fms-extensions -Wno-microsoft-anon-tag -Wall -Wno-unused-function \
	-Werror=implicit-function-declaration -MMD -MP \
	-Iinclude -I$(BPF_VMLINUX_DIR)
ifeq ($(WERROR),1)
BPF_CFLAGS += -Werror
endif

BPF_POLICIES := $(patsubst sched/%/,%,$(dir $(wildcard sched/*/*.bpf.c)))
BPF_POLICIES := $(foreach p,$(sort $(BPF_POLICIES)),\
	$(if $(wildcard sched/$(p)/$(p).bpf.c),$(p)))
BPF_OBJS := $(BPF_POLICIES:%=$(O)/sched/%.bpf.o) \
	$(O)/enoki/bpf/bpftest.bpf.o $(O)/enoki/bpf/consts.bpf.o

ALL += $(BPF_OBJS) $(O)/enoki/bpf/bpftest.native.o

define bpf_policy_rule
$(O)/sched/$(1).bpf.o: sched/$(1)/$(1).bpf.c
	@mkdir -p $$(dir $$@)
	$$(BPF_CLANG) $$(BPF_CFLAGS) -Isched/$(1) -c -o $$@ $$<
endef
$(foreach p,$(BPF_POLICIES),$(eval $(call bpf_policy_rule,$(p))))

$(O)/enoki/bpf/bpftest.bpf.o: enoki/bpf/test/bpftest.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

# The same test policy natively, against native.h: one source, two ways.
$(O)/enoki/bpf/bpftest.native.o: enoki/bpf/test/bpftest.bpf.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes \
		-x c -c -o $@ $<

# native.h's constants, renamed NATIVE_ENOKI_*, for consts.bpf.c.
$(O)/enoki/bpf/native-consts.h: include/enoki/host/native.h
	@mkdir -p $(dir $@)
	$(CC) -E -dM -Iinclude $< | grep '^#define ENOKI_[A-Z_]* ' | \
		sed 's/\bENOKI_/NATIVE_ENOKI_/g' >$@.tmp
	mv $@.tmp $@

$(O)/enoki/bpf/consts.bpf.o: enoki/bpf/consts.bpf.c $(O)/enoki/bpf/native-consts.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -I$(O)/enoki/bpf -c -o $@ $<

.PHONY: bpf-deps vmlinux.h
bpf-deps:
	@enoki/bpf/install-bpf-deps.sh
# Regenerate the committed vmlinux.h (downloads the guest kernel).
vmlinux.h:
	vm/gen-vmlinux-h.sh
