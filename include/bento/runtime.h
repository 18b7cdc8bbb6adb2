/*
 * bento/runtime.h - memory, time and checksums for file systems.
 *
 * What a file system would otherwise take from libc or the kernel, with
 * the same meaning in both.
 */
#ifndef BENTO_RUNTIME_H
#define BENTO_RUNTIME_H

#include <bento/types.h>

/*
 * bento_alloc / bento_zalloc - allocate @size bytes (zeroed by zalloc).
 * May sleep; must not be called holding a spinlock.  Returns NULL when
 * out of memory: callers return -ENOMEM.
 */
void *bento_alloc(size_t size);
void *bento_zalloc(size_t size);
/* bento_free - free what bento_alloc/zalloc returned.  NULL is ignored. */
void bento_free(void *p);

/* bento_now - the current wall-clock time, nanosecond resolution. */
void bento_now(struct bento_timespec *ts);

/*
 * bento_crc32 - CRC-32 (IEEE 802.3, zlib's crc32()) of @len bytes at @buf,
 * continuing from @crc (start with 0).  Same result on every host: zlib in
 * userspace, crc32_le() in the kernel.
 */
uint32_t bento_crc32(uint32_t crc, const void *buf, size_t len);

/*
 * bento_hash64 - a fast non-cryptographic 64-bit hash of @len bytes,
 * seeded by @seed (for hashed directories and similar).  Same result on
 * every host (XXH64: libxxhash in userspace, xxh64() in the kernel);
 * stable across releases, so it may be stored on disk.
 */
uint64_t bento_hash64(const void *buf, size_t len, uint64_t seed);

#endif /* BENTO_RUNTIME_H */
