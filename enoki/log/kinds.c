/*
 * enoki/log/kinds.c - what each event kind means: its name, how many
 * arguments the caller gave and how many values the host returned, and
 * the names of those, for validation (reader), matching (replay) and
 * printing (divergence reports, `enoki replay --dump`).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define K(kind, nm, in, out, cb, ...)					\
	[kind] = { .name = nm, .nr_in = in, .nr_out = out,		\
		   .callback = cb, .arg_names = { __VA_ARGS__ } }

static const struct enoki_log_kind_info kinds[ENOKI_EV_NR_KINDS] = {
	K(ENOKI_EV_SELECT_CPU, "select_cpu", 3, 0, true,
	  "pid", "prev_cpu", "wake_flags"),
	K(ENOKI_EV_ENQUEUE, "enqueue", 2, 0, true, "pid", "enq_flags"),
	K(ENOKI_EV_DEQUEUE, "dequeue", 2, 0, true, "pid", "deq_flags"),
	K(ENOKI_EV_DISPATCH, "dispatch", 2, 0, true, "cpu", "prev"),
	K(ENOKI_EV_RUNNABLE, "runnable", 2, 0, true, "pid", "enq_flags"),
	K(ENOKI_EV_RUNNING, "running", 1, 0, true, "pid"),
	K(ENOKI_EV_STOPPING, "stopping", 2, 0, true, "pid", "runnable"),
	K(ENOKI_EV_QUIESCENT, "quiescent", 2, 0, true, "pid", "deq_flags"),
	K(ENOKI_EV_TICK, "tick", 1, 0, true, "pid"),
	K(ENOKI_EV_SET_WEIGHT, "set_weight", 2, 0, true, "pid", "weight"),
	[ENOKI_EV_SET_CPUMASK] = { .name = "set_cpumask", .nr_in = 2,
				   .variable = true, .callback = true,
				   .arg_names = { "pid", "mask" } },
	K(ENOKI_EV_INIT_TASK, "init_task", 2, 0, true, "pid", "fork"),
	K(ENOKI_EV_EXIT_TASK, "exit_task", 2, 0, true, "pid", "cancelled"),
	K(ENOKI_EV_INIT, "init", 0, 0, true, NULL),
	K(ENOKI_EV_EXIT, "exit", 0, 0, true, NULL),
	K(ENOKI_EV_CPU_ONLINE, "cpu_online", 1, 0, true, "cpu"),
	K(ENOKI_EV_CPU_OFFLINE, "cpu_offline", 1, 0, true, "cpu"),
	K(ENOKI_EV_MSG, "msg", 6, 0, true,
	  "type", "pid", "arg0", "arg1", "arg2", "arg3"),
	K(ENOKI_EV_TIMER, "timer", 1, 0, true, "timer"),
	K(ENOKI_EV_RETURN, "return", 1, 0, false, "value"),

	K(ENOKI_EV_TASK_WEIGHT, "task_weight", 1, 1, false, "pid", "weight"),
	K(ENOKI_EV_TASK_CPU, "task_cpu", 1, 1, false, "pid", "cpu"),
	K(ENOKI_EV_TASK_ALLOWED, "task_allowed", 2, 1, false,
	  "pid", "cpu", "allowed"),
	K(ENOKI_EV_TASK_NR_CPUS_ALLOWED, "task_nr_cpus_allowed", 1, 1, false,
	  "pid", "n"),
	K(ENOKI_EV_TASK_SLICE, "task_slice", 1, 1, false, "pid", "slice"),
	K(ENOKI_EV_TASK_SET_SLICE, "task_set_slice", 2, 0, false,
	  "pid", "slice"),
	K(ENOKI_EV_TASK_VTIME, "task_vtime", 1, 1, false, "pid", "vtime"),
	K(ENOKI_EV_TASK_SET_VTIME, "task_set_vtime", 2, 0, false,
	  "pid", "vtime"),
	K(ENOKI_EV_DSQ_CREATE, "dsq_create", 1, 1, false, "dsq", "err"),
	K(ENOKI_EV_DSQ_DESTROY, "dsq_destroy", 1, 0, false, "dsq"),
	K(ENOKI_EV_DSQ_INSERT, "dsq_insert", 4, 0, false,
	  "pid", "dsq", "slice", "enq_flags"),
	K(ENOKI_EV_DSQ_INSERT_VTIME, "dsq_insert_vtime", 5, 0, false,
	  "pid", "dsq", "slice", "vtime", "enq_flags"),
	K(ENOKI_EV_DSQ_MOVE_TO_LOCAL, "dsq_move_to_local", 1, 1, false,
	  "dsq", "moved"),
	K(ENOKI_EV_DSQ_NR_QUEUED, "dsq_nr_queued", 1, 1, false, "dsq", "n"),
	K(ENOKI_EV_KICK_CPU, "kick_cpu", 2, 0, false, "cpu", "flags"),
	K(ENOKI_EV_SELECT_CPU_DFL, "select_cpu_dfl", 3, 2, false,
	  "pid", "prev_cpu", "wake_flags", "cpu", "is_idle"),
	K(ENOKI_EV_TEST_AND_CLEAR_IDLE, "test_and_clear_cpu_idle", 1, 1,
	  false, "cpu", "was_idle"),
	K(ENOKI_EV_PICK_IDLE_CPU, "pick_idle_cpu", 2, 1, false,
	  "pid", "flags", "cpu"),
	K(ENOKI_EV_PICK_ANY_CPU, "pick_any_cpu", 2, 1, false,
	  "pid", "flags", "cpu"),
	K(ENOKI_EV_NOW, "now", 0, 1, false, "ns"),
	K(ENOKI_EV_TASK_STORAGE, "task_storage", 3, 1, false,
	  "storage", "pid", "flags", "found"),
	K(ENOKI_EV_LOCK, "lock", 1, 0, false, "lock"),
	K(ENOKI_EV_UNLOCK, "unlock", 1, 0, false, "lock"),
	K(ENOKI_EV_TIMER_START, "timer_start", 2, 1, false,
	  "timer", "delay", "err"),
	K(ENOKI_EV_MSG_SEND, "msg_send", 6, 1, false,
	  "type", "pid", "arg0", "arg1", "arg2", "arg3", "err"),
	[ENOKI_EV_ERROR] = { .name = "error", .nr_in = 1, .variable = true,
			     .arg_names = { "length", "text" } },
	K(ENOKI_EV_LOST, "lost", 1, 0, false, "events"),
};

const struct enoki_log_kind_info *enoki_log_kind(unsigned int kind)
{
	if (kind >= ENOKI_EV_NR_KINDS || !kinds[kind].name)
		return NULL;
	return &kinds[kind];
}

bool enoki_log_kind_nr_args_ok(unsigned int kind, unsigned int nr_args)
{
	const struct enoki_log_kind_info *k = enoki_log_kind(kind);

	if (!k)
		return false;
	if (!k->variable)
		return nr_args == (unsigned int)k->nr_in + k->nr_out;
	if (kind == ENOKI_EV_SET_CPUMASK)	/* pid, 1..16 mask words */
		return nr_args >= 2 && nr_args <= 17;
	/* error: length, then ceil(length / 8) words of text */
	return nr_args >= 1 && nr_args <= ENOKI_LOG_MAX_ARGS;
}

