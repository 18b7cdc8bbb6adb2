/*
 * common/buildid.h - which build of a loaded object is running.
 *
 * Bento (file-system modules) and Enoki (policies, and the logs that
 * name a policy's build) both identify a loaded ELF object by its GNU
 * build id: the NT_GNU_BUILD_ID note the linker writes (ld --build-id).
 * It is read from the program headers the dynamic linker mapped
 * (dl_iterate_phdr), so no file is opened or parsed.  What to do for an
 * object linked without one (hash its file, say "none") is the caller's
 * choice.
 *
 * Userspace only (libc, <link.h>); errors are a 0 length, never a crash:
 * note sizes are checked against the segment before they are used.
 */
#ifndef COMMON_BUILDID_H
#define COMMON_BUILDID_H

#include <stddef.h>
#include <stdint.h>

/*
 * common_build_id - the GNU build id of the loaded object (the executable
 * or a shared object) whose mapped segments contain @addr.  Copies up to
 * @max bytes of it into @id.  Returns the number of bytes copied, or 0
 * if no loaded object holds @addr or that object has no (non-empty)
 * build id note.
 */
size_t common_build_id(const void *addr, uint8_t *id, size_t max);

/*
 * common_hex - @n bytes at @p as lowercase hex digits into @out, which
 * has room for @outsize bytes (at least 1): as many whole bytes as fit,
 * then a NUL.  Returns @out.
 */
char *common_hex(char *out, size_t outsize, const uint8_t *p, size_t n);

#endif /* COMMON_BUILDID_H */
