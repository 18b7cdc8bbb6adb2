/*
 * tests/enoki-replay/common.c - the toy engine and helpers (common.h).
 *
 * The toy engine is not a scheduler: it keeps just enough state (task
 * weights, CPUs, slices, vtimes, masks; queue lengths) for the answers
 * to look plausible, and draws everything else from a seeded xorshift
 * generator.  What matters to record and replay is only that the answers
 * are the engine's and end up in the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "record.h"

#define TOY_DSQS 16
#define TOY_TIMERS 8
#define TOY_MAX_TASKS 512

struct toy_task {
	struct task_struct t;
	u32 weight;
	s32 cpu;
	u64 slice, vtime;
	struct cpumask mask;
	bool alive;
};

struct toy {
	struct enoki_host h;
	u64 rng;
	u64 now;
	s32 cpu;
	struct toy_task tasks[TOY_MAX_TASKS];
	u32 nr_tasks;
	s32 next_pid;
	struct {
		u64 id;
		s32 n;
		bool used;
	} dsqs[TOY_DSQS];
	struct {
		struct enoki_timer *t;
		u64 due;
	} timers[TOY_TIMERS];
};

static u64 rnd(struct toy *t)
{
	u64 x = t->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	return x;
}

static u32 rnd_below(struct toy *t, u32 n)
{
	return (u32)(rnd(t) % n);
}

static struct toy *toy_of(struct enoki_host *h)
{
	return h->priv;
}

static struct toy_task *tt(const struct task_struct *p)
{
	return (struct toy_task *)p;	/* t is the first member */
}

static s32 *dsq_count(struct toy *t, u64 id)
{
	int i;

	for (i = 0; i < TOY_DSQS; i++)
		if (t->dsqs[i].used && t->dsqs[i].id == id)
			return &t->dsqs[i].n;
	for (i = 0; i < TOY_DSQS; i++)
		if (!t->dsqs[i].used) {
			t->dsqs[i].used = true;
			t->dsqs[i].id = id;
			t->dsqs[i].n = 0;
			return &t->dsqs[i].n;
		}
	return &t->dsqs[0].n;
}

static s32 toy_task_pid(struct enoki_host *h, const struct task_struct *p)
{
	return p->pid;
}

static u32 toy_task_weight(struct enoki_host *h, const struct task_struct *p)
{
	return tt(p)->weight;
}

static s32 toy_task_cpu(struct enoki_host *h, const struct task_struct *p)
{
	return tt(p)->cpu;
}

static bool toy_task_allowed(struct enoki_host *h,
			     const struct task_struct *p, s32 cpu)
{
	return enoki_cpumask_has(&tt(p)->mask, cpu);
}

static s32 toy_task_nr_cpus_allowed(struct enoki_host *h,
				    const struct task_struct *p)
{
	s32 n = 0;
	u32 i;

	for (i = 0; i < h->nr_cpus; i++)
		n += enoki_cpumask_has(&tt(p)->mask, (s32)i);
	return n;
}

static u64 toy_task_slice(struct enoki_host *h, const struct task_struct *p)
{
	return tt(p)->slice;
}

static void toy_task_set_slice(struct enoki_host *h, struct task_struct *p,
			       u64 slice)
{
	tt(p)->slice = slice;
}

static u64 toy_task_vtime(struct enoki_host *h, const struct task_struct *p)
{
	return tt(p)->vtime;
}

static void toy_task_set_vtime(struct enoki_host *h, struct task_struct *p,
			       u64 vtime)
{
	tt(p)->vtime = vtime;
}

static bool toy_cpumask_test(struct enoki_host *h, const struct cpumask *m,
			     s32 cpu)
{
	return enoki_cpumask_has(m, cpu);
}

static s32 toy_dsq_create(struct enoki_host *h, u64 id)
{
	dsq_count(toy_of(h), id);
	return 0;
}

static void toy_dsq_destroy(struct enoki_host *h, u64 id)
{
}

static void toy_dsq_insert(struct enoki_host *h, struct task_struct *p,
			   u64 id, u64 slice, u64 flags)
{
	(*dsq_count(toy_of(h), id))++;
	tt(p)->slice = slice;
}

static void toy_dsq_insert_vtime(struct enoki_host *h, struct task_struct *p,
				 u64 id, u64 slice, u64 vtime, u64 flags)
{
	(*dsq_count(toy_of(h), id))++;
	tt(p)->slice = slice;
	tt(p)->vtime = vtime;
}

static bool toy_dsq_move_to_local(struct enoki_host *h, u64 id)
{
	s32 *n = dsq_count(toy_of(h), id);

	if (*n <= 0)
		return false;
	(*n)--;
	return true;
}

static s32 toy_dsq_nr_queued(struct enoki_host *h, u64 id)
{
	return *dsq_count(toy_of(h), id);
}

static u32 toy_nr_cpus(struct enoki_host *h)
{
	return h->nr_cpus;
}

static s32 toy_this_cpu(struct enoki_host *h)
{
	return toy_of(h)->cpu;
}

