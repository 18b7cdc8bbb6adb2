# tests/posix: posix_test, run by tests/posix.t on a directory it is given
# (so it is built outside tests/bin, which run-all.sh runs without
# arguments).  Included from bento/user/user.mk.

POSIX_TEST := $(O)/tests/posix_test

$(POSIX_TEST): $(O)/tests/posix/posix_test.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lpthread

ALL += $(POSIX_TEST)
