# bento/lib: the userspace runtime shared by the FUSE host and test host.
LIBBENTO_SRCS := $(wildcard bento/lib/*.c)
LIBBENTO := $(O)/lib/libbento.a
LIBBENTO_LIBS := -lpthread -ldl -lz -lxxhash

$(LIBBENTO): $(LIBBENTO_SRCS:%.c=$(O)/%.o)
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
	$(CC) $(LDFLAGS) -rdynamic -o $@ $< $(LIBBENTO_WHOLE) \
		$(LIBBENTO_LIBS) -lcmocka

ALL += $(RUNTIME_TESTS)
