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
