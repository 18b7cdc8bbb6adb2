/*
 * enoki/log/log.h - writing and reading Enoki logs (format.h).
 *
 * The writer buffers events into a chunk (64 KiB of payload) and writes
 * each chunk with one writev(), header and payload together, so a crash
 * or a full disk loses at most the chunk being written.  Appending an
 * event is a bounds check and a copy: well over a million events per
 * second.
 *
 * The reader streams a log chunk by chunk and checks everything before
 * handing out an event: magic, version, header crc, each chunk's magic,
 * type, length (at most ENOKI_LOG_MAX_CHUNK), crc32, sequence number and
 * event count, each event's kind, argument count and extent, the end
 * chunk and nothing after it.  The first problem stops the reader with
 * one message naming the byte offset ("LOG: offset 123: chunk checksum
 * mismatch"); it never reads out of bounds and never crashes.
 *
 * Not thread-safe: one writer or reader per thread.
 */
#ifndef ENOKI_LOG_LOG_H
#define ENOKI_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* What a log is about: the file header, decoded. */
struct enoki_log_info {
	char policy[48];
	char policy_version[16];
	uint8_t build_id[32];
	uint32_t build_id_len;
	uint32_t build_id_kind;		/* enum enoki_log_build_id_kind */
	uint32_t nr_cpus;
	uint32_t source;		/* enum enoki_log_source */
	uint64_t seed;
	char workload[112];
};

/* One event, decoded.  @args points into the reader's buffer and is
 * valid until the next enoki_log_next(). */
struct enoki_log_event {
	uint64_t seq;
	uint64_t time;
	uint64_t offset;		/* byte offset of the event in the file */
	uint32_t cpu;
	uint8_t kind;			/* enum enoki_log_kind */
	uint8_t nr_args;
	const uint64_t *args;
};

/* ---- kinds ------------------------------------------------------------ */

struct enoki_log_kind_info {
	const char *name;		/* "enqueue", "dsq_insert", ... */
	uint8_t nr_in;			/* arguments from the caller */
	uint8_t nr_out;			/* values the host returned */
	bool variable;			/* nr_args varies (cpumask, error) */
	bool callback;			/* a callback entry */
	const char *arg_names[8];	/* in then out, NULL past the end */
};

/* The kind's description, or NULL if @kind is not a known kind. */
const struct enoki_log_kind_info *enoki_log_kind(unsigned int kind);

/* True if @nr_args is valid for @kind (which must be known). */
bool enoki_log_kind_nr_args_ok(unsigned int kind, unsigned int nr_args);

/*
 * enoki_log_format_event - one line describing @ev ("#12 t=1000 cpu 1
 * enqueue pid=5 enq_flags=0x1") into @buf of @size bytes, NUL-terminated
 * and cut if need be.  Returns @buf.
 */
char *enoki_log_format_event(const struct enoki_log_event *ev, char *buf,
			     size_t size);

/*
 * enoki_log_pack_text - @text as an ERROR event's arguments into @args
 * (ENOKI_LOG_MAX_ARGS words): its length, then its bytes, little-endian
 * within 64-bit words, cut to what fits.  Returns the argument count.
 */
unsigned int enoki_log_pack_text(const char *text, uint64_t *args);

/* enoki_log_format_call - the same without the "#seq t= cpu" prefix:
 * "dsq_insert pid=5 dsq=0x... slice=... enq_flags=0x0". */
char *enoki_log_format_call(unsigned int kind, unsigned int nr_args,
			    const uint64_t *args, char *buf, size_t size);

/* ---- writer ----------------------------------------------------------- */

struct enoki_log_writer;

/*
 * enoki_log_writer_open - create (truncate) @path and write its header
 * from @info.  Returns the writer or NULL with *@err set to -errno.
 */
struct enoki_log_writer *enoki_log_writer_open(const char *path,
					       const struct enoki_log_info *info,
					       int *err);

/*
 * enoki_log_append - append one event.  @nr_args <= ENOKI_LOG_MAX_ARGS.
 * Returns 0 or -errno (a failed write; the writer stays failed and every
 * later call returns the same error).
 */
int enoki_log_append(struct enoki_log_writer *w, uint8_t kind, uint32_t cpu,
		     uint64_t time, unsigned int nr_args,
		     const uint64_t *args);

/* enoki_log_add_lost - count @n events the recorder had to drop (written
 * as a LOST event and in the end chunk). */
int enoki_log_add_lost(struct enoki_log_writer *w, uint32_t cpu,
		       uint64_t time, uint64_t n);

/* Write the buffered events as a chunk now.  0 or -errno. */
int enoki_log_flush(struct enoki_log_writer *w);

/* Flush chunks at @bytes of payload instead of 64 KiB (tests: many
 * small chunks).  Clamped to 1..64 KiB. */
void enoki_log_writer_set_chunk_size(struct enoki_log_writer *w,
				     size_t bytes);

/* Events appended so far. */
uint64_t enoki_log_writer_count(const struct enoki_log_writer *w);

/*
 * enoki_log_writer_close - flush, write the end chunk, close, free.
 * Accepts NULL.  Returns 0 or the first -errno the writer met.
 */
int enoki_log_writer_close(struct enoki_log_writer *w);

/* ---- reader ----------------------------------------------------------- */

struct enoki_log_reader;

/*
 * enoki_log_reader_open - open @path and check its header.  Returns the
 * reader, or NULL with one line in @err ("PATH: offset 0: not an Enoki
 * log (bad magic)") of @err_size bytes.
 */
struct enoki_log_reader *enoki_log_reader_open(const char *path, char *err,
					       size_t err_size);

/* The header, decoded. */
const struct enoki_log_info *enoki_log_reader_info(
	const struct enoki_log_reader *r);

/*
 * enoki_log_next - the next event into *@ev.  Returns 1, 0 at the end
 * chunk, or -EUCLEAN (malformed or truncated log) / -errno (read error)
 * with the reason in enoki_log_reader_error().  After an error or the
 * end, every later call returns the same.
 */
int enoki_log_next(struct enoki_log_reader *r, struct enoki_log_event *ev);

/* One line naming the file, the offset and what is wrong; "" if none. */
const char *enoki_log_reader_error(const struct enoki_log_reader *r);

/* From the end chunk (valid once enoki_log_next() returned 0). */
uint64_t enoki_log_reader_lost(const struct enoki_log_reader *r);

/* Accepts NULL. */
void enoki_log_reader_close(struct enoki_log_reader *r);

/* ---- build ids -------------------------------------------------------- */

/*
 * enoki_log_build_id_of - the build id of the loaded object containing
 * address @addr (a policy's symbol): its ELF GNU build id note, else an
 * FNV-1a 64 hash of its file.  Fills @info's build_id fields; returns 0,
 * or -ENOENT (kind NONE) if neither could be found.
 */
int enoki_log_build_id_of(const void *addr, struct enoki_log_info *info);

/* Hex of a build id into @buf (at least 65 bytes); "none" if empty. */
char *enoki_log_build_id_hex(const uint8_t *id, uint32_t len, char *buf);

/* A 32-bit hash of a name (storages, timers): FNV-1a. */
uint32_t enoki_log_name_hash(const char *name);

#endif /* ENOKI_LOG_LOG_H */
