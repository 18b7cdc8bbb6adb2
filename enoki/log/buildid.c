/*
 * enoki/log/buildid.c - which build of a policy a log was made with.
 *
 * The GNU build id of the loaded object that holds the policy (its .so,
 * or the executable when the policy is linked in) comes from
 * common/buildid.c, which reads it from the mapped program headers.
 * Objects linked without one get an FNV-1a 64 hash of their file
 * (found with dladdr) instead.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../common/buildid.h"
#include "log.h"

/* FNV-1a 64 of the file at @path into @info; 0 or -errno. */
static int hash_file(const char *path, struct enoki_log_info *info)
{
	uint64_t h = 14695981039346656037ULL;
	unsigned char buf[4096];
	size_t n, i;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		for (i = 0; i < n; i++) {
			h ^= buf[i];
			h *= 1099511628211ULL;
		}
	fclose(f);
	for (i = 0; i < 8; i++)
		info->build_id[i] = (uint8_t)(h >> (8 * i));
	info->build_id_len = 8;
	info->build_id_kind = ENOKI_LOG_BID_HASH;
	return 0;
}

int enoki_log_build_id_of(const void *addr, struct enoki_log_info *info)
{
	size_t len = common_build_id(addr, info->build_id,
				     sizeof(info->build_id));
	Dl_info dli;

	info->build_id_len = (uint32_t)len;
	info->build_id_kind = len ? ENOKI_LOG_BID_GNU : ENOKI_LOG_BID_NONE;
	if (len)
		return 0;
	if (dladdr(addr, &dli) && dli.dli_fname && dli.dli_fname[0] &&
	    hash_file(dli.dli_fname, info) == 0)
		return 0;
	return -ENOENT;
}

char *enoki_log_build_id_hex(const uint8_t *id, uint32_t len, char *buf)
{
	if (len == 0) {
		strcpy(buf, "none");
		return buf;
	}
	return common_hex(buf, 2 * 32 + 1, id, len);
}
