/* --prices live: current prices from the AWS Price List Query API
 * (AWSPriceListService.GetProducts, JSON 1.1, endpoint in us-east-1). Which
 * product each price is comes from templates/prices/live.json. */
#ifndef DC_BENCH_PRICING_H
#define DC_BENCH_PRICING_H

#include <jansson.h>
#include <time.h>

struct dc_aws;

/* The on-demand USD price per `unit` in one GetProducts answer's PriceList
 * (an array of JSON strings): of every product with a price dimension in
 * that unit, the first tier (beginRange "0"), the lowest if several
 * products match. 0 with *found = number of products that had one. */
int dc_pricing_pick(double *out, int *found, const json_t *price_list, const char *unit);

/* Ask GetProducts (all pages) for every price of `set` that `queries`
 * (live.json's "queries") describes, filters' ${region} being `region`, and
 * replace each found price in `set`: price = AWS's price per unit x the
 * entry's per, source naming the API, as_of the time `now`, no longer
 * unverified. A price no product matched keeps the file's value and gets
 * "live": "no product matched". Sets set["fetched_at"]. API errors: -1. */
int dc_pricing_fetch(json_t *set, struct dc_aws *aws, const json_t *queries, const char *region,
		     time_t now);

#endif
