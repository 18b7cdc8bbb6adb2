/*
 * enoki/log/writer.c - appending events to an Enoki log.
 *
 * Events are encoded straight into a chunk buffer; when the payload
 * reaches ENOKI_LOG_WRITE_CHUNK bytes (or on flush/close) the chunk
 * header is filled in (length, count, first sequence number, crc32 over
 * header and payload) and header and payload go out in one writev().  A
 * failed or short write makes the writer fail for good: the log stops at
 * the last whole chunk, which the reader reports as a truncation.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"

#define ENOKI_LOG_WRITE_CHUNK (64u << 10)
#define WRITER_BUF (ENOKI_LOG_WRITE_CHUNK + 16 + 8 * ENOKI_LOG_MAX_ARGS)

struct enoki_log_writer {
	int fd;
	int err;			/* first -errno, sticky */
	uint64_t seq;			/* events appended */
	uint64_t chunk_seq;		/* sequence number of the chunk's first */
	uint32_t chunk_events;
	uint64_t lost;
	size_t len;			/* payload bytes in buf */
	size_t chunk_size;		/* flush when len reaches it */
	uint8_t buf[WRITER_BUF];
};

static void put_le16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* Write all of @iov (@n entries, @total bytes); 0 or -errno. */
static int write_all(int fd, struct iovec *iov, int n, size_t total)
{
	while (total > 0) {
		ssize_t r = writev(fd, iov, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		total -= (size_t)r;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* Emit one chunk of @type with @payload; 0 or -errno. */
static int write_chunk(struct enoki_log_writer *w, uint16_t type,
		       const uint8_t *payload, uint32_t len,
		       uint32_t nr_events, uint64_t first_seq)
{
	uint8_t hdr[sizeof(struct enoki_log_chunk_header)];
	struct iovec iov[2];
	uLong crc;

	memset(hdr, 0, sizeof(hdr));
	put_le32(hdr + 0, ENOKI_LOG_CHUNK_MAGIC);
	put_le16(hdr + 4, type);
	put_le32(hdr + 8, len);
	put_le32(hdr + 12, nr_events);
	put_le64(hdr + 16, first_seq);
	crc = crc32(0L, hdr, sizeof(hdr));
	crc = crc32(crc, payload, len);
	put_le32(hdr + 24, (uint32_t)crc);

	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = len;
	return write_all(w->fd, iov, 2, sizeof(hdr) + len);
}

int enoki_log_flush(struct enoki_log_writer *w)
{
	if (w->err)
		return w->err;
	if (w->chunk_events == 0)
		return 0;
	w->err = write_chunk(w, ENOKI_LOG_CHUNK_EVENTS, w->buf,
			     (uint32_t)w->len, w->chunk_events, w->chunk_seq);
	w->len = 0;
	w->chunk_events = 0;
	w->chunk_seq = w->seq;
	return w->err;
}

int enoki_log_append(struct enoki_log_writer *w, uint8_t kind, uint32_t cpu,
		     uint64_t time, unsigned int nr_args,
		     const uint64_t *args)
{
	uint8_t *p;
	unsigned int i;

	if (w->err)
		return w->err;
	if (nr_args > ENOKI_LOG_MAX_ARGS || cpu > UINT16_MAX)
		return -EINVAL;

	/* the buffer always has room for one more event of any size */
	p = w->buf + w->len;
	p[0] = kind;
	p[1] = (uint8_t)nr_args;
	put_le16(p + 2, (uint16_t)cpu);
	put_le32(p + 4, 0);
	put_le64(p + 8, time);
	for (i = 0; i < nr_args; i++)
		put_le64(p + 16 + 8 * i, args[i]);
	w->len += 16 + 8 * (size_t)nr_args;
	w->chunk_events++;
	w->seq++;

	if (w->len >= w->chunk_size)
		return enoki_log_flush(w);
	return 0;
}

int enoki_log_add_lost(struct enoki_log_writer *w, uint32_t cpu,
		       uint64_t time, uint64_t n)
{
	w->lost += n;
	return enoki_log_append(w, ENOKI_EV_LOST, cpu, time, 1, &n);
}

void enoki_log_writer_set_chunk_size(struct enoki_log_writer *w,
				     size_t bytes)
{
	if (bytes < 1)
		bytes = 1;
	if (bytes > ENOKI_LOG_WRITE_CHUNK)
		bytes = ENOKI_LOG_WRITE_CHUNK;
	w->chunk_size = bytes;
}

uint64_t enoki_log_writer_count(const struct enoki_log_writer *w)
{
	return w->seq;
}

/* A string into a NUL-padded field of @size bytes (@dst is zeroed). */
static void copy_field(char *dst, const char *src, size_t size)
{
	memcpy(dst, src, strnlen(src, size - 1));
}

/* Encode @info as the 256-byte file header into @f. */
static void encode_header(struct enoki_log_file_header *f,
			  const struct enoki_log_info *info)
{
	uint32_t bid_len = info->build_id_len;

	memset(f, 0, sizeof(*f));
	memcpy(f->magic, ENOKI_LOG_MAGIC, 8);
	put_le32((uint8_t *)&f->version, ENOKI_LOG_VERSION);
	put_le32((uint8_t *)&f->header_size, sizeof(*f));
	put_le32((uint8_t *)&f->nr_cpus, info->nr_cpus);
	put_le32((uint8_t *)&f->source, info->source);
	put_le64((uint8_t *)&f->seed, info->seed);
	copy_field(f->policy, info->policy, sizeof(f->policy));
	copy_field(f->policy_version, info->policy_version,
		   sizeof(f->policy_version));
	if (bid_len > sizeof(f->build_id))
		bid_len = sizeof(f->build_id);
	memcpy(f->build_id, info->build_id, bid_len);
	put_le32((uint8_t *)&f->build_id_len, bid_len);
	put_le32((uint8_t *)&f->build_id_kind, info->build_id_kind);
	copy_field(f->workload, info->workload, sizeof(f->workload));
	put_le32((uint8_t *)&f->crc,
		 (uint32_t)crc32(0L, (const Bytef *)f,
				 offsetof(struct enoki_log_file_header, crc)));
}

struct enoki_log_writer *enoki_log_writer_open(const char *path,
					       const struct enoki_log_info *info,
					       int *err)
{
	struct enoki_log_file_header h;
	struct enoki_log_writer *w;
	struct iovec iov;

	if (info->nr_cpus == 0 || info->nr_cpus > ENOKI_LOG_MAX_CPUS) {
		*err = -EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		*err = -errno;
		goto free_writer;
	}
	w->chunk_size = ENOKI_LOG_WRITE_CHUNK;

	encode_header(&h, info);
	iov.iov_base = &h;
	iov.iov_len = sizeof(h);
	*err = write_all(w->fd, &iov, 1, sizeof(h));
	if (*err)
		goto close_fd;
	return w;

close_fd:
	close(w->fd);
free_writer:
	free(w);
	return NULL;
}

int enoki_log_writer_close(struct enoki_log_writer *w)
{
	uint8_t end[sizeof(struct enoki_log_end)];
	int err;

	if (!w)
		return 0;
	err = enoki_log_flush(w);
	if (!err) {
		put_le64(end, w->seq);
		put_le64(end + 8, w->lost);
		err = write_chunk(w, ENOKI_LOG_CHUNK_END, end, sizeof(end), 0,
				  w->seq);
	}
	if (close(w->fd) < 0 && !err)
		err = -errno;
	free(w);
	return err;
}
