/*
 * consts.bpf.c - build-time proof that the native build and the BPF build
 * of a policy see the same numbers.
 *
 * native.h writes Enoki's constants as literals (the simulator has no
 * kernel headers); bpf.h takes them from the 7.3 kernel's enums in
 * vmlinux.h.  bpf.mk extracts native.h's definitions with the C
 * preprocessor into native-consts.h, renamed NATIVE_ENOKI_*, and this file
 * asserts each equals the kernel's value and bpf.h's.  A kernel that
 * renumbers a flag (SCX_ENQ_HEAD moved from 1 << 4 to 1 << 16) fails the
 * build here instead of misbehaving in a recording replayed natively.
 * Compiled to an object nobody loads.
 */
#include <enoki/enoki.h>
#include "native-consts.h"

#define ENOKI_SAME(name, kernel)					\
	_Static_assert(NATIVE_ENOKI_##name == (u64)(kernel) &&		\
		       ENOKI_##name == (u64)(kernel),			\
		       "ENOKI_" #name " differs from the kernel's " #kernel)

ENOKI_SAME(DSQ_FLAG_BUILTIN, SCX_DSQ_FLAG_BUILTIN);
ENOKI_SAME(DSQ_FLAG_LOCAL_ON, SCX_DSQ_FLAG_LOCAL_ON);
ENOKI_SAME(DSQ_INVALID, SCX_DSQ_INVALID);
ENOKI_SAME(DSQ_GLOBAL, SCX_DSQ_GLOBAL);
ENOKI_SAME(DSQ_LOCAL, SCX_DSQ_LOCAL);
ENOKI_SAME(DSQ_LOCAL_ON, SCX_DSQ_LOCAL_ON);
ENOKI_SAME(SLICE_DFL, SCX_SLICE_DFL);
ENOKI_SAME(SLICE_INF, SCX_SLICE_INF);
ENOKI_SAME(ENQ_WAKEUP, SCX_ENQ_WAKEUP);
ENOKI_SAME(ENQ_HEAD, SCX_ENQ_HEAD);
ENOKI_SAME(ENQ_PREEMPT, SCX_ENQ_PREEMPT);
ENOKI_SAME(ENQ_REENQ, SCX_ENQ_REENQ);
ENOKI_SAME(ENQ_LAST, SCX_ENQ_LAST);
ENOKI_SAME(WAKE_FORK, SCX_WAKE_FORK);
ENOKI_SAME(WAKE_TTWU, SCX_WAKE_TTWU);
ENOKI_SAME(WAKE_SYNC, SCX_WAKE_SYNC);
ENOKI_SAME(DEQ_SLEEP, SCX_DEQ_SLEEP);
ENOKI_SAME(DEQ_SCHED_CHANGE, SCX_DEQ_SCHED_CHANGE);
ENOKI_SAME(KICK_IDLE, SCX_KICK_IDLE);
ENOKI_SAME(KICK_PREEMPT, SCX_KICK_PREEMPT);
ENOKI_SAME(KICK_WAIT, SCX_KICK_WAIT);
ENOKI_SAME(OPS_KEEP_BUILTIN_IDLE, SCX_OPS_KEEP_BUILTIN_IDLE);
ENOKI_SAME(OPS_ENQ_LAST, SCX_OPS_ENQ_LAST);
ENOKI_SAME(OPS_ENQ_EXITING, SCX_OPS_ENQ_EXITING);
ENOKI_SAME(PICK_IDLE_CORE, SCX_PICK_IDLE_CORE);
ENOKI_SAME(STORAGE_CREATE, BPF_LOCAL_STORAGE_GET_F_CREATE);
_Static_assert(NATIVE_ENOKI_API_VERSION == ENOKI_API_VERSION,
	       "native.h and bpf.h disagree on ENOKI_API_VERSION");

/* The callback argument structs the native build redeclares. */
_Static_assert(sizeof(((struct scx_init_task_args *)0)->fork) == 1,
	       "scx_init_task_args.fork");
_Static_assert(sizeof(((struct scx_exit_task_args *)0)->cancelled) == 1,
	       "scx_exit_task_args.cancelled");

char _license[] SEC("license") = "GPL";
