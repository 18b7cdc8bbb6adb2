/*
 * workload.c - workload files: JSON (jansson) into struct enoki_workload.
 *
 *   { "cpus": 4, "duration_ms": 1000, "seed": 1, "timeout_ms": 30000,
 *     "groups": [ { "name": "web", "kind": "server", "count": 8,
 *                   "load": 0.7, "service": { "dist": "bimodal",
 *                   "short_us": 5, "long_us": 500, "long_fraction": 0.005 } },
 *                 ... ],
 *     "messages": [ { "at_ms": 10, "type": 1, "task": "web/0",
 *                     "arg": [2] } ] }
 *
 * docs/enoki-sim.md lists every key.  Unknown keys are errors (a typo must
 * not silently become a default).  Every error is one line naming the
 * file, the JSON path and the problem; syntax errors carry jansson's line
 * and column.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

struct wctx {
	const char *file;
	char *err;
	size_t errlen;
	bool failed;
};

static int fail(struct wctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct wctx *c, const char *path, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (c->failed)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->file, path, text);
	c->failed = true;
	return -EINVAL;
}

/* Every key of @obj must be in the NULL-terminated @keys. */
static int check_keys(struct wctx *c, const char *path, json_t *obj,
		      const char *const *keys)
{
	const char *k;
	json_t *v;
	int i;

	json_object_foreach(obj, k, v) {
		for (i = 0; keys[i]; i++)
			if (!strcmp(keys[i], k))
				break;
		if (!keys[i]) {
			char p[128];

			snprintf(p, sizeof(p), "%s.%s", path, k);
			return fail(c, p, "unknown key");
		}
	}
	return 0;
}

/* A number at @obj.@key in [lo, hi] (default @dfl if absent). */
static int get_num(struct wctx *c, const char *path, json_t *obj,
		   const char *key, double lo, double hi, double dfl,
		   double *out)
{
	json_t *v = json_object_get(obj, key);
	char p[128];

	*out = dfl;
	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_number(v))
		return fail(c, p, "must be a number");
	*out = json_number_value(v);
	if (!isfinite(*out) || *out < lo || *out > hi)
		return fail(c, p, "must be between %g and %g", lo, hi);
	return 0;
}

static int get_int(struct wctx *c, const char *path, json_t *obj,
		   const char *key, long long lo, long long hi, long long dfl,
		   long long *out)
{
	json_t *v = json_object_get(obj, key);
	char p[128];

	*out = dfl;
	if (!v)
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_integer(v))
		return fail(c, p, "must be an integer %lld..%lld", lo, hi);
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return fail(c, p, "must be an integer %lld..%lld", lo, hi);
	return 0;
}

/* A time in @unit ns per unit, required if @dfl < 0. */
static int get_time(struct wctx *c, const char *path, json_t *obj,
		    const char *key, double unit, double dfl, u64 *out)
{
	double v;
	char p[128];

	if (dfl < 0 && !json_object_get(obj, key)) {
		snprintf(p, sizeof(p), "%s.%s", path, key);
		return fail(c, p, "missing (a time is required here)");
	}
	if (get_num(c, path, obj, key, 0, 1e12 / unit * 1e3, dfl, &v))
		return -EINVAL;
	*out = (u64)llround(v * unit);
	return 0;
}

/* "0-3,6" or [0, 1, 2]. */
static int get_cpus(struct wctx *c, const char *path, json_t *v,
		    struct cpumask *m)
{
	size_t i;
	json_t *e;

	memset(m, 0, sizeof(*m));
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) >= ENOKI_MAX_CPUS)
				return fail(c, path, "element %zu: not a CPU number 0..%d",
					    i, ENOKI_MAX_CPUS - 1);
			enoki_cpumask_set(m, (s32)json_integer_value(e));
		}
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);

		while (*s) {
			char *end;
			long a = strtol(s, &end, 10), b;

			if (end == s || a < 0 || a >= ENOKI_MAX_CPUS)
				return fail(c, path, "bad CPU list \"%s\"",
					    json_string_value(v));
			b = a;
			if (*end == '-') {
				s = end + 1;
				b = strtol(s, &end, 10);
				if (end == s || b < a || b >= ENOKI_MAX_CPUS)
					return fail(c, path, "bad CPU list \"%s\"",
						    json_string_value(v));
			}
			for (; a <= b; a++)
				enoki_cpumask_set(m, (s32)a);
			s = end;
			if (*s == ',')
				s++;
			else if (*s)
				return fail(c, path, "bad CPU list \"%s\"",
					    json_string_value(v));
		}
	} else {
		return fail(c, path, "must be a list like \"0-3,6\" or an array of CPU numbers");
	}
	for (i = 0; i < ENOKI_MAX_CPUS / 64; i++)
		if (m->bits[i])
			return 0;
	return fail(c, path, "names no CPU");
}