/* Print one argument: pids and CPUs signed, flags and masks in hex. */
static int format_arg(char *buf, size_t size, const char *name, uint64_t v)
{
	if (!strcmp(name, "pid") || !strcmp(name, "prev") ||
	    !strcmp(name, "cpu") || !strcmp(name, "prev_cpu") ||
	    !strcmp(name, "err") || !strcmp(name, "value"))
		return snprintf(buf, size, " %s=%" PRId64, name, (int64_t)v);
	if (strstr(name, "flags") || !strcmp(name, "mask") ||
	    !strcmp(name, "dsq") || !strcmp(name, "storage") ||
	    !strcmp(name, "timer") || !strcmp(name, "type"))
		return snprintf(buf, size, " %s=0x%" PRIx64, name, v);
	return snprintf(buf, size, " %s=%" PRIu64, name, v);
}

char *enoki_log_format_call(unsigned int kind, unsigned int nr_args,
			    const uint64_t *args, char *buf, size_t size)
{
	const struct enoki_log_kind_info *k = enoki_log_kind(kind);
	size_t n;
	unsigned int i;

	if (size == 0)
		return buf;
	n = (size_t)snprintf(buf, size, "%s", k ? k->name : "unknown");
	if (kind == ENOKI_EV_ERROR && nr_args >= 1 && n + 2 < size) {
		/* text bytes, little-endian within each word */
		uint64_t len = args[0], max = (nr_args - 1u) * 8u;
		uint64_t j;

		if (len > max)
			len = max;
		buf[n++] = ' ';
		buf[n++] = '"';
		for (j = 0; j < len && n + 2 < size; j++) {
			char c = (char)(args[1 + j / 8] >> (8 * (j % 8)));

			buf[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
		}
		buf[n++] = '"';
		buf[n] = '\0';
		return buf;
	}
	for (i = 0; i < nr_args && n < size; i++) {
		const char *name = "mask";

		if (k && i < 8 && k->arg_names[i])
			name = k->arg_names[i];
		if (k && i == k->nr_in && k->nr_out && n + 3 < size)
			n += (size_t)snprintf(buf + n, size - n, " ->");
		if (n < size)
			n += (size_t)format_arg(buf + n, size - n, name,
						args[i]);
	}
	return buf;
}

char *enoki_log_format_event(const struct enoki_log_event *ev, char *buf,
			     size_t size)
{
	int n;

	n = snprintf(buf, size, "#%" PRIu64 " t=%" PRIu64 " cpu %u ",
		     ev->seq, ev->time, ev->cpu);
	if (n > 0 && (size_t)n < size)
		enoki_log_format_call(ev->kind, ev->nr_args, ev->args,
				      buf + n, size - (size_t)n);
	return buf;
}

uint32_t enoki_log_name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	while (name && *name) {
		h ^= (uint8_t)*name++;
		h *= 16777619u;
	}
	return h;
}

unsigned int enoki_log_pack_text(const char *text, uint64_t *args)
{
	size_t len = strlen(text), max = 8 * (ENOKI_LOG_MAX_ARGS - 1), i;

	if (len > max)
		len = max;
	args[0] = len;
	memset(args + 1, 0, 8 * ((len + 7) / 8));
	for (i = 0; i < len; i++)
		args[1 + i / 8] |= (uint64_t)(uint8_t)text[i] << (8 * (i % 8));
	return 1 + (unsigned int)((len + 7) / 8);
}
