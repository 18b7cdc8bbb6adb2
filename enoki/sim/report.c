/*
 * report.c - what a run produced: latency histograms, per-task and
 * per-group statistics, the human table, JSON, a Chrome/Perfetto trace
 * and an SVG timeline.
 *
 * Latencies go into log-linear histograms (64 sub-buckets per power of
 * two, under 1.6% error), so percentiles cost no memory per sample and
 * stay deterministic.  Run intervals (who ran on which CPU, when) are kept
 * only when asked for (trace, SVG, tests), up to 4 million of them.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

#define MAX_INTERVALS (4u << 20)

static u32 hist_idx(u64 v)
{
	u32 e;

	if (v < SIM_HIST_SUB)
		return (u32)v;
	e = 63 - (u32)__builtin_clzll(v);	/* >= 6 */
	return (e - 5) * SIM_HIST_SUB +
	       (u32)((v >> (e - 6)) & (SIM_HIST_SUB - 1));
}

static u64 hist_val(u32 i)
{
	u32 e = i / SIM_HIST_SUB, sub = i % SIM_HIST_SUB;

	if (!e)
		return sub;
	e += 5;
	/* the middle of the bucket */
	return ((u64)(SIM_HIST_SUB + sub) << (e - 6)) +
	       ((1ULL << (e - 6)) >> 1);
}

void sim_hist_add(struct sim_hist *h, u64 v)
{
	h->b[hist_idx(v)]++;
	h->n++;
}

u64 sim_hist_pct(const struct sim_hist *h, double pct)
{
	u64 want, seen = 0;
	u32 i;

	if (!h->n)
		return 0;
	want = (u64)ceil((double)h->n * pct / 100.0);
	if (!want)
		want = 1;
	for (i = 0; i < SIM_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return hist_val(i);
	}
	return hist_val(SIM_HIST_BUCKETS - 1);
}

int sim_iv_add(struct enoki_sim *s, s32 cpu, s32 pid, u64 start, u64 end)
{
	if (s->nr_iv == s->iv_cap) {
		size_t cap = s->iv_cap ? 2 * s->iv_cap : 4096;
		struct enoki_sim_interval *n;

		if (cap > MAX_INTERVALS) {
			s->iv_truncated = true;
			return -ENOSPC;
		}
		n = realloc(s->iv, cap * sizeof(*n));
		if (!n) {
			s->iv_truncated = true;
			return -ENOMEM;
		}
		s->iv = n;
		s->iv_cap = cap;
	}
	s->iv[s->nr_iv++] = (struct enoki_sim_interval){ start, end, cpu, pid };
	return 0;
}

/* ---- accessors -------------------------------------------------------------- */

u64 enoki_sim_events(const struct enoki_sim *s)
{
	return s->nr_events;
}

u64 enoki_sim_seed(const struct enoki_sim *s)
{
	return s->o.has_seed ? s->o.seed : s->w->seed;
}

u64 enoki_sim_now(const struct enoki_sim *s)
{
	return s->now;
}

double enoki_sim_wall_seconds(const struct enoki_sim *s)
{
	return s->wall;
}

const struct enoki_sim_interval *enoki_sim_intervals(const struct enoki_sim *s,
						      size_t *n)
{
	*n = s->nr_iv;
	return s->iv;
}

size_t enoki_sim_nr_tasks(const struct enoki_sim *s)
{
	return s->nr_tasks;
}

void enoki_sim_task_stats(const struct enoki_sim *s, size_t i,
			  struct enoki_sim_task_stats *out)
{
	const struct sim_task *p = s->tasks[i];

	out->pid = p->t.pid;
	out->group = p->g->spec->name;
	out->weight = p->weight;
	out->runtime_ns = p->runtime;
	out->wait_ns = p->wait;
	out->nr_wakeups = p->nr_wakeups;
	out->nr_runs = p->nr_runs;
	out->alive = p->state != SIM_T_DEAD;
}

size_t enoki_sim_nr_groups(const struct enoki_sim *s)
{
	return s->w->nr_groups;
}

