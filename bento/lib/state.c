/*
 * state.c - the live-upgrade state record: a version and tagged items.
 *
 * In memory a record is one growing byte array of items, each laid out
 * as it is serialized:
 *
 *   tag   u32 LE
 *   len   u32 LE
 *   data  len bytes, then zero padding to a multiple of 8
 *
 * so every item's data starts 8-byte aligned (a reader may overlay a
 * structure on it) and serializing is a header plus one memcpy.  The
 * serialized form, for handing a record to another process, is
 *
 *   magic "BSTa" u32 LE | format u32 LE (1) | version u32 LE |
 *   nitems u32 LE | total length u64 LE | crc32 u32 LE | zero u32
 *   followed by the items,
 *
 * where the crc32 covers the whole byte string with the crc field taken
 * as zero.  Deserializing checks the header, the crc, and then walks the
 * items checking every length against what is left, so a truncated or
 * corrupted record is rejected with -EBADMSG and never read out of
 * bounds.  Items are limited to 1 GiB, as <bento/state.h> promises.
 */
#include <stdlib.h>

#include "bento_host.h"

#define STATE_MAGIC 0x61545342u		/* "BSTa" little-endian */
#define STATE_FORMAT 1u
#define STATE_HDR_SIZE 32u
#define STATE_ITEM_HDR 8u
#define STATE_ITEM_MAX (1u << 30)

struct bento_state {
	uint32_t version;
	uint32_t nitems;
	uint8_t *items;		/* item area, 8-byte aligned (malloc) */
	size_t used;
	size_t cap;
};

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

struct bento_state *bento_state_new(void)
{
	return bento_zalloc(sizeof(struct bento_state));
}

void bento_state_free(struct bento_state *st)
{
	if (!st)
		return;
	free(st->items);
	bento_free(st);
}

void bento_state_set_version(struct bento_state *st, uint32_t version)
{
	st->version = version;
}

uint32_t bento_state_version(const struct bento_state *st)
{
	return st->version;
}

/* Make room for @more bytes of items. */
static int state_reserve(struct bento_state *st, size_t more)
{
	size_t cap = st->cap ? st->cap : 256;
	uint8_t *items;

	if (st->used + more <= st->cap)
		return 0;
	while (cap < st->used + more)
		cap *= 2;
	items = realloc(st->items, cap);
	if (!items)
		return -ENOMEM;
	st->items = items;
	st->cap = cap;
	return 0;
}

int bento_state_put(struct bento_state *st, uint32_t tag, const void *data,
		    uint32_t len)
{
	size_t size = STATE_ITEM_HDR + pad8(len);
	uint8_t *p;

	if (len > STATE_ITEM_MAX)
		return -EINVAL;
	if (state_reserve(st, size))
		return -ENOMEM;
	p = st->items + st->used;
	bento_put_le32(p, tag);
	bento_put_le32(p + 4, len);
	if (len)
		memcpy(p + STATE_ITEM_HDR, data, len);
	memset(p + STATE_ITEM_HDR + len, 0, pad8(len) - len);
	st->used += size;
	st->nitems++;
	return 0;
}

int bento_state_next(const struct bento_state *st, uint64_t *cursor,
		     uint32_t *tag, const void **data, uint32_t *len)
{
	const uint8_t *p;

	if (*cursor >= st->used)
		return -ENOENT;
	p = st->items + *cursor;
	*tag = bento_get_le32(p);
	*len = bento_get_le32(p + 4);
	*data = p + STATE_ITEM_HDR;
	*cursor += STATE_ITEM_HDR + pad8(*len);
	return 0;
}

int64_t bento_state_get(const struct bento_state *st, uint32_t tag,
			void *data, uint32_t len)
{
	uint64_t cursor = 0;
	const void *item;
	uint32_t t, n;

	while (bento_state_next(st, &cursor, &t, &item, &n) == 0) {
		if (t != tag)
			continue;
		if (n && len)	/* @data may be NULL when @len is 0 */
			memcpy(data, item, n < len ? n : len);
		return n;
	}
	return -ENOENT;
}

