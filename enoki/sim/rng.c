/*
 * rng.c - the simulator's own random numbers: xoshiro256** seeded with
 * splitmix64, so a seed gives the same run on every machine and libc.
 * Floating point is fine here: this is the simulator, not a policy.
 */
#include <math.h>

#include "sim_int.h"

static u64 splitmix64(u64 *x)
{
	u64 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void sim_rng_seed(u64 st[4], u64 seed)
{
	int i;

	for (i = 0; i < 4; i++)
		st[i] = splitmix64(&seed);
}

static u64 rotl(u64 x, int k)
{
	return (x << k) | (x >> (64 - k));
}

u64 sim_rng_next(u64 st[4])
{
	u64 r = rotl(st[1] * 5, 7) * 9, t = st[1] << 17;

	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return r;
}

double sim_rng_unit(u64 st[4])
{
	return (double)(sim_rng_next(st) >> 11) * 0x1.0p-53;
}

/* Exponential with mean @mean (ns), at least 1. */
static u64 draw_exp(u64 st[4], double mean)
{
	double v = -log(1.0 - sim_rng_unit(st)) * mean;

	return v < 1.0 ? 1 : (u64)v;
}

u64 sim_dist_draw(u64 st[4], const struct sim_dist *d)
{
	switch (d->kind) {
	case SIM_DIST_EXP:
		return draw_exp(st, (double)d->a_ns);
	case SIM_DIST_BIMODAL:
		return sim_rng_unit(st) < d->mix ? d->b_ns : d->a_ns;
	default:
		return d->a_ns;
	}
}

u64 sim_rng_exp(u64 st[4], double mean)
{
	return draw_exp(st, mean);
}

double sim_dist_mean(const struct sim_dist *d)
{
	if (d->kind == SIM_DIST_BIMODAL)
		return (1.0 - d->mix) * (double)d->a_ns + d->mix * (double)d->b_ns;
	return (double)d->a_ns;
}
