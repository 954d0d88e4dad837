/* The log-linear bucket layout: index = (octave - SUB_BITS) * 2^SUB_BITS +
 * (value >> shift), where the shift keeps the top SUB_BITS+1 bits. Octaves
 * below SUB_BITS map to the value itself (exact). */
#include <math.h>

#include "bench/hist.h"

#define SUB (1u << DC_HIST_SUB_BITS)

static int top_bit(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

static size_t index_of(uint64_t v)
{
	if (v < SUB)
		return (size_t)v;
	int b = top_bit(v);
	if (b >= DC_HIST_MAX_BITS)
		return DC_HIST_BUCKETS - 1;
	int shift = b - DC_HIST_SUB_BITS;
	return ((size_t)shift << DC_HIST_SUB_BITS) + (size_t)(v >> shift);
}

/* The values [lo, hi] that bucket i holds. */
static void bounds_of(size_t i, uint64_t *lo, uint64_t *hi)
{
	if (i < 2 * SUB) {
		*lo = *hi = i;
		return;
	}
	int shift = (int)(i >> DC_HIST_SUB_BITS) - 1;
	uint64_t mant = SUB + (i & (SUB - 1));
	*lo = mant << shift;
	*hi = *lo + ((uint64_t)1 << shift) - 1;
}

void dc_hist_init(struct dc_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void dc_hist_record(struct dc_hist *h, uint64_t value)
{
	if (h->count == 0 || value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	h->count++;
	double d = (double)value - h->mean;
	h->mean += d / (double)h->count;
	h->m2 += d * ((double)value - h->mean);
	h->buckets[index_of(value)]++;
}

void dc_hist_merge(struct dc_hist *h, const struct dc_hist *from)
{
	if (from->count == 0)
		return;
	if (h->count == 0 || from->min < h->min)
		h->min = from->min;
	if (from->max > h->max)
		h->max = from->max;
	/* Chan et al.'s pairwise combination of means and M2. */
	double n = (double)h->count, m = (double)from->count, d = from->mean - h->mean;
	h->mean += d * m / (n + m);
	h->m2 += from->m2 + d * d * n * m / (n + m);
	h->count += from->count;
	for (size_t i = 0; i < DC_HIST_BUCKETS; i++)
		h->buckets[i] += from->buckets[i];
}

double dc_hist_percentile(const struct dc_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	/* The extremes are known exactly. */
	if (rank >= h->count)
		return (double)h->max;
	if (rank == 1)
		return (double)h->min;
	uint64_t seen = 0;
	for (size_t i = 0; i < DC_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		uint64_t lo, hi;
		bounds_of(i, &lo, &hi);
		double mid = ((double)lo + (double)hi) / 2;
		if (mid < (double)h->min)
			mid = (double)h->min;
		if (mid > (double)h->max)
			mid = (double)h->max;
		return mid;
	}
	return (double)h->max;
}

double dc_hist_mean(const struct dc_hist *h)
{
	return h->count ? h->mean : 0;
}

double dc_hist_stddev(const struct dc_hist *h)
{
	return h->count > 1 ? sqrt(h->m2 / (double)h->count) : 0;
}

void dc_hist_each(const struct dc_hist *h,
		  void (*fn)(uint64_t lo, uint64_t hi, uint64_t count, void *arg), void *arg)
{
	for (size_t i = 0; i < DC_HIST_BUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		uint64_t lo, hi;
		bounds_of(i, &lo, &hi);
		fn(lo, hi, h->buckets[i], arg);
	}
}
