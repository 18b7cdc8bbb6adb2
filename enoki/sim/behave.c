/*
 * behave.c - what the workload's tasks do.
 *
 * Each task alternates CPU bursts (p->remaining ns of work) with blocking.
 * core.c runs the bursts and asks here, when one ends, what comes next:
 *
 *   hog       one endless burst
 *   sleeper   run run_us, sleep sleep_us (first wake at a random phase)
 *   server    workers serve requests from a queue fed by a Poisson
 *             arrival process; a worker with nothing queued sleeps until
 *             an arrival wakes it; latency is arrival to completion
 *   pingpong  pairs passing a token: run run_us, wake the partner (a sync
 *             wakeup from this CPU), sleep until woken back
 *   churn     spawners that run a short burst, fork a child that runs
 *             run_us and exits, and sleep sleep_us (the fork period)
 *
 * Plus the workload's timed events: group starts, messages to the policy
 * and nice changes.
 */
#include <stdlib.h>

#include "sim_int.h"

#define CHURN_FORK_NS 5000ULL		/* the spawner's burst per fork */

static void wake(struct enoki_sim *s, struct sim_task *p, s32 waker_cpu,
		 u64 flags)
{
	const struct sim_group_spec *gs = p->g->spec;

	switch (gs->kind) {
	case SIM_HOG:
		p->remaining = SIM_FOREVER;
		break;
	case SIM_SLEEPER:
	case SIM_PINGPONG:
		p->remaining = gs->run_ns;
		break;
	case SIM_CHURN:
		p->remaining = p->child ? gs->run_ns : CHURN_FORK_NS;
		break;
	case SIM_SERVER:
		break;		/* set with the request */
	}
	if (p->state == SIM_T_NEW)
		flags = ENOKI_WAKE_FORK;
	sim_wake(s, p, waker_cpu, flags);
}

static void server_take(struct enoki_sim *s, struct sim_group *g,
			struct sim_task *p, u64 arrival)
{
	p->req_arrival = arrival;
	p->remaining = sim_dist_draw(s->rng, &g->spec->service);
}

static u32 group_cpus(struct enoki_sim *s, const struct sim_group_spec *gs)
{
	u32 cpu, n = 0;

	for (cpu = 0; cpu < s->nr_cpus; cpu++)
		n += enoki_cpumask_has(&gs->allowed, (s32)cpu);
	return n;
}

static void start_group(struct enoki_sim *s, struct sim_group *g)
{
	const struct sim_group_spec *gs = g->spec;
	u32 i, n = gs->kind == SIM_PINGPONG ? 2 * gs->count : gs->count;

	if (gs->kind == SIM_SERVER) {
		g->idle_w = calloc(gs->count, sizeof(*g->idle_w));
		g->req_cap = 65536;
		g->req_q = calloc(g->req_cap, sizeof(*g->req_q));
		if (!g->idle_w || !g->req_q) {
			enoki_host_eject(&s->host, ENOKI_EXIT_ERROR_BPF,
					 "simulator out of memory");
			return;
		}
	}
	for (i = 0; i < n && !s->host.ejected; i++) {
		s32 cpu = (s32)(s->nr_tasks % s->nr_cpus);
		struct sim_task *p = sim_task_new(s, g, i, cpu, false);

		if (!p)
			return;
		switch (gs->kind) {
		case SIM_SLEEPER:
			p->state = SIM_T_SLEEPING;
			sim_push(s, s->now + (u64)(sim_rng_unit(s->rng) *
						   (double)gs->sleep_ns),
				 EV_WAKE, 0, 0, p);
			break;
		case SIM_SERVER:
			p->state = SIM_T_SLEEPING;
			g->idle_w[g->nr_idle_w++] = p;
			break;
		case SIM_PINGPONG:
			if (i % 2) {
				p->peer = s->tasks[s->nr_tasks - 2];
				p->peer->peer = p;
				p->state = SIM_T_SLEEPING;
			}
			break;
		default:
			break;
		}
		if (p->state == SIM_T_NEW)
			wake(s, p, cpu, ENOKI_WAKE_FORK);
	}
	if (gs->kind == SIM_SERVER) {
		g->rate = gs->rate;
		if (gs->load > 0)
			g->rate = gs->load * (double)group_cpus(s, gs) /
				  (double)sim_dist_mean(&gs->service);
		sim_push(s, s->now + sim_rng_exp(s->rng, 1.0 / g->rate),
			 EV_ARRIVAL, (u32)(g - s->groups), 0, NULL);
	}
}

