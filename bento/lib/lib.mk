# bento/lib: the userspace runtime shared by the FUSE host and test host
# (with common/'s objects folded in: common/common.mk).
LIBBENTO_SRCS := $(wildcard bento/lib/*.c)
LIBBENTO := $(O)/lib/libbento.a
LIBBENTO_LIBS := -lpthread -ldl -lz -lxxhash

$(LIBBENTO): $(LIBBENTO_SRCS:%.c=$(O)/%.o) $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL += $(LIBBENTO)

# A host that loads modules links the whole runtime and exports it, so a
# module's bento_* calls resolve against the executable:
#   $(CC) -rdynamic ... $(LIBBENTO_WHOLE) $(LIBBENTO_LIBS)
LIBBENTO_WHOLE := -Wl,--whole-archive $(LIBBENTO) -Wl,--no-whole-archive

# Unit tests of the runtime: tests/runtime/NAME.c -> tests/bin/runtime_NAME.
# They link the whole runtime and export it (-rdynamic), as a host does,
# so the fake modules of runtime_module resolve bento_* against them.
RUNTIME_TESTS := $(patsubst tests/runtime/%.c,$(O)/tests/bin/runtime_%,\
	$(filter-out tests/runtime/fake_mod.c,$(wildcard tests/runtime/*.c)))

$(O)/tests/bin/runtime_%: $(O)/tests/runtime/%.o $(LIBBENTO)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(filter %.o,$^) $(LIBBENTO_WHOLE) \
		$(LIBBENTO_LIBS) -lcmocka

# Fake modules for runtime_module, in variants of one source.
RUNTIME_FAKE_MODS := $(addprefix $(O)/tests/runtime/fake_,\
	good.so nobid.so badapi.so nolookup.so)
RUNTIME_FAKE_good := -Wl,--build-id=sha1
RUNTIME_FAKE_nobid := -Wl,--build-id=none
RUNTIME_FAKE_badapi := -DFAKE_BAD_API
RUNTIME_FAKE_nolookup := -DFAKE_NO_LOOKUP

$(O)/tests/runtime/fake_%.so: tests/runtime/fake_mod.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared $(LDFLAGS) $(RUNTIME_FAKE_$*) -o $@ $<

$(O)/tests/bin/runtime_module: $(RUNTIME_FAKE_MODS)

# Keep the objects (make would delete them as intermediates).
.PRECIOUS: $(O)/tests/runtime/%.o

ALL += $(RUNTIME_TESTS)
