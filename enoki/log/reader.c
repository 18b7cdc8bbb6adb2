/*
 * enoki/log/reader.c - reading and checking an Enoki log.
 *
 * The reader holds one chunk at a time.  Loading a chunk reads its
 * header, checks magic, type, flags and length (never more than
 * ENOKI_LOG_MAX_CHUNK, so a corrupt length cannot make us allocate or
 * read gigabytes), reads the payload, checks the crc32 and the sequence
 * number, then walks every event once to check its kind, argument count,
 * CPU and extent, and that the events fill the payload exactly.  Only a
 * chunk that passed all of that hands out events, so a replay never acts
 * on half of a corrupt chunk.  Every error names the byte offset of the
 * thing that is wrong and stops the reader for good.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "log.h"

enum reader_state { RD_OK, RD_END, RD_ERROR };

struct enoki_log_reader {
	FILE *f;
	char *path;
	struct enoki_log_info info;
	enum reader_state state;
	int err;			/* -errno once state is RD_ERROR */
	char msg[512];
	uint64_t offset;		/* file offset of the next byte to read */
	uint64_t seq;			/* sequence number of the next event */
	uint64_t lost;

	uint8_t *chunk;			/* payload of the current chunk */
	size_t chunk_cap;
	size_t chunk_len;
	size_t pos;			/* next event in chunk */
	uint64_t chunk_offset;		/* file offset of the payload */
	uint32_t chunk_left;		/* events not yet handed out */
	uint64_t args[ENOKI_LOG_MAX_ARGS];
};

static uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* Stop the reader: "PATH: offset N: what".  Returns @err. */
__attribute__((format(printf, 4, 5)))
static int fail(struct enoki_log_reader *r, int err, uint64_t offset,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->msg, sizeof(r->msg), "%s: offset %" PRIu64 ": ",
		     r->path, offset);
	if (n > 0 && (size_t)n < sizeof(r->msg)) {
		va_start(ap, fmt);
		vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	r->state = RD_ERROR;
	r->err = err;
	return err;
}

/* Read exactly @len bytes; returns the number read (short at EOF) or
 * -errno. */
static ssize_t read_bytes(struct enoki_log_reader *r, void *buf, size_t len)
{
	size_t got = len ? fread(buf, 1, len, r->f) : 0;

	if (got < len && ferror(r->f))
		return -EIO;
	r->offset += got;
	return (ssize_t)got;
}

/* Copy a NUL-padded field of @size bytes into @dst (size + 1 bytes). */
static void copy_str(char *dst, const char *src, size_t size)
{
	memcpy(dst, src, size);
	dst[size - 1] = '\0';
}

#define HOFF(field) offsetof(struct enoki_log_file_header, field)

static int read_header(struct enoki_log_reader *r)
{
	struct enoki_log_file_header h;
	uint32_t version, size, crc;
	ssize_t got;

	got = read_bytes(r, &h, sizeof(h));
	if (got < 0)
		return fail(r, (int)got, r->offset, "read error");
	if (memcmp(h.magic, ENOKI_LOG_MAGIC, got < 8 ? (size_t)got : 8))
		return fail(r, -EUCLEAN, 0, "not an Enoki log (bad magic)");
	if ((size_t)got < HOFF(header_size))
		return fail(r, -EUCLEAN, (uint64_t)got,
			    "truncated header (%zd of %zu bytes)", got,
			    sizeof(h));
	version = le32toh(h.version);
	if (version != ENOKI_LOG_VERSION)
		return fail(r, -EUCLEAN, HOFF(version),
			    "log format version %u, this build reads version %u",
			    version, ENOKI_LOG_VERSION);
	if ((size_t)got < sizeof(h))
		return fail(r, -EUCLEAN, (uint64_t)got,
			    "truncated header (%zd of %zu bytes)", got,
			    sizeof(h));
	size = le32toh(h.header_size);
	if (size != sizeof(h))
		return fail(r, -EUCLEAN, HOFF(header_size),
			    "header size %u, expected %zu", size, sizeof(h));
	crc = (uint32_t)crc32(0L, (const Bytef *)&h, HOFF(crc));
	if (crc != le32toh(h.crc))
		return fail(r, -EUCLEAN, HOFF(crc),
			    "header checksum mismatch");

	r->info.nr_cpus = le32toh(h.nr_cpus);
	if (r->info.nr_cpus == 0 || r->info.nr_cpus > ENOKI_LOG_MAX_CPUS)
		return fail(r, -EUCLEAN, HOFF(nr_cpus),
			    "bad number of CPUs %u", r->info.nr_cpus);
	r->info.build_id_len = le32toh(h.build_id_len);
	if (r->info.build_id_len > sizeof(h.build_id))
		return fail(r, -EUCLEAN, HOFF(build_id_len),
			    "bad build id length %u", r->info.build_id_len);
	r->info.source = le32toh(h.source);
	r->info.seed = le64toh(h.seed);
	r->info.build_id_kind = le32toh(h.build_id_kind);
	memcpy(r->info.build_id, h.build_id, sizeof(h.build_id));
	copy_str(r->info.policy, h.policy, sizeof(h.policy));
	copy_str(r->info.policy_version, h.policy_version,
		 sizeof(h.policy_version));
	copy_str(r->info.workload, h.workload, sizeof(h.workload));
	return 0;
}

