/* A latency histogram with bounded relative error and fixed memory, after
 * Gil Tene's HdrHistogram: values below 2^DC_HIST_SUB_BITS are counted
 * exactly; above, each power of two is cut into 2^DC_HIST_SUB_BITS equal
 * buckets, so a bucket is never wider than 1/256 of the values in it. A
 * value read back (a percentile) is the middle of its bucket: within 1/512
 * (0.2%) of every value recorded in that bucket. Count, minimum, maximum,
 * mean and standard deviation are exact (the sums are kept beside the
 * buckets). Memory: about 60 KiB, whatever the number of values. Values are
 * unsigned integers in the caller's unit (bench uses microseconds); values
 * at or above 2^DC_HIST_MAX_BITS land in the top bucket (max stays exact). */
#ifndef DC_BENCH_HIST_H
#define DC_BENCH_HIST_H

#include <stdint.h>

#define DC_HIST_SUB_BITS 8
#define DC_HIST_MAX_BITS 36 /* 2^36 us: 19 hours */
#define DC_HIST_BUCKETS (((DC_HIST_MAX_BITS - DC_HIST_SUB_BITS) + 1) << DC_HIST_SUB_BITS)
/* The bound on |reported - true| / true for a percentile. */
#define DC_HIST_REL_ERROR (1.0 / (2 << DC_HIST_SUB_BITS))

struct dc_hist {
	uint64_t count;
	uint64_t min, max;
	double mean, m2; /* Welford's running mean and sum of squared deviations */
	uint64_t buckets[DC_HIST_BUCKETS];
};

void dc_hist_init(struct dc_hist *h);
void dc_hist_record(struct dc_hist *h, uint64_t value);
/* Add every value of `from` into h. */
void dc_hist_merge(struct dc_hist *h, const struct dc_hist *from);

/* The nearest-rank percentile (0 < p <= 100): the value of rank
 * ceil(p/100 * count), as the middle of its bucket clamped to [min, max]
 * (rank 1 and the last rank: min and max exactly). 0 for an empty histogram. */
double dc_hist_percentile(const struct dc_hist *h, double p);
double dc_hist_mean(const struct dc_hist *h);
/* Population standard deviation; 0 below two values. */
double dc_hist_stddev(const struct dc_hist *h);

/* Walk the non-empty buckets in order: fn(lowest value, highest value,
 * count, arg). For charts. */
void dc_hist_each(const struct dc_hist *h,
		  void (*fn)(uint64_t lo, uint64_t hi, uint64_t count, void *arg), void *arg);

#endif