void enoki_sim_group_stats(const struct enoki_sim *s, size_t gi,
			   struct enoki_sim_group_stats *out)
{
	const struct sim_group *g = &s->groups[gi];
	double sum = 0, sum2 = 0, lo = INFINITY, hi = 0;
	u32 n = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->name = g->spec->name;
	out->nr_tasks = g->nr_created;
	out->runtime_ns = g->dead_runtime;
	out->wait_ns = g->dead_wait;
	out->nr_wakeups = g->dead_wakeups;
	for (i = 0; i < s->nr_tasks; i++) {
		const struct sim_task *p = s->tasks[i];
		double x;

		if (p->g != g || p->state == SIM_T_DEAD)
			continue;
		out->runtime_ns += p->runtime;
		out->wait_ns += p->wait;
		out->nr_wakeups += p->nr_wakeups;
		x = (double)p->runtime / (double)p->weight;
		sum += x;
		sum2 += x * x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
		n++;
	}
	out->jain = n && sum2 > 0 ? sum * sum / (n * sum2) : 1.0;
	out->spread = n && lo > 0 ? hi / lo : n ? INFINITY : 1.0;
	out->wake_p50 = sim_hist_pct(&g->wake_lat, 50);
	out->wake_p99 = sim_hist_pct(&g->wake_lat, 99);
	out->wake_p999 = sim_hist_pct(&g->wake_lat, 99.9);
	out->nr_requests = g->nr_requests;
	out->req_p50 = sim_hist_pct(&g->req_lat, 50);
	out->req_p99 = sim_hist_pct(&g->req_lat, 99);
	out->req_p999 = sim_hist_pct(&g->req_lat, 99.9);
}

double enoki_sim_cpu_util(const struct enoki_sim *s, s32 cpu)
{
	if (cpu < 0 || (u32)cpu >= s->nr_cpus || !s->now)
		return 0;
	return (double)s->cpus[cpu].busy_ns / (double)s->now;
}

u64 enoki_sim_nr_notes(const struct enoki_sim *s)
{
	u64 n = 0;
	int i;

	for (i = 0; i < 16; i++)
		n += s->notes_by_type[i];
	return n;
}

u64 enoki_sim_wake_cpu_count(const struct enoki_sim *s, s32 pid, s32 cpu)
{
	if (pid < 1 || (size_t)pid > s->nr_tasks || cpu < 0 ||
	    (u32)cpu >= s->nr_cpus)
		return 0;
	return s->tasks[pid - 1]->wake_cpu[cpu];
}

/* ---- the human table -------------------------------------------------------- */

static const char *const kind_str[] = { "hog", "sleeper", "server",
					"pingpong", "churn" };

static double ms(u64 ns)
{
	return (double)ns / 1e6;
}

static double us(u64 ns)
{
	return (double)ns / 1e3;
}