struct enoki_log_reader *enoki_log_reader_open(const char *path, char *err,
					       size_t err_size)
{
	struct enoki_log_reader *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto nomem;
	r->path = strdup(path);
	if (!r->path)
		goto free_reader;
	r->f = fopen(path, "rb");
	if (!r->f) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		goto free_path;
	}
	setvbuf(r->f, NULL, _IOFBF, 256 << 10);
	if (read_header(r) < 0) {
		snprintf(err, err_size, "%s", r->msg);
		goto close_file;
	}
	return r;

close_file:
	fclose(r->f);
free_path:
	free(r->path);
free_reader:
	free(r);
	return NULL;
nomem:
	snprintf(err, err_size, "%s: out of memory", path);
	return NULL;
}

const struct enoki_log_info *enoki_log_reader_info(
	const struct enoki_log_reader *r)
{
	return &r->info;
}

/* Walk the events of the loaded chunk once; 0 or -EUCLEAN. */
static int check_events(struct enoki_log_reader *r, uint32_t nr_events)
{
	size_t pos = 0;
	uint32_t n = 0;

	while (pos < r->chunk_len) {
		const uint8_t *p = r->chunk + pos;
		uint64_t off = r->chunk_offset + pos;
		unsigned int kind, nr_args, cpu;

		if (r->chunk_len - pos < 16)
			return fail(r, -EUCLEAN, off,
				    "event header runs past its chunk");
		kind = p[0];
		nr_args = p[1];
		cpu = get_le16(p + 2);
		if (!enoki_log_kind(kind))
			return fail(r, -EUCLEAN, off, "unknown event kind %u",
				    kind);
		if (!enoki_log_kind_nr_args_ok(kind, nr_args))
			return fail(r, -EUCLEAN, off,
				    "%s event with %u arguments",
				    enoki_log_kind(kind)->name, nr_args);
		if (cpu >= r->info.nr_cpus)
			return fail(r, -EUCLEAN, off,
				    "event on CPU %u of a %u-CPU log", cpu,
				    r->info.nr_cpus);
		if (get_le32(p + 4) != 0)
			return fail(r, -EUCLEAN, off,
				    "reserved event field is not zero");
		if ((r->chunk_len - pos - 16) / 8 < nr_args)
			return fail(r, -EUCLEAN, off,
				    "event arguments run past their chunk");
		pos += 16 + 8 * (size_t)nr_args;
		n++;
	}
	if (n != nr_events)
		return fail(r, -EUCLEAN, r->chunk_offset - 32,
			    "chunk says %u events, holds %u", nr_events, n);
	return 0;
}

/* Check the end chunk's payload, and that nothing follows it. */
static int load_end(struct enoki_log_reader *r, uint64_t start)
{
	if (r->chunk_len != sizeof(struct enoki_log_end))
		return fail(r, -EUCLEAN, start, "end chunk of %zu bytes",
			    r->chunk_len);
	if (get_le64(r->chunk) != r->seq)
		return fail(r, -EUCLEAN, r->chunk_offset,
			    "end chunk counts %" PRIu64 " events, the log has %" PRIu64,
			    get_le64(r->chunk), r->seq);
	r->lost = get_le64(r->chunk + 8);
	if (fgetc(r->f) != EOF)
		return fail(r, -EUCLEAN, r->offset, "data after the end chunk");
	r->state = RD_END;
	return 0;
}

