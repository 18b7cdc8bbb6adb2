# common/common.mk - code shared by Bento and Enoki userspace.
#
#   $(O)/lib/libcommon.a   common/*.c (the GNU build id reader)
#
# Included first by the top-level Makefile, so later fragments can use
# COMMON_OBJS: libbento.a (bento/lib/lib.mk), the Enoki host layer
# (enoki/enoki.mk) and libenokilog.a (enoki/log/log.mk) fold these objects
# into what they build, so none of their users' link lines change.
# Sources include "../../common/buildid.h" (a path relative to them).
COMMON_SRCS := $(wildcard common/*.c)
COMMON_OBJS := $(COMMON_SRCS:%.c=$(O)/%.o)
LIBCOMMON := $(O)/lib/libcommon.a

$(LIBCOMMON): $(COMMON_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

ALL += $(LIBCOMMON)
