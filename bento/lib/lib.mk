# bento/lib: the userspace runtime shared by the FUSE host and test host.
LIBBENTO_SRCS := $(wildcard bento/lib/*.c)
LIBBENTO := $(O)/lib/libbento.a
LIBBENTO_LIBS := -lpthread -ldl -lz -lxxhash

$(LIBBENTO): $(LIBBENTO_SRCS:%.c=$(O)/%.o)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL += $(LIBBENTO)
