/*
 * common.h - helpers for the simulator tests: run a workload given as
 * JSON text under a policy given as an ops table, with intervals kept.
 */
#ifndef ENOKI_SIM_TEST_COMMON_H
#define ENOKI_SIM_TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../enoki/sim/sim.h"

/* A policy struct around @ops (name "test"). */
void tp_init(struct enoki_policy *pol, const struct enoki_ops *ops);
/* Parse @json, create and run; returns the sim (caller destroys) and
 * enoki_sim_run's result in *@rc. */
struct enoki_sim *tp_run(const char *json, struct enoki_policy *pol,
			 int *rc);
/* The first interval of @pid, or NULL. */
const struct enoki_sim_interval *tp_first(struct enoki_sim *s, s32 pid);

#endif
