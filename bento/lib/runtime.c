/*
 * runtime.c - memory, time and checksums for file systems in userspace.
 *
 * Thin adapters: bento_alloc is malloc, bento_now is
 * clock_gettime(CLOCK_REALTIME), bento_crc32 is zlib's crc32() and
 * bento_hash64 is XXH64 from libxxhash.  The kernel host maps the same
 * names to kmalloc, ktime_get_real_ts64, crc32_le and xxh64, which give
 * the same results, so checksums and hashes written to disk here read
 * back there.
 */
#include <stdlib.h>
#include <time.h>
#include <zlib.h>
#include <xxhash.h>

#include "bento_host.h"

void *bento_alloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *bento_zalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void bento_free(void *p)
{
	free(p);
}

void bento_now(struct bento_timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ts->sec = now.tv_sec;
	ts->nsec = (uint32_t)now.tv_nsec;
}

uint32_t bento_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* zlib takes uInt lengths: feed it in pieces below 4 GiB. */
	while (len > 0) {
		uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;

		crc = (uint32_t)crc32(crc, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return crc;
}

uint64_t bento_hash64(const void *buf, size_t len, uint64_t seed)
{
	return XXH64(buf, len, seed);
}