static void toy_kick_cpu(struct enoki_host *h, s32 cpu, u64 flags)
{
}

static s32 toy_select_cpu_dfl(struct enoki_host *h, struct task_struct *p,
			      s32 prev, u64 wf, bool *is_idle)
{
	struct toy *t = toy_of(h);

	*is_idle = rnd_below(t, 2);
	return *is_idle ? (s32)rnd_below(t, h->nr_cpus) : prev;
}

static bool toy_test_and_clear_cpu_idle(struct enoki_host *h, s32 cpu)
{
	return rnd_below(toy_of(h), 3) == 0;
}

static s32 toy_pick_idle_cpu(struct enoki_host *h,
			     const struct task_struct *p, u64 flags)
{
	struct toy *t = toy_of(h);

	return rnd_below(t, 2) ? (s32)rnd_below(t, h->nr_cpus) : -EBUSY;
}

static s32 toy_pick_any_cpu(struct enoki_host *h,
			    const struct task_struct *p, u64 flags)
{
	return (s32)rnd_below(toy_of(h), h->nr_cpus);
}

static u64 toy_now(struct enoki_host *h)
{
	return toy_of(h)->now;
}

static s32 toy_timer_start(struct enoki_host *h, struct enoki_timer *tm,
			   u64 delay)
{
	struct toy *t = toy_of(h);
	int i, free_slot = -1;

	for (i = 0; i < TOY_TIMERS; i++) {
		if (t->timers[i].t == tm) {
			t->timers[i].due = t->now + delay;
			return 0;
		}
		if (!t->timers[i].t && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	t->timers[free_slot].t = tm;
	t->timers[free_slot].due = t->now + delay;
	return 0;
}

static s32 toy_msg_send(struct enoki_host *h, const struct enoki_msg *m)
{
	return rnd_below(toy_of(h), 8) ? 0 : -ENOSPC;
}

static void toy_printk(struct enoki_host *h, const char *text)
{
}

static void toy_error(struct enoki_host *h, const char *text)
{
}

static const struct enoki_host_ops toy_ops = {
	.task_pid = toy_task_pid,
	.task_weight = toy_task_weight,
	.task_cpu = toy_task_cpu,
	.task_allowed = toy_task_allowed,
	.task_nr_cpus_allowed = toy_task_nr_cpus_allowed,
	.task_slice = toy_task_slice,
	.task_set_slice = toy_task_set_slice,
	.task_vtime = toy_task_vtime,
	.task_set_vtime = toy_task_set_vtime,
	.cpumask_test = toy_cpumask_test,
	.dsq_create = toy_dsq_create,
	.dsq_destroy = toy_dsq_destroy,
	.dsq_insert = toy_dsq_insert,
	.dsq_insert_vtime = toy_dsq_insert_vtime,
	.dsq_move_to_local = toy_dsq_move_to_local,
	.dsq_nr_queued = toy_dsq_nr_queued,
	.nr_cpus = toy_nr_cpus,
	.this_cpu = toy_this_cpu,
	.kick_cpu = toy_kick_cpu,
	.select_cpu_dfl = toy_select_cpu_dfl,
	.test_and_clear_cpu_idle = toy_test_and_clear_cpu_idle,
	.pick_idle_cpu = toy_pick_idle_cpu,
	.pick_any_cpu = toy_pick_any_cpu,
	.now = toy_now,
	.timer_start = toy_timer_start,
	.msg_send = toy_msg_send,
	.printk = toy_printk,
	.error = toy_error,
};

static const u32 nice_weights[] = { 10, 36, 100, 335, 1000 };

/* A new task in slot @i: init_task, set_weight, set_cpumask. */
static void toy_spawn(struct toy *t, u32 i, bool fork)
{
	struct toy_task *k = &t->tasks[i];
	u32 c;

	memset(k, 0, sizeof(*k));
	k->t.pid = t->next_pid++;
	k->weight = nice_weights[rnd_below(t, 5)];
	k->cpu = (s32)rnd_below(t, t->h.nr_cpus);
	k->slice = ENOKI_SLICE_DFL;
	for (c = 0; c < t->h.nr_cpus; c++)
		if (rnd_below(t, 4) || c == (u32)k->cpu)
			enoki_cpumask_set(&k->mask, (s32)c);
	k->alive = true;
	enoki_call_init_task(&t->h, t->cpu, &k->t, fork);
	enoki_call_set_weight(&t->h, t->cpu, &k->t, k->weight);
	enoki_call_set_cpumask(&t->h, t->cpu, &k->t, &k->mask);
}

static void toy_kill(struct toy *t, u32 i, bool cancelled)
{
	struct toy_task *k = &t->tasks[i];

	enoki_call_exit_task(&t->h, t->cpu, &k->t, cancelled);
	enoki_host_task_free(&k->t);
	k->alive = false;
}

/* One random callback. */
static void toy_step(struct toy *t)
{
	u32 i = rnd_below(t, t->nr_tasks), j;
	struct task_struct *p = &t->tasks[i].t;
	struct enoki_msg m;

	t->now += 1000 + rnd_below(t, 50000);
	t->cpu = (s32)rnd_below(t, t->h.nr_cpus);
	for (j = 0; j < TOY_TIMERS; j++)
		if (t->timers[j].t && t->timers[j].due <= t->now) {
			t->timers[j].due = UINT64_MAX;
			enoki_call_timer(&t->h, t->cpu, t->timers[j].t);
		}

	switch (rnd_below(t, 16)) {
	case 0:
	case 1:
		enoki_call_select_cpu(&t->h, t->cpu, p, t->tasks[i].cpu,
				      ENOKI_WAKE_TTWU);
		/* fall through */
	case 2:
		enoki_call_runnable(&t->h, t->cpu, p, ENOKI_ENQ_WAKEUP);
		enoki_call_enqueue(&t->h, t->cpu, p, ENOKI_ENQ_WAKEUP);
		break;
	case 3:
	case 4:
	case 5:
		enoki_call_dispatch(&t->h, t->cpu, rnd_below(t, 2) ? p : NULL);
		break;
	case 6:
		enoki_call_running(&t->h, t->cpu, p);
		break;
	case 7:
		enoki_call_stopping(&t->h, t->cpu, p, rnd_below(t, 2));
		break;
	case 8:
	case 9:
		enoki_call_tick(&t->h, t->cpu, p);
		break;
	case 10:
		enoki_call_dequeue(&t->h, t->cpu, p, 0);
		enoki_call_quiescent(&t->h, t->cpu, p, 0);
		break;
	case 11:
		t->tasks[i].weight = nice_weights[rnd_below(t, 5)];
		enoki_call_set_weight(&t->h, t->cpu, p, t->tasks[i].weight);
		break;
	case 12:
		memset(&m, 0, sizeof(m));
		m.type = 1 + rnd_below(t, 2);
		m.pid = (u32)p->pid;
		m.arg[0] = rnd_below(t, t->h.nr_cpus);
		enoki_call_msg(&t->h, t->cpu, &m);
		break;
	case 13:	/* exit and fork: a new pid in the slot */
		toy_kill(t, i, false);
		toy_spawn(t, i, true);
		break;
	default:
		enoki_call_enqueue(&t->h, t->cpu, p, 0);
		break;
	}
}

int toy_run(const struct toy_opts *o)
{
	struct enoki_loaded_policy lp;
	struct toy *t;
	char err[600];
	u64 s;
	u32 i;
	int ret;

	ret = enoki_policy_open(o->policy, ".", &lp, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "toy: %s\n", err);
		return ret;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = -ENOMEM;
		goto close_policy;
	}
	t->rng = o->seed | 1;
	t->next_pid = 100;
	t->nr_tasks = o->nr_tasks < TOY_MAX_TASKS ? o->nr_tasks : TOY_MAX_TASKS;
	enoki_host_init(&t->h, lp.policy, o->nr_cpus, &toy_ops, t);
	if (o->record) {
		ret = enoki_record_start(&t->h, o->record, &lp, o->seed,
					 "toy", err, sizeof(err));
		if (ret) {
			fprintf(stderr, "toy: %s\n", err);
			goto free_toy;
		}
	}
	enoki_host_set(&t->h);

	enoki_call_init(&t->h);
	for (i = 0; i < t->nr_tasks; i++)
		toy_spawn(t, i, false);
	for (s = 0; s < o->steps && !t->h.ejected; s++)
		toy_step(t);
	for (i = 0; i < t->nr_tasks; i++)
		if (t->tasks[i].alive)
			toy_kill(t, i, false);
	enoki_call_exit(&t->h);

	enoki_host_set(NULL);
	ret = enoki_record_stop(&t->h, err, sizeof(err));
	if (ret)
		fprintf(stderr, "toy: %s\n", err);
	enoki_host_storage_reset();
free_toy:
	free(t);
close_policy:
	enoki_policy_close(&lp);
	return ret;
}

/* ---- helpers ---------------------------------------------------------------- */

int in_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg) & 0xff);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

const char *test_dir(void)
{
	static char dir[4096];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 64);
	if (n <= 0)
		return ".";
	dir[n] = '\0';
	/* BUILD/tests/bin/X -> BUILD/tests/enoki-replay */
	dirname(dir);
	dirname(dir);
	strcat(dir, "/enoki-replay");
	return dir;
}

const char *tmp_path(const char *name)
{
	static char path[4096];
	static unsigned int n;
	const char *tmp = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/enoki-replay-%d-%u-%s",
		 tmp && *tmp ? tmp : "/tmp", (int)getpid(), n++, name);
	return path;
}

uint8_t *read_file(const char *path, size_t *len)
{
	uint8_t *buf = NULL;
	long size;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)size + 1);
		if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)size;
	}
	fclose(f);
	return buf;
}

int write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ret = 0;

	if (!f)
		return -errno;
	if (fwrite(buf, 1, len, f) != len)
		ret = -EIO;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	return ret;
}
