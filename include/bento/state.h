/*
 * bento/state.h - the record a file system hands to its successor in a
 * live upgrade.
 *
 * The old build's prepare op writes a record; the new build's transfer op
 * reads it.  The record is self-describing, never a raw pointer: it has a
 * format version chosen by the file system and a list of tagged items
 * (tag, length, bytes).  A reader asks for items by tag, so a newer build
 * can skip items it does not know and refuse a version it cannot read
 * (transfer returns -EPROTO, and the old build keeps serving).
 *
 * The framework owns the record's memory.  Items are copied in and out;
 * an item may be up to 1 GiB and a record may hold any number of items.
 * Integers inside items are the file system's business; store them
 * little-endian if the record may cross hosts.
 */
#ifndef BENTO_STATE_H
#define BENTO_STATE_H

#include <bento/types.h>

struct bento_state;	/* opaque */

/* bento_state_set_version - stamp the record's format version (writer). */
void bento_state_set_version(struct bento_state *st, uint32_t version);
/* bento_state_version - the version the writer stamped (reader). */
uint32_t bento_state_version(const struct bento_state *st);

/*
 * bento_state_put - append item @tag with @len bytes from @data.
 * Returns 0 or -ENOMEM.  Tags need not be unique: bento_state_get finds
 * the first, bento_state_next walks all of them.
 */
int bento_state_put(struct bento_state *st, uint32_t tag, const void *data,
		    uint32_t len);

/*
 * bento_state_get - copy the first item @tag into @data (at most @len
 * bytes).  Returns the item's full length (which may exceed @len: then
 * only @len bytes were copied), or -ENOENT if there is no such item.
 */
int64_t bento_state_get(const struct bento_state *st, uint32_t tag,
			void *data, uint32_t len);

/*
 * bento_state_next - iterate over the items.  Start with *@cursor = 0;
 * each call returns 0 and fills *@tag, *@data (pointer into the record,
 * valid until the record is freed) and *@len, or -ENOENT at the end.
 */
int bento_state_next(const struct bento_state *st, uint64_t *cursor,
		     uint32_t *tag, const void **data, uint32_t *len);

#endif /* BENTO_STATE_H */
