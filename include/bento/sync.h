/*
 * bento/sync.h - locks for file systems: mutex, reader-writer lock and
 * spinlock.
 *
 * The lock structures are embedded in the file system's own structures;
 * their layout comes from the host (include/bento/host/), the functions
 * below are the only way to touch them.
 *
 *   mutex     may sleep while held; not recursive.
 *   rwlock    many readers or one writer; may sleep while held.
 *   spinlock  short critical sections only: never sleep, allocate, or do
 *             I/O while holding one.
 *
 * Lock ordering is the file system's to define and document.  Every
 * init has a matching destroy; destroy of an unlocked lock only.
 */
#ifndef BENTO_SYNC_H
#define BENTO_SYNC_H

#include <bento/types.h>

#ifdef __KERNEL__
#include <bento/host/kernel.h>
#else
#include <bento/host/user.h>
#endif

void bento_mutex_init(struct bento_mutex *m);
void bento_mutex_destroy(struct bento_mutex *m);
void bento_mutex_lock(struct bento_mutex *m);
void bento_mutex_unlock(struct bento_mutex *m);
/* bento_mutex_trylock - returns true if it took the lock. */
bool bento_mutex_trylock(struct bento_mutex *m);

void bento_rwlock_init(struct bento_rwlock *l);
void bento_rwlock_destroy(struct bento_rwlock *l);
void bento_rwlock_rdlock(struct bento_rwlock *l);
void bento_rwlock_wrlock(struct bento_rwlock *l);
void bento_rwlock_rdunlock(struct bento_rwlock *l);
void bento_rwlock_wrunlock(struct bento_rwlock *l);

void bento_spin_init(struct bento_spinlock *s);
void bento_spin_destroy(struct bento_spinlock *s);
void bento_spin_lock(struct bento_spinlock *s);
void bento_spin_unlock(struct bento_spinlock *s);

/*
 * A condition variable, used with a bento_mutex: wait releases the mutex,
 * sleeps until signalled, and retakes it.  Spurious wakeups happen; wait
 * in a loop on the condition.
 */
void bento_cond_init(struct bento_cond *c);
void bento_cond_destroy(struct bento_cond *c);
void bento_cond_wait(struct bento_cond *c, struct bento_mutex *m);
void bento_cond_signal(struct bento_cond *c);
void bento_cond_broadcast(struct bento_cond *c);

#endif /* BENTO_SYNC_H */