/* An array of up to 4 integers into @arg. */
static int get_args(struct wctx *c, const char *path, json_t *v, u64 *arg)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) > 4)
		return fail(c, path, "must be an array of up to 4 integers");
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e))
			return fail(c, path, "element %zu: not an integer", i);
		arg[i] = (u64)json_integer_value(e);
	}
	return 0;
}

static int parse_service(struct wctx *c, const char *path, json_t *v,
			 struct sim_dist *d)
{
	static const char *const keys[] = { "dist", "us", "mean_us",
		"short_us", "long_us", "long_fraction", NULL };
	const char *dist;

	if (!json_is_object(v))
		return fail(c, path, "must be an object with \"dist\"");
	if (check_keys(c, path, v, keys))
		return -EINVAL;
	dist = json_string_value(json_object_get(v, "dist"));
	if (!dist)
		return fail(c, path, "\"dist\" missing: fixed, exp or bimodal");
	if (!strcmp(dist, "fixed")) {
		d->kind = SIM_DIST_FIXED;
		return get_time(c, path, v, "us", 1e3, -1, &d->a_ns);
	}
	if (!strcmp(dist, "exp")) {
		d->kind = SIM_DIST_EXP;
		return get_time(c, path, v, "mean_us", 1e3, -1, &d->a_ns);
	}
	if (!strcmp(dist, "bimodal")) {
		d->kind = SIM_DIST_BIMODAL;
		if (get_time(c, path, v, "short_us", 1e3, -1, &d->a_ns) ||
		    get_time(c, path, v, "long_us", 1e3, -1, &d->b_ns) ||
		    get_num(c, path, v, "long_fraction", 0, 1, 0.01, &d->mix))
			return -EINVAL;
		return 0;
	}
	return fail(c, path, "unknown dist \"%s\" (fixed, exp, bimodal)",
		    dist);
}

static int parse_hint(struct wctx *c, const char *path, json_t *v,
		      struct sim_hint *h)
{
	static const char *const keys[] = { "type", "on", "arg", "args",
					    NULL };
	json_t *on, *args, *e;
	long long type;
	char p[128];
	size_t i;

	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	if (check_keys(c, path, v, keys) ||
	    get_int(c, path, v, "type", 0, 0xffffffffLL, 0, &type))
		return -EINVAL;
	h->set = true;
	h->type = (u32)type;
	on = json_object_get(v, "on");
	if (on && (!json_is_string(on) ||
		   (strcmp(json_string_value(on), "wake") &&
		    strcmp(json_string_value(on), "start"))))
		return fail(c, path, "\"on\" must be \"start\" or \"wake\"");
	h->on_wake = !on || !strcmp(json_string_value(on), "wake");
	args = json_object_get(v, "args");
	if (args && !json_is_array(args))
		return fail(c, path, "\"args\" must be an array of arrays");
	h->nr_args = args ? (u32)json_array_size(args) : 1;
	h->args = calloc(h->nr_args ? h->nr_args : 1, sizeof(*h->args));
	if (!h->args)
		return fail(c, path, "out of memory");
	if (!args) {
		snprintf(p, sizeof(p), "%s.arg", path);
		return json_object_get(v, "arg") ?
		       get_args(c, p, json_object_get(v, "arg"), h->args[0]) : 0;
	}
	json_array_foreach(args, i, e) {
		snprintf(p, sizeof(p), "%s.args[%zu]", path, i);
		if (get_args(c, p, e, h->args[i]))
			return -EINVAL;
	}
	return 0;
}

static const char *const kind_names[] = { "hog", "sleeper", "server",
					  "pingpong", "churn", NULL };

