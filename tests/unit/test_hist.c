/* The latency histogram against exact answers: nearest-rank percentiles of
 * known distributions, computed here by sorting, must agree within the
 * stated relative error; count, min, max, mean and stddev exactly. */
#include <math.h>
#include <stdint.h>

#include "bench/hist.h"
#include "harness.h"

static int within(double got, double want)
{
	return fabs(got - want) <= want * DC_HIST_REL_ERROR + 1e-9;
}

#define check_near(got, want)                                                          \
	do {                                                                           \
		double g_ = (got), w_ = (want);                                        \
		if (!within(g_, w_))                                                   \
			dc_test_fail(__FILE__, __LINE__, "%s: got %.3f, want %.3f +- %.3f", \
				     #got, g_, w_, w_ * DC_HIST_REL_ERROR);            \
	} while (0)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static uint64_t nearest_rank(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[(rank ? rank : 1) - 1];
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

void test_hist__uniform_percentiles(void)
{
	struct dc_hist *h = malloc(sizeof(*h));
	dc_hist_init(h);
	for (uint64_t v = 100000; v >= 1; v--)
		dc_hist_record(h, v);
	check_int(h->count, 100000);
	check_int(h->min, 1);
	check_int(h->max, 100000);
	check_near(dc_hist_percentile(h, 50), 50000);
	check_near(dc_hist_percentile(h, 90), 90000);
	check_near(dc_hist_percentile(h, 99), 99000);
	check_near(dc_hist_percentile(h, 99.9), 99900);
	check(dc_hist_percentile(h, 100) == 100000.0);
	check(fabs(dc_hist_mean(h) - 50000.5) < 1e-6);
	/* The population stddev of 1..n is sqrt((n^2 - 1) / 12). */
	check(fabs(dc_hist_stddev(h) - sqrt((1e10 - 1) / 12)) < 1e-3);
	free(h);
}

void test_hist__small_values_exact(void)
{
	struct dc_hist *h = malloc(sizeof(*h));
	dc_hist_init(h);
	for (uint64_t v = 0; v < 500; v++)
		dc_hist_record(h, v);
	check(dc_hist_percentile(h, 50) == 249.0);
	check(dc_hist_percentile(h, 10) == 49.0);
	check(dc_hist_percentile(h, 0.1) == 0.0);
	check(dc_hist_percentile(h, 100) == 499.0);
	free(h);
}

/* A long-tailed distribution (most values near 10 ms, a tail to seconds),
 * the shape of real latencies, against a sort of the same values. */
void test_hist__long_tail_against_sort(void)
{
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof(*v)), seed = 42;
	struct dc_hist *h = malloc(sizeof(*h));
	dc_hist_init(h);
	double sum = 0;
	for (size_t i = 0; i < N; i++) {
		double u = (double)(lcg(&seed) % 1000000 + 1) / 1000001.0;
		v[i] = 9000 + (uint64_t)(-log(u) * 2000.0) + (lcg(&seed) % 100 == 0 ? 500000 : 0);
		sum += (double)v[i];
		dc_hist_record(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	static const double ps[] = { 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99 };
	for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++)
		check_near(dc_hist_percentile(h, ps[i]), (double)nearest_rank(v, N, ps[i]));
	check_int(h->min, v[0]);
	check_int(h->max, v[N - 1]);
	check(fabs(dc_hist_mean(h) - sum / N) < 1e-6 * sum / N);
	free(v);
	free(h);
}

/* A percentile is really read from buckets: 1,000,001 cannot come back
 * exactly, only within the bound. */
void test_hist__bucketed_not_exact(void)
{
	struct dc_hist *h = malloc(sizeof(*h));
	dc_hist_init(h);
	dc_hist_record(h, 1000001);
	dc_hist_record(h, 1000001);
	dc_hist_record(h, 3000000);
	double p50 = dc_hist_percentile(h, 50);
	check(p50 != 1000001.0);
	check_near(p50, 1000001);
	free(h);
}

void test_hist__merge_is_recording_both(void)
{
	struct dc_hist *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b)), *all = malloc(sizeof(*all));
	dc_hist_init(a);
	dc_hist_init(b);
	dc_hist_init(all);
	uint64_t seed = 7;
	for (int i = 0; i < 10000; i++) {
		uint64_t x = lcg(&seed) % 50000;
		dc_hist_record(i % 3 ? a : b, x);
		dc_hist_record(all, x);
	}
	dc_hist_merge(a, b);
	check_int(a->count, all->count);
	check_int(a->min, all->min);
	check_int(a->max, all->max);
	check(fabs(dc_hist_mean(a) - dc_hist_mean(all)) < 1e-6);
	check(fabs(dc_hist_stddev(a) - dc_hist_stddev(all)) < 1e-6);
	check(memcmp(a->buckets, all->buckets, sizeof(a->buckets)) == 0);
	free(a);
	free(b);
	free(all);
}

void test_hist__huge_values_and_fixed_size(void)
{
	struct dc_hist *h = malloc(sizeof(*h));
	dc_hist_init(h);
	check(dc_hist_percentile(h, 50) == 0.0);
	check(sizeof(*h) < 64 * 1024);
	dc_hist_record(h, (uint64_t)1 << 40);
	dc_hist_record(h, 5);
	check(dc_hist_percentile(h, 100) == (double)((uint64_t)1 << 40));
	check(dc_hist_percentile(h, 50) == 5.0);
	free(h);
}
