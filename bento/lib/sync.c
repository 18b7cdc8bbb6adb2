/*
 * sync.c - the locks of <bento/sync.h> over pthreads.
 *
 * mutex, rwlock and spinlock map one to one onto pthread_mutex_t,
 * pthread_rwlock_t and pthread_spinlock_t; the condition variable onto
 * pthread_cond_t waited on with the bento_mutex's pthread mutex.  A
 * failing pthread call means the lock was misused (destroyed while held,
 * unlocked by a stranger), which is a broken invariant: it asserts.
 *
 * The rwlock prefers writers, so a stream of readers cannot starve the
 * live-upgrade quiesce, which takes the write side.
 */
#include "bento_host.h"

#define SYNC_OK(call) BENTO_ASSERT((call) == 0)

void bento_mutex_init(struct bento_mutex *m)
{
	SYNC_OK(pthread_mutex_init(&m->m, NULL));
}

void bento_mutex_destroy(struct bento_mutex *m)
{
	SYNC_OK(pthread_mutex_destroy(&m->m));
}

void bento_mutex_lock(struct bento_mutex *m)
{
	SYNC_OK(pthread_mutex_lock(&m->m));
}

void bento_mutex_unlock(struct bento_mutex *m)
{
	SYNC_OK(pthread_mutex_unlock(&m->m));
}

bool bento_mutex_trylock(struct bento_mutex *m)
{
	return pthread_mutex_trylock(&m->m) == 0;
}

void bento_rwlock_init(struct bento_rwlock *l)
{
	pthread_rwlockattr_t attr;

	SYNC_OK(pthread_rwlockattr_init(&attr));
	SYNC_OK(pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP));
	SYNC_OK(pthread_rwlock_init(&l->l, &attr));
	pthread_rwlockattr_destroy(&attr);
}

void bento_rwlock_destroy(struct bento_rwlock *l)
{
	SYNC_OK(pthread_rwlock_destroy(&l->l));
}

void bento_rwlock_rdlock(struct bento_rwlock *l)
{
	SYNC_OK(pthread_rwlock_rdlock(&l->l));
}

void bento_rwlock_wrlock(struct bento_rwlock *l)
{
	SYNC_OK(pthread_rwlock_wrlock(&l->l));
}

void bento_rwlock_rdunlock(struct bento_rwlock *l)
{
	SYNC_OK(pthread_rwlock_unlock(&l->l));
}

void bento_rwlock_wrunlock(struct bento_rwlock *l)
{
	SYNC_OK(pthread_rwlock_unlock(&l->l));
}

void bento_spin_init(struct bento_spinlock *s)
{
	SYNC_OK(pthread_spin_init(&s->s, PTHREAD_PROCESS_PRIVATE));
}

void bento_spin_destroy(struct bento_spinlock *s)
{
	SYNC_OK(pthread_spin_destroy(&s->s));
}

void bento_spin_lock(struct bento_spinlock *s)
{
	SYNC_OK(pthread_spin_lock(&s->s));
}

void bento_spin_unlock(struct bento_spinlock *s)
{
	SYNC_OK(pthread_spin_unlock(&s->s));
}

void bento_cond_init(struct bento_cond *c)
{
	SYNC_OK(pthread_cond_init(&c->c, NULL));
}

void bento_cond_destroy(struct bento_cond *c)
{
	SYNC_OK(pthread_cond_destroy(&c->c));
}

void bento_cond_wait(struct bento_cond *c, struct bento_mutex *m)
{
	SYNC_OK(pthread_cond_wait(&c->c, &m->m));
}

void bento_cond_signal(struct bento_cond *c)
{
	SYNC_OK(pthread_cond_signal(&c->c));
}

void bento_cond_broadcast(struct bento_cond *c)
{
	SYNC_OK(pthread_cond_broadcast(&c->c));
}