void enoki_sim_report(struct enoki_sim *s, FILE *f, bool per_task)
{
	const struct enoki_policy *pol = s->host.policy;
	size_t i;
	u32 cpu;
	double util = 0;

	fprintf(f, "enoki sim: policy %s %s, %u CPUs, %.1f ms simulated, seed %llu\n",
		pol->name, pol->version, s->nr_cpus, ms(s->now),
		(unsigned long long)(s->o.has_seed ? s->o.seed : s->w->seed));
	if (s->host.exit.kind != ENOKI_EXIT_DONE)
		fprintf(f, "policy ejected at %.3f ms: %s\n", ms(s->now),
			s->host.exit_reason);
	fprintf(f, "\n%-14s %-8s %6s %11s %10s %9s %9s %9s %9s %7s %7s\n",
		"group", "kind", "tasks", "runtime_ms", "wait_ms", "wakeups",
		"wake_p50", "wake_p99", "p99.9_us", "jain", "spread");
	for (i = 0; i < s->w->nr_groups; i++) {
		struct enoki_sim_group_stats gs;

		enoki_sim_group_stats(s, i, &gs);
		fprintf(f, "%-14s %-8s %6u %11.1f %10.1f %9llu %9.1f %9.1f %9.1f %7.4f %7.3f\n",
			gs.name, kind_str[s->groups[i].spec->kind],
			gs.nr_tasks, ms(gs.runtime_ns), ms(gs.wait_ns),
			(unsigned long long)gs.nr_wakeups, us(gs.wake_p50),
			us(gs.wake_p99), us(gs.wake_p999), gs.jain, gs.spread);
	}
	for (i = 0; i < s->w->nr_groups; i++) {
		struct enoki_sim_group_stats gs;

		if (s->groups[i].spec->kind != SIM_SERVER)
			continue;
		enoki_sim_group_stats(s, i, &gs);
		fprintf(f, "requests %-14s %llu done, latency p50 %.1f us, p99 %.1f us, p99.9 %.1f us, %llu queued at end\n",
			gs.name, (unsigned long long)gs.nr_requests,
			us(gs.req_p50), us(gs.req_p99), us(gs.req_p999),
			(unsigned long long)s->groups[i].req_n);
	}
	if (per_task) {
		fprintf(f, "\n%7s %-14s %6s %11s %10s %9s %9s\n", "pid",
			"group", "weight", "runtime_ms", "wait_ms", "wakeups",
			"runs");
		for (i = 0; i < s->nr_tasks; i++) {
			struct enoki_sim_task_stats ts;

			enoki_sim_task_stats(s, i, &ts);
			if (!ts.alive)
				continue;
			fprintf(f, "%7d %-14s %6u %11.1f %10.1f %9llu %9llu\n",
				ts.pid, ts.group, ts.weight, ms(ts.runtime_ns),
				ms(ts.wait_ns),
				(unsigned long long)ts.nr_wakeups,
				(unsigned long long)ts.nr_runs);
		}
	}
	fprintf(f, "\ncpu utilization:");
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		util += enoki_sim_cpu_util(s, (s32)cpu);
		if (s->nr_cpus <= 16)
			fprintf(f, " %u:%.1f%%", cpu,
				100 * enoki_sim_cpu_util(s, (s32)cpu));
	}
	fprintf(f, " (mean %.1f%%)\n", 100 * util / s->nr_cpus);
	if (enoki_sim_nr_notes(s)) {
		fprintf(f, "notifications from the policy:");
		for (i = 0; i < 16; i++)
			if (s->notes_by_type[i])
				fprintf(f, " type %zu%s: %llu", i,
					i == 15 ? "+" : "",
					(unsigned long long)s->notes_by_type[i]);
		fprintf(f, "\n");
	}
	fprintf(f, "events: %llu simulated events, %llu callbacks in %.3f s (%.2f M events/s)\n",
		(unsigned long long)s->nr_events,
		(unsigned long long)s->host.nr_callbacks, s->wall,
		s->wall > 0 ? (double)s->nr_events / s->wall / 1e6 : 0.0);
}

/* ---- JSON ----------------------------------------------------------------------- */

static void json_group(struct enoki_sim *s, FILE *f, size_t i)
{
	struct enoki_sim_group_stats gs;

	enoki_sim_group_stats(s, i, &gs);
	fprintf(f, "    {\"name\": \"%s\", \"kind\": \"%s\", \"tasks\": %u, \"runtime_ns\": %llu, \"wait_ns\": %llu, \"wakeups\": %llu,\n",
		gs.name, kind_str[s->groups[i].spec->kind], gs.nr_tasks,
		(unsigned long long)gs.runtime_ns,
		(unsigned long long)gs.wait_ns,
		(unsigned long long)gs.nr_wakeups);
	fprintf(f, "     \"wake_latency_ns\": {\"p50\": %llu, \"p99\": %llu, \"p99.9\": %llu},\n",
		(unsigned long long)gs.wake_p50,
		(unsigned long long)gs.wake_p99,
		(unsigned long long)gs.wake_p999);
	fprintf(f, "     \"requests\": %llu, \"request_latency_ns\": {\"p50\": %llu, \"p99\": %llu, \"p99.9\": %llu},\n",
		(unsigned long long)gs.nr_requests,
		(unsigned long long)gs.req_p50,
		(unsigned long long)gs.req_p99,
		(unsigned long long)gs.req_p999);
	fprintf(f, "     \"jain\": %.6f, \"spread\": %.6f}", gs.jain,
		isfinite(gs.spread) ? gs.spread : -1.0);
}