static int parse_group(struct wctx *c, struct enoki_workload *w, size_t gi,
		       json_t *v)
{
	static const char *const keys[] = { "name", "kind", "count", "nice",
		"cpus", "start_ms", "run_us", "sleep_us", "load",
		"rate_per_s", "service", "hint", "renice", NULL };
	struct sim_group_spec *g = &w->groups[gi];
	const char *name, *kind;
	char path[64], p[96];
	long long n;
	json_t *x;
	u32 i;

	snprintf(path, sizeof(path), "groups[%zu]", gi);
	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	if (check_keys(c, path, v, keys))
		return -EINVAL;
	name = json_string_value(json_object_get(v, "name"));
	snprintf(p, sizeof(p), "%s.name", path);
	if (!name || !*name || strlen(name) >= SIM_NAME_LEN || strchr(name, '/'))
		return fail(c, p, "must be a string of 1..%d characters without '/'",
			    SIM_NAME_LEN - 1);
	for (i = 0; i < gi; i++)
		if (!strcmp(w->groups[i].name, name))
			return fail(c, p, "\"%s\" used twice", name);
	strcpy(g->name, name);
	kind = json_string_value(json_object_get(v, "kind"));
	for (i = 0; kind && kind_names[i]; i++)
		if (!strcmp(kind, kind_names[i]))
			break;
	if (!kind || !kind_names[i]) {
		snprintf(p, sizeof(p), "%s.kind", path);
		return fail(c, p, "must be one of hog, sleeper, server, pingpong, churn");
	}
	g->kind = (enum sim_kind)i;

	if (get_int(c, path, v, "count", 1, 4096, 1, &n))
		return -EINVAL;
	g->count = (u32)n;
	if (get_int(c, path, v, "nice", -20, 19, 0, &n))
		return -EINVAL;
	g->nice = (int)n;
	memset(&g->allowed, 0xff, sizeof(g->allowed));
	x = json_object_get(v, "cpus");
	snprintf(p, sizeof(p), "%s.cpus", path);
	if (x && get_cpus(c, p, x, &g->allowed))
		return -EINVAL;
	if (get_time(c, path, v, "start_ms", 1e6, 0, &g->start_ns))
		return -EINVAL;
	if (get_time(c, path, v, "run_us", 1e3,
		     g->kind == SIM_HOG || g->kind == SIM_SERVER ? 0 : -1,
		     &g->run_ns) ||
	    get_time(c, path, v, "sleep_us", 1e3,
		     g->kind == SIM_SLEEPER || g->kind == SIM_CHURN ? -1 : 0,
		     &g->sleep_ns))
		return -EINVAL;
	if ((g->kind == SIM_SLEEPER || g->kind == SIM_PINGPONG ||
	     g->kind == SIM_CHURN) && !g->run_ns) {
		snprintf(p, sizeof(p), "%s.run_us", path);
		return fail(c, p, "must be more than 0");
	}
	if (g->kind == SIM_CHURN && !g->sleep_ns) {
		snprintf(p, sizeof(p), "%s.sleep_us", path);
		return fail(c, p, "must be more than 0 (the fork period)");
	}

	if (g->kind == SIM_SERVER) {
		double rate;

		x = json_object_get(v, "service");
		snprintf(p, sizeof(p), "%s.service", path);
		if (!x)
			return fail(c, p, "missing (a server needs a service time)");
		if (parse_service(c, p, x, &g->service))
			return -EINVAL;
		if (sim_dist_mean(&g->service) < 1) {
			return fail(c, p, "mean service time must be at least 1 ns");
		}
		if (get_num(c, path, v, "load", 0, 100, 0, &g->load) ||
		    get_num(c, path, v, "rate_per_s", 0, 1e9, 0, &rate))
			return -EINVAL;
		g->rate = rate / 1e9;
		if ((g->load > 0) == (g->rate > 0))
			return fail(c, path, "a server needs exactly one of \"load\" (> 0) and \"rate_per_s\" (> 0)");
	} else if (json_object_get(v, "service") || json_object_get(v, "load") ||
		   json_object_get(v, "rate_per_s")) {
		return fail(c, path, "service, load and rate_per_s are for kind \"server\" only");
	}

	x = json_object_get(v, "hint");
	snprintf(p, sizeof(p), "%s.hint", path);
	if (x && parse_hint(c, p, x, &g->hint))
		return -EINVAL;
	x = json_object_get(v, "renice");
	if (x) {
		static const char *const rkeys[] = { "at_ms", "nice", NULL };

		snprintf(p, sizeof(p), "%s.renice", path);
		if (!json_is_object(x))
			return fail(c, p, "must be an object {at_ms, nice}");
		if (check_keys(c, p, x, rkeys) ||
		    get_time(c, p, x, "at_ms", 1e6, -1, &g->renice_at_ns) ||
		    get_int(c, p, x, "nice", -20, 19, 0, &n))
			return -EINVAL;
		if (!g->renice_at_ns)
			g->renice_at_ns = 1;
		g->renice_to = (int)n;
	}
	return 0;
}

