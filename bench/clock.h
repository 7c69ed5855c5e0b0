/* SPDX-License-Identifier: Apache-2.0 */
/* The benchmark programs' clock. */
#ifndef VMM_BENCH_CLOCK_H
#define VMM_BENCH_CLOCK_H

#include <time.h>

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#endif