void sim_behave_start(struct enoki_sim *s)
{
	const struct enoki_workload *w = s->w;
	u32 i;

	for (i = 0; i < w->nr_msgs; i++)
		sim_push(s, w->msgs[i].at_ns, EV_MSG, i, 0, NULL);
	for (i = 0; i < w->nr_groups; i++) {
		if (w->groups[i].renice_at_ns)
			sim_push(s, w->groups[i].renice_at_ns, EV_RENICE, i, 0,
				 NULL);
		if (w->groups[i].start_ns)
			sim_push(s, w->groups[i].start_ns, EV_START, i, 0, NULL);
		else
			start_group(s, &s->groups[i]);
	}
}

bool sim_behave_burst_done(struct enoki_sim *s, struct sim_task *p, s32 cpu)
{
	struct sim_group *g = p->g;
	struct sim_task *c;

	switch (g->spec->kind) {
	case SIM_SERVER:
		sim_hist_add(&g->req_lat, s->now - p->req_arrival);
		g->nr_requests++;
		if (g->req_n) {
			server_take(s, g, p, g->req_q[g->req_head]);
			g->req_head = (g->req_head + 1) % g->req_cap;
			g->req_n--;
			return true;
		}
		break;
	case SIM_PINGPONG:
		wake(s, p->peer, cpu, ENOKI_WAKE_TTWU | ENOKI_WAKE_SYNC);
		break;
	case SIM_CHURN:
		if (p->child) {
			p->state = SIM_T_DEAD;
			return false;
		}
		c = sim_task_new(s, g, g->nr_created, cpu, true);
		if (c) {
			c->child = true;
			wake(s, c, cpu, ENOKI_WAKE_FORK);
		}
		break;
	default:
		break;
	}
	p->state = SIM_T_SLEEPING;
	return false;
}

void sim_behave_blocked(struct enoki_sim *s, struct sim_task *p, s32 cpu)
{
	struct sim_group *g = p->g;

	switch (g->spec->kind) {
	case SIM_SLEEPER:
	case SIM_CHURN:
		sim_push(s, s->now + g->spec->sleep_ns, EV_WAKE, 0, 0, p);
		break;
	case SIM_SERVER:
		g->idle_w[g->nr_idle_w++] = p;
		break;
	default:
		break;
	}
}

static void on_arrival(struct enoki_sim *s, struct sim_group *g)
{
	if (g->nr_idle_w) {
		struct sim_task *p = g->idle_w[--g->nr_idle_w];

		server_take(s, g, p, s->now);
		wake(s, p, p->cpu, ENOKI_WAKE_TTWU);
	} else if (g->req_n < g->req_cap) {
		g->req_q[(g->req_head + g->req_n++) % g->req_cap] = s->now;
	} else {
		g->req_dropped++;
	}
	sim_push(s, s->now + sim_rng_exp(s->rng, 1.0 / g->rate),
		 EV_ARRIVAL, (u32)(g - s->groups), 0, NULL);
}

static struct sim_task *find_task(struct enoki_sim *s, int group, int index)
{
	size_t i;

	for (i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i]->g == &s->groups[group] &&
		    s->tasks[i]->gidx == (u32)index)
			return s->tasks[i];
	return NULL;
}

static void on_msg(struct enoki_sim *s, const struct sim_msg_spec *ms)
{
	struct enoki_msg m = { .type = ms->type };
	struct sim_task *p = NULL;
	u32 i;

	if (ms->group >= 0)
		p = find_task(s, ms->group, ms->index);
	m.pid = p ? (u32)p->t.pid : 0;
	for (i = 0; i < 4; i++)
		m.arg[i] = ms->arg[i];
	sim_deliver_msg(s, p && p->cpu >= 0 ? p->cpu : 0, &m);
}

static void on_renice(struct enoki_sim *s, struct sim_group *g)
{
	size_t i;

	for (i = 0; i < s->nr_tasks; i++) {
		struct sim_task *p = s->tasks[i];

		if (p->g != g || p->state == SIM_T_DEAD)
			continue;
		p->nice = g->spec->renice_to;
		sim_set_weight(s, p, sim_nice_weight(p->nice));
	}
}

void sim_behave_event(struct enoki_sim *s, struct sim_ev *e)
{
	struct sim_task *p = e->p;

	switch (e->kind) {
	case EV_WAKE:
		if (p->state == SIM_T_SLEEPING)
			wake(s, p, p->cpu, ENOKI_WAKE_TTWU);
		break;
	case EV_ARRIVAL:
		on_arrival(s, &s->groups[e->a]);
		break;
	case EV_MSG:
		on_msg(s, &s->w->msgs[e->a]);
		break;
	case EV_RENICE:
		on_renice(s, &s->groups[e->a]);
		break;
	case EV_START:
		start_group(s, &s->groups[e->a]);
		break;
	}
}