static int parse_msg(struct wctx *c, struct enoki_workload *w, size_t mi,
		     json_t *v)
{
	static const char *const keys[] = { "at_ms", "type", "task", "arg",
					    NULL };
	struct sim_msg_spec *m = &w->msgs[mi];
	char path[64], p[96];
	const char *task;
	long long type;
	json_t *x;
	u32 i;

	snprintf(path, sizeof(path), "messages[%zu]", mi);
	if (!json_is_object(v))
		return fail(c, path, "must be an object");
	if (check_keys(c, path, v, keys) ||
	    get_time(c, path, v, "at_ms", 1e6, -1, &m->at_ns) ||
	    get_int(c, path, v, "type", 0, 0xffffffffLL, 0, &type))
		return -EINVAL;
	m->type = (u32)type;
	m->group = -1;
	x = json_object_get(v, "arg");
	snprintf(p, sizeof(p), "%s.arg", path);
	if (x && get_args(c, p, x, m->arg))
		return -EINVAL;
	x = json_object_get(v, "task");
	if (!x)
		return 0;
	snprintf(p, sizeof(p), "%s.task", path);
	task = json_string_value(x);
	for (i = 0; task && i < w->nr_groups; i++) {
		size_t len = strlen(w->groups[i].name);
		char *end;

		if (strncmp(task, w->groups[i].name, len) || task[len] != '/')
			continue;
		m->group = (int)i;
		m->index = (int)strtol(task + len + 1, &end, 10);
		if (end == task + len + 1 || *end || m->index < 0)
			return fail(c, p, "\"%s\": want \"GROUP/INDEX\"", task);
		return 0;
	}
	return fail(c, p, "must name a task as \"GROUP/INDEX\" of a group above");
}

static int parse(struct wctx *c, json_t *root, struct enoki_workload *w)
{
	static const char *const keys[] = { "cpus", "duration_ms", "seed",
		"timeout_ms", "groups", "messages", "comment", NULL };
	json_t *groups, *msgs, *v;
	long long n;
	size_t i;

	if (!json_is_object(root))
		return fail(c, "(top)", "must be an object");
	if (check_keys(c, "(top)", root, keys))
		return -EINVAL;
	if (get_int(c, "(top)", root, "cpus", 1, ENOKI_MAX_CPUS, 1, &n))
		return -EINVAL;
	w->nr_cpus = (u32)n;
	if (get_int(c, "(top)", root, "seed", 0, (long long)(~0ULL >> 1), 1, &n))
		return -EINVAL;
	w->seed = (u64)n;
	if (get_time(c, "(top)", root, "duration_ms", 1e6, 1000,
		     &w->duration_ns) ||
	    get_time(c, "(top)", root, "timeout_ms", 1e6, 0, &w->timeout_ns))
		return -EINVAL;
	if (!w->duration_ns)
		return fail(c, "duration_ms", "must be more than 0");
	groups = json_object_get(root, "groups");
	if (!json_is_array(groups) || !json_array_size(groups) ||
	    json_array_size(groups) > SIM_MAX_GROUPS)
		return fail(c, "groups", "must be an array of 1..%d groups",
			    SIM_MAX_GROUPS);
	json_array_foreach(groups, i, v) {
		w->nr_groups = (u32)i + 1;
		if (parse_group(c, w, i, v))
			return -EINVAL;
	}
	msgs = json_object_get(root, "messages");
	if (msgs && (!json_is_array(msgs) ||
		     json_array_size(msgs) > SIM_MAX_MSGS))
		return fail(c, "messages", "must be an array of at most %d messages",
			    SIM_MAX_MSGS);
	json_array_foreach(msgs, i, v) {
		w->nr_msgs = (u32)i + 1;
		if (parse_msg(c, w, i, v))
			return -EINVAL;
	}
	return 0;
}

static int finish_parse(json_t *root, const char *name,
			struct enoki_workload **out, char *err, size_t errlen)
{
	struct wctx c = { name, err, errlen, false };
	struct enoki_workload *w = calloc(1, sizeof(*w));

	if (!w) {
		json_decref(root);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(w->file, sizeof(w->file), "%s", name);
	if (parse(&c, root, w)) {
		json_decref(root);
		enoki_workload_free(w);
		return -EINVAL;
	}
	json_decref(root);
	*out = w;
	return 0;
}

int enoki_workload_load(const char *path, struct enoki_workload **out,
			char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	FILE *f = fopen(path, "r");

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: bad JSON: %s", path, je.line,
			 je.column, je.text);
		return -EINVAL;
	}
	return finish_parse(root, path, out, err, errlen);
}

int enoki_workload_parse(const char *text, const char *name,
			 struct enoki_workload **out, char *err,
			 size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);

	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: bad JSON: %s", name, je.line,
			 je.column, je.text);
		return -EINVAL;
	}
	return finish_parse(root, name, out, err, errlen);
}

void enoki_workload_free(struct enoki_workload *w)
{
	u32 i;

	if (!w)
		return;
	for (i = 0; i < w->nr_groups; i++)
		free(w->groups[i].hint.args);
	free(w);
}
