/*
 * enoki/log/format.h - the Enoki record-and-replay log, on disk.
 *
 * One file: a fixed 256-byte header, then chunks.  All integers are
 * little-endian and fixed-width; docs/enoki-log.md is the prose version
 * of this header.
 *
 *   header   magic "ENOKILOG", format version, policy name, version and
 *            build id, number of CPUs, seed, workload description; its
 *            own crc32.
 *   chunk    a 32-byte chunk header (type, payload length, event count,
 *            sequence number of its first event, crc32 of header and
 *            payload) and a payload of whole events.  A writer emits a
 *            chunk with one write, so a log cut short loses at most its
 *            last chunk; the reader says so, with the byte offset.
 *   end      a last chunk of type END whose payload counts the events
 *            and the events lost (kernel ring buffers can drop events;
 *            lost events are never silent).  A log without it was cut.
 *
 * An event is a 16-byte header (kind, number of arguments, CPU, time in
 * ns) and that many 64-bit arguments.  Its sequence number is implicit:
 * the chunk's first sequence number plus its index in the chunk.  What
 * the arguments mean depends on the kind (enoki_log_kinds[] in kinds.c
 * names them): a callback's entry with its arguments, each enoki_* call
 * the policy made during it with its arguments and, for queries, the
 * value the host returned (always the last arguments), lock operations
 * in order, and the callback's return.  Tasks are named by pid, locks by
 * the order of their first use, storages and timers by a hash of their
 * name, so a log means the same thing in another process.
 */
#ifndef ENOKI_LOG_FORMAT_H
#define ENOKI_LOG_FORMAT_H

#include <stdint.h>

#define ENOKI_LOG_MAGIC "ENOKILOG"
#define ENOKI_LOG_VERSION 1
#define ENOKI_LOG_CHUNK_MAGIC 0x4b484345u	/* "ECHK" */

/* Largest payload a reader accepts (writers use far less). */
#define ENOKI_LOG_MAX_CHUNK (4u << 20)
/* Most arguments one event carries (cpumasks of 256 CPUs, error text). */
#define ENOKI_LOG_MAX_ARGS 32

enum enoki_log_source {
	ENOKI_LOG_SRC_SIM = 1,		/* enoki sim --record */
	ENOKI_LOG_SRC_KERNEL = 2,	/* enoki record, sched_ext */
	ENOKI_LOG_SRC_TEST = 3,		/* a test driver */
};

enum enoki_log_build_id_kind {
	ENOKI_LOG_BID_NONE = 0,
	ENOKI_LOG_BID_GNU = 1,		/* ELF NT_GNU_BUILD_ID note */
	ENOKI_LOG_BID_HASH = 2,		/* FNV-1a 64 of the object file */
};

struct enoki_log_file_header {
	char magic[8];			/* ENOKI_LOG_MAGIC, no NUL */
	uint32_t version;		/* ENOKI_LOG_VERSION */
	uint32_t header_size;		/* sizeof(struct enoki_log_file_header) */
	uint32_t nr_cpus;		/* 1..ENOKI_LOG_MAX_CPUS */
	uint32_t source;		/* enum enoki_log_source */
	uint64_t seed;			/* simulator seed, 0 if none */
	char policy[48];		/* policy name, NUL-padded */
	char policy_version[16];	/* its version string, NUL-padded */
	uint8_t build_id[32];		/* first build_id_len bytes valid */
	uint32_t build_id_len;		/* 0..32 */
	uint32_t build_id_kind;		/* enum enoki_log_build_id_kind */
	char workload[112];		/* workload description, NUL-padded */
	uint32_t reserved;		/* 0 */
	uint32_t crc;			/* crc32 of all bytes before it */
};

#define ENOKI_LOG_MAX_CPUS 1024

enum enoki_log_chunk_type {
	ENOKI_LOG_CHUNK_EVENTS = 1,
	ENOKI_LOG_CHUNK_END = 2,
};

struct enoki_log_chunk_header {
	uint32_t magic;			/* ENOKI_LOG_CHUNK_MAGIC */
	uint16_t type;			/* enum enoki_log_chunk_type */
	uint16_t flags;			/* 0 */
	uint32_t length;		/* payload bytes after this header */
	uint32_t nr_events;		/* events in the payload */
	uint64_t first_seq;		/* sequence number of the first event */
	uint32_t crc;			/* crc32 of this header (crc as 0) and
					 * the payload */
	uint32_t reserved;		/* 0 */
};

/* Payload of the END chunk. */
struct enoki_log_end {
	uint64_t nr_events;		/* events in the log */
	uint64_t nr_lost;		/* events the recorder dropped */
};

struct enoki_log_event_header {
	uint8_t kind;			/* enum enoki_log_kind */
	uint8_t nr_args;		/* 64-bit arguments that follow */
	uint16_t cpu;			/* CPU the event happened on */
	uint32_t reserved;		/* 0 */
	uint64_t time;			/* host time, ns */
};