int bento_state_serialize(const struct bento_state *st, void **bytes,
			  size_t *len)
{
	size_t total = STATE_HDR_SIZE + st->used;
	uint8_t *p = malloc(total);

	if (!p)
		return -ENOMEM;
	bento_put_le32(p, STATE_MAGIC);
	bento_put_le32(p + 4, STATE_FORMAT);
	bento_put_le32(p + 8, st->version);
	bento_put_le32(p + 12, st->nitems);
	bento_put_le64(p + 16, total);
	bento_put_le32(p + 24, 0);
	bento_put_le32(p + 28, 0);
	if (st->used)
		memcpy(p + STATE_HDR_SIZE, st->items, st->used);
	bento_put_le32(p + 24, bento_crc32(0, p, total));
	*bytes = p;
	*len = total;
	return 0;
}

/* Reject a malformed record, saying why at debug level. */
static int state_bad(const char *why)
{
	bento_log(BENTO_LOG_DEBUG, "bento", "state record rejected: %s", why);
	return -EBADMSG;
}

/* Check the items of a serialized record: lengths, padding, count. */
static int state_check_items(const uint8_t *p, size_t size, uint32_t nitems)
{
	size_t off = 0;
	uint32_t i;

	for (i = 0; i < nitems; i++) {
		uint32_t len;
		size_t j;

		if (size - off < STATE_ITEM_HDR)
			return state_bad("item header past the end");
		len = bento_get_le32(p + off + 4);
		if (len > STATE_ITEM_MAX ||
		    pad8(len) > size - off - STATE_ITEM_HDR)
			return state_bad("item length past the end");
		off += STATE_ITEM_HDR;
		for (j = len; j < pad8(len); j++)
			if (p[off + j])
				return state_bad("nonzero item padding");
		off += pad8(len);
	}
	if (off != size)
		return state_bad("bytes after the last item");
	return 0;
}

int bento_state_deserialize(const void *bytes, size_t len,
			    struct bento_state **out)
{
	const uint8_t *p = bytes;
	struct bento_state *st;
	uint8_t hdr[STATE_HDR_SIZE];
	uint32_t crc, nitems;
	int err;

	/* Header, length and checksum. */
	if (!p || len < STATE_HDR_SIZE)
		return state_bad("shorter than its header");
	if (bento_get_le32(p) != STATE_MAGIC)
		return state_bad("bad magic");
	if (bento_get_le32(p + 4) != STATE_FORMAT)
		return state_bad("unknown format");
	if (bento_get_le64(p + 16) != len)
		return state_bad("length does not match the header");
	if (bento_get_le32(p + 28) != 0)
		return state_bad("nonzero reserved field");
	memcpy(hdr, p, STATE_HDR_SIZE);
	bento_put_le32(hdr + 24, 0);
	crc = bento_crc32(0, hdr, STATE_HDR_SIZE);
	crc = bento_crc32(crc, p + STATE_HDR_SIZE, len - STATE_HDR_SIZE);
	if (crc != bento_get_le32(p + 24))
		return state_bad("checksum mismatch");

	/* Items. */
	nitems = bento_get_le32(p + 12);
	err = state_check_items(p + STATE_HDR_SIZE, len - STATE_HDR_SIZE,
				nitems);
	if (err)
		return err;

	st = bento_state_new();
	if (!st)
		return -ENOMEM;
	if (state_reserve(st, len - STATE_HDR_SIZE)) {
		bento_state_free(st);
		return -ENOMEM;
	}
	if (len > STATE_HDR_SIZE)
		memcpy(st->items, p + STATE_HDR_SIZE, len - STATE_HDR_SIZE);
	st->used = len - STATE_HDR_SIZE;
	st->nitems = nitems;
	st->version = bento_get_le32(p + 8);
	*out = st;
	return 0;
}
