/*
 * bento/host/user.h - layouts of the framework's lock types in userspace.
 *
 * Included by <bento/sync.h> only; file systems never include it.  The
 * kernel host has its own (kernel.h, added with the kernel host).
 */
#ifndef BENTO_HOST_USER_H
#define BENTO_HOST_USER_H

#include <pthread.h>

struct bento_mutex {
	pthread_mutex_t m;
};

struct bento_rwlock {
	pthread_rwlock_t l;
};

struct bento_spinlock {
	pthread_spinlock_t s;
};

struct bento_cond {
	pthread_cond_t c;
};

#endif /* BENTO_HOST_USER_H */