static void json_task(struct enoki_sim *s, FILE *f, size_t i)
{
	const struct sim_task *p = s->tasks[i];
	bool first = true;
	u32 cpu;

	fprintf(f, "    {\"pid\": %d, \"group\": \"%s\", \"weight\": %u, \"alive\": %s, \"runtime_ns\": %llu, \"wait_ns\": %llu, \"wakeups\": %llu, \"runs\": %llu, \"wake_cpus\": {",
		p->t.pid, p->g->spec->name, p->weight,
		p->state == SIM_T_DEAD ? "false" : "true",
		(unsigned long long)p->runtime, (unsigned long long)p->wait,
		(unsigned long long)p->nr_wakeups,
		(unsigned long long)p->nr_runs);
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		if (!p->wake_cpu[cpu])
			continue;
		fprintf(f, "%s\"%u\": %u", first ? "" : ", ", cpu,
			p->wake_cpu[cpu]);
		first = false;
	}
	fprintf(f, "}}");
}

int enoki_sim_report_json(struct enoki_sim *s, FILE *f)
{
	const struct enoki_policy *pol = s->host.policy;
	size_t i, n;
	u32 cpu;

	fprintf(f, "{\n  \"policy\": \"%s\", \"version\": \"%s\", \"cpus\": %u, \"seed\": %llu,\n",
		pol->name, pol->version, s->nr_cpus,
		(unsigned long long)(s->o.has_seed ? s->o.seed : s->w->seed));
	fprintf(f, "  \"simulated_ns\": %llu, \"ejected\": %s, \"exit_reason\": \"",
		(unsigned long long)s->now,
		s->host.exit.kind != ENOKI_EXIT_DONE ? "true" : "false");
	for (i = 0; s->host.exit_reason[i]; i++) {
		char ch = s->host.exit_reason[i];

		if (ch == '"' || ch == '\\')
			fputc('\\', f);
		fputc(ch >= ' ' ? ch : ' ', f);
	}
	fprintf(f, "\",\n  \"events\": %llu, \"callbacks\": %llu, \"wall_s\": %.6f, \"events_per_s\": %.0f,\n",
		(unsigned long long)s->nr_events,
		(unsigned long long)s->host.nr_callbacks, s->wall,
		s->wall > 0 ? (double)s->nr_events / s->wall : 0.0);
	fprintf(f, "  \"groups\": [\n");
	for (i = 0; i < s->w->nr_groups; i++) {
		json_group(s, f, i);
		fprintf(f, "%s\n", i + 1 < s->w->nr_groups ? "," : "");
	}
	fprintf(f, "  ],\n  \"tasks\": [\n");
	for (i = 0; i < s->nr_tasks; i++) {
		json_task(s, f, i);
		fprintf(f, "%s\n", i + 1 < s->nr_tasks ? "," : "");
	}
	fprintf(f, "  ],\n  \"cpu_util\": [");
	for (cpu = 0; cpu < s->nr_cpus; cpu++)
		fprintf(f, "%s%.6f", cpu ? ", " : "",
			enoki_sim_cpu_util(s, (s32)cpu));
	fprintf(f, "],\n  \"notifications\": {\"by_type\": {");
	for (i = 0, n = 0; i < 16; i++)
		if (s->notes_by_type[i])
			fprintf(f, "%s\"%zu\": %llu", n++ ? ", " : "", i,
				(unsigned long long)s->notes_by_type[i]);
	fprintf(f, "}, \"log\": [");
	for (i = 0; i < s->nr_notes && i < 10000; i++) {
		const struct sim_note *no = &s->notes[i];

		fprintf(f, "%s\n    {\"t_ns\": %llu, \"type\": %u, \"pid\": %u, \"arg\": [%llu, %llu, %llu, %llu]}",
			i ? "," : "", (unsigned long long)no->time,
			no->m.type, no->m.pid,
			(unsigned long long)no->m.arg[0],
			(unsigned long long)no->m.arg[1],
			(unsigned long long)no->m.arg[2],
			(unsigned long long)no->m.arg[3]);
	}
	fprintf(f, "]}\n}\n");
	return ferror(f) ? -EIO : 0;
}

