/*
 * common.c - see common.h.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"

static struct enoki_workload *last_w;

void tp_init(struct enoki_policy *pol, const struct enoki_ops *ops)
{
	memset(pol, 0, sizeof(*pol));
	pol->api_version = ENOKI_API_VERSION;
	pol->name = "test";
	pol->version = "0";
	pol->ops = *ops;
}

struct enoki_sim *tp_run(const char *json, struct enoki_policy *pol, int *rc)
{
	struct enoki_sim_opts o = { .keep_intervals = true };
	struct enoki_sim *s = NULL;
	char err[256];

	enoki_workload_free(last_w);
	last_w = NULL;
	if (enoki_workload_parse(json, "test.json", &last_w, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		fail();
	}
	if (enoki_sim_create(last_w, pol, &o, &s, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		fail();
	}
	*rc = enoki_sim_run(s);
	return s;
}

const struct enoki_sim_interval *tp_first(struct enoki_sim *s, s32 pid)
{
	const struct enoki_sim_interval *iv;
	size_t n, i;

	iv = enoki_sim_intervals(s, &n);
	for (i = 0; i < n; i++)
		if (iv[i].pid == pid)
			return &iv[i];
	return NULL;
}