_Static_assert(sizeof(struct enoki_log_file_header) == 256, "log header");
_Static_assert(sizeof(struct enoki_log_chunk_header) == 32, "chunk header");
_Static_assert(sizeof(struct enoki_log_end) == 16, "end chunk");
_Static_assert(sizeof(struct enoki_log_event_header) == 16, "event header");

/*
 * Event kinds.  Arguments in order; "-> x" are values the host returned
 * to the policy.  A task is its pid; ENOKI_LOG_NO_TASK stands for NULL.
 */
enum enoki_log_kind {
	/* Callback entries (the host calling the policy). */
	ENOKI_EV_SELECT_CPU = 1,	/* pid, prev_cpu, wake_flags */
	ENOKI_EV_ENQUEUE = 2,		/* pid, enq_flags */
	ENOKI_EV_DEQUEUE = 3,		/* pid, deq_flags */
	ENOKI_EV_DISPATCH = 4,		/* cpu, prev pid */
	ENOKI_EV_RUNNABLE = 5,		/* pid, enq_flags */
	ENOKI_EV_RUNNING = 6,		/* pid */
	ENOKI_EV_STOPPING = 7,		/* pid, runnable */
	ENOKI_EV_QUIESCENT = 8,		/* pid, deq_flags */
	ENOKI_EV_TICK = 9,		/* pid */
	ENOKI_EV_SET_WEIGHT = 10,	/* pid, weight */
	ENOKI_EV_SET_CPUMASK = 11,	/* pid, mask words (1..16) */
	ENOKI_EV_INIT_TASK = 12,	/* pid, fork */
	ENOKI_EV_EXIT_TASK = 13,	/* pid, cancelled */
	ENOKI_EV_INIT = 14,		/* - */
	ENOKI_EV_EXIT = 15,		/* - */
	ENOKI_EV_CPU_ONLINE = 16,	/* cpu */
	ENOKI_EV_CPU_OFFLINE = 17,	/* cpu */
	ENOKI_EV_MSG = 18,		/* type, pid, arg0..arg3 */
	ENOKI_EV_TIMER = 19,		/* timer (name hash) */
	ENOKI_EV_RETURN = 31,		/* value (0 for void callbacks) */

	/* Calls the policy made during a callback. */
	ENOKI_EV_TASK_WEIGHT = 32,	/* pid -> weight */
	ENOKI_EV_TASK_CPU = 33,		/* pid -> cpu */
	ENOKI_EV_TASK_ALLOWED = 34,	/* pid, cpu -> allowed */
	ENOKI_EV_TASK_NR_CPUS_ALLOWED = 35, /* pid -> n */
	ENOKI_EV_TASK_SLICE = 36,	/* pid -> slice */
	ENOKI_EV_TASK_SET_SLICE = 37,	/* pid, slice */
	ENOKI_EV_TASK_VTIME = 38,	/* pid -> vtime */
	ENOKI_EV_TASK_SET_VTIME = 39,	/* pid, vtime */
	ENOKI_EV_DSQ_CREATE = 40,	/* dsq -> err */
	ENOKI_EV_DSQ_DESTROY = 41,	/* dsq */
	ENOKI_EV_DSQ_INSERT = 42,	/* pid, dsq, slice, enq_flags */
	ENOKI_EV_DSQ_INSERT_VTIME = 43,	/* pid, dsq, slice, vtime, enq_flags */
	ENOKI_EV_DSQ_MOVE_TO_LOCAL = 44, /* dsq -> moved */
	ENOKI_EV_DSQ_NR_QUEUED = 45,	/* dsq -> n */
	ENOKI_EV_KICK_CPU = 46,		/* cpu, flags */
	ENOKI_EV_SELECT_CPU_DFL = 47,	/* pid, prev_cpu, wake_flags
					 * -> cpu, is_idle */
	ENOKI_EV_TEST_AND_CLEAR_IDLE = 48, /* cpu -> was_idle */
	ENOKI_EV_PICK_IDLE_CPU = 49,	/* pid, flags -> cpu */
	ENOKI_EV_PICK_ANY_CPU = 50,	/* pid, flags -> cpu */
	ENOKI_EV_NOW = 51,		/* -> ns */
	ENOKI_EV_TASK_STORAGE = 52,	/* storage, pid, flags -> found */
	ENOKI_EV_LOCK = 53,		/* lock (order of first use) */
	ENOKI_EV_UNLOCK = 54,		/* lock */
	ENOKI_EV_TIMER_START = 55,	/* timer, delay -> err */
	ENOKI_EV_MSG_SEND = 56,		/* type, pid, arg0..arg3 -> err */
	ENOKI_EV_ERROR = 57,		/* length, text (8 bytes a word) */

	/* About the recording itself. */
	ENOKI_EV_LOST = 64,		/* events dropped here */

	ENOKI_EV_NR_KINDS = 65
};

#define ENOKI_LOG_NO_TASK UINT64_MAX

#endif /* ENOKI_LOG_FORMAT_H */
