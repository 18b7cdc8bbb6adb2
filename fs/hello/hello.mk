# fs/hello: the smallest Bento file system, the README's example.
#
# $(O)/fs/hello.so is a module for `bento mount`: its bento_* symbols stay
# unresolved and come from the host at load.  $(O)/fs/libhello.a holds the
# same objects for programs that link the file system in.

HELLO_OBJS := $(O)/fs/hello/hello.o

$(O)/fs/hello.so: $(HELLO_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -o $@ $^

$(O)/fs/libhello.a: $(HELLO_OBJS)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

ALL += $(O)/fs/hello.so $(O)/fs/libhello.a