/* ---- trace and picture ------------------------------------------------------------- */

int enoki_sim_write_trace(struct enoki_sim *s, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i;
	u32 cpu;
	int err;

	if (!f)
		return -errno;
	fprintf(f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
	fprintf(f, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 0, \"args\": {\"name\": \"CPUs (%s)\"}}",
		s->host.policy->name);
	for (cpu = 0; cpu < s->nr_cpus; cpu++)
		fprintf(f, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 0, \"tid\": %u, \"args\": {\"name\": \"cpu %u\"}}",
			cpu, cpu);
	for (i = 0; i < s->nr_iv; i++) {
		const struct enoki_sim_interval *v = &s->iv[i];

		fprintf(f, ",\n{\"name\": \"%s[%d]\", \"cat\": \"%s\", \"ph\": \"X\", \"pid\": 0, \"tid\": %d, \"ts\": %.3f, \"dur\": %.3f}",
			s->tasks[v->pid - 1]->g->spec->name, v->pid,
			s->tasks[v->pid - 1]->g->spec->name, v->cpu,
			(double)v->start / 1e3,
			(double)(v->end - v->start) / 1e3);
	}
	fprintf(f, "\n]}\n");
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

static const char *const palette[] = {
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
};

int enoki_sim_write_svg(struct enoki_sim *s, const char *path, u64 svg_ns)
{
	const double width = 1200, left = 60, row = 18;
	FILE *f = fopen(path, "w");
	double scale, last_x[ENOKI_MAX_CPUS];
	u64 end;
	size_t i;
	u32 cpu;
	int err;

	if (!f)
		return -errno;
	end = svg_ns && svg_ns < s->now ? svg_ns : s->now;
	if (end > 1000000000ULL)
		end = 1000000000ULL;
	if (!end)
		end = 1;
	scale = (width - left - 10) / (double)end;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"monospace\" font-size=\"11\">\n",
		width, row * (s->nr_cpus + 3));
	fprintf(f, "<text x=\"4\" y=\"12\">%s on %u CPUs, 0 to %.3f ms; colour = task group, hover for the task</text>\n",
		s->host.policy->name, s->nr_cpus, ms(end));
	for (cpu = 0; cpu < s->nr_cpus; cpu++) {
		fprintf(f, "<text x=\"4\" y=\"%.0f\">cpu %u</text>\n",
			row * (cpu + 2) - 4, cpu);
		last_x[cpu] = -1;
	}
	for (i = 0; i < s->nr_iv; i++) {
		const struct enoki_sim_interval *v = &s->iv[i];
		const struct sim_task *p = s->tasks[v->pid - 1];
		double x0, x1;

		if (v->start >= end)
			continue;
		x0 = left + (double)v->start * scale;
		x1 = left + (double)(v->end < end ? v->end : end) * scale;
		/* decimate: at most one rectangle per pixel per CPU */
		if (x1 - x0 < 1 && x0 < last_x[v->cpu] + 1)
			continue;
		last_x[v->cpu] = x0;
		fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\" fill=\"%s\"><title>%s[%d] %.3f-%.3f ms</title></rect>\n",
			x0, row * (v->cpu + 1) + 4, x1 - x0 < 1 ? 1 : x1 - x0,
			row - 4,
			palette[(p->g - s->groups) % 10], p->g->spec->name,
			v->pid, ms(v->start), ms(v->end));
	}
	for (i = 0; i < s->w->nr_groups; i++)
		fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
			left + 120.0 * (double)i, row * (s->nr_cpus + 2),
			palette[i % 10], left + 120.0 * (double)i + 14,
			row * (s->nr_cpus + 2) + 9, s->w->groups[i].name);
	fprintf(f, "</svg>\n");
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}