/* Read and check the next chunk.  0, or -errno with the reader failed. */
static int load_chunk(struct enoki_log_reader *r)
{
	uint8_t h[sizeof(struct enoki_log_chunk_header)];
	uint64_t start = r->offset;
	uint32_t len, nr_events, crc;
	uint16_t type;
	ssize_t got;

	/* the header */
	got = read_bytes(r, h, sizeof(h));
	if (got < 0)
		return fail(r, (int)got, r->offset, "read error");
	if (got == 0)
		return fail(r, -EUCLEAN, start,
			    "log ends without an end chunk: truncated after %" PRIu64 " events",
			    r->seq);
	if ((size_t)got < sizeof(h))
		return fail(r, -EUCLEAN, start,
			    "truncated chunk header (%zd of %zu bytes): the log ends after %" PRIu64 " events",
			    got, sizeof(h), r->seq);
	if (get_le32(h) != ENOKI_LOG_CHUNK_MAGIC)
		return fail(r, -EUCLEAN, start, "bad chunk magic");
	type = get_le16(h + 4);
	if (type != ENOKI_LOG_CHUNK_EVENTS && type != ENOKI_LOG_CHUNK_END)
		return fail(r, -EUCLEAN, start, "unknown chunk type %u", type);
	if (get_le16(h + 6) != 0 || get_le32(h + 28) != 0)
		return fail(r, -EUCLEAN, start,
			    "reserved chunk field is not zero");
	len = get_le32(h + 8);
	if (len > ENOKI_LOG_MAX_CHUNK)
		return fail(r, -EUCLEAN, start,
			    "chunk length %u over the limit of %u", len,
			    ENOKI_LOG_MAX_CHUNK);
	nr_events = get_le32(h + 12);

	/* the payload */
	if (len > r->chunk_cap) {
		uint8_t *nb = realloc(r->chunk, len);

		if (!nb)
			return fail(r, -ENOMEM, start, "out of memory");
		r->chunk = nb;
		r->chunk_cap = len;
	}
	got = read_bytes(r, r->chunk, len);
	if (got < 0)
		return fail(r, (int)got, r->offset, "read error");
	if ((size_t)got < len)
		return fail(r, -EUCLEAN, start,
			    "truncated chunk (%zd of %u payload bytes): the log ends after %" PRIu64 " events",
			    got, len, r->seq);

	/* checksum over the header with its crc field zeroed, and payload */
	crc = get_le32(h + 24);
	memset(h + 24, 0, 4);
	if ((uint32_t)crc32(crc32(0L, h, sizeof(h)), r->chunk, len) != crc)
		return fail(r, -EUCLEAN, start, "chunk checksum mismatch");
	if (get_le64(h + 16) != r->seq)
		return fail(r, -EUCLEAN, start,
			    "chunk starts at event %" PRIu64 ", expected %" PRIu64,
			    get_le64(h + 16), r->seq);

	r->chunk_len = len;
	r->chunk_offset = start + sizeof(h);
	r->pos = 0;
	if (type == ENOKI_LOG_CHUNK_END) {
		if (nr_events != 0)
			return fail(r, -EUCLEAN, start,
				    "end chunk with %u events", nr_events);
		return load_end(r, start);
	}
	if (nr_events == 0)
		return fail(r, -EUCLEAN, start, "empty event chunk");
	if (check_events(r, nr_events) < 0)
		return r->err;
	r->chunk_left = nr_events;
	return 0;
}

int enoki_log_next(struct enoki_log_reader *r, struct enoki_log_event *ev)
{
	const uint8_t *p;
	unsigned int i;

	while (r->state == RD_OK && r->chunk_left == 0)
		load_chunk(r);
	if (r->state == RD_ERROR)
		return r->err;
	if (r->state == RD_END)
		return 0;

	/* checked by check_events() */
	p = r->chunk + r->pos;
	ev->kind = p[0];
	ev->nr_args = p[1];
	ev->cpu = get_le16(p + 2);
	ev->time = get_le64(p + 8);
	ev->seq = r->seq++;
	ev->offset = r->chunk_offset + r->pos;
	for (i = 0; i < ev->nr_args; i++)
		r->args[i] = get_le64(p + 16 + 8 * i);
	ev->args = r->args;
	r->pos += 16 + 8 * (size_t)ev->nr_args;
	r->chunk_left--;
	return 1;
}

const char *enoki_log_reader_error(const struct enoki_log_reader *r)
{
	return r->state == RD_ERROR ? r->msg : "";
}

uint64_t enoki_log_reader_lost(const struct enoki_log_reader *r)
{
	return r->lost;
}

void enoki_log_reader_close(struct enoki_log_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->chunk);
	free(r->path);
	free(r);
}
