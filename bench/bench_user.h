/* SPDX-License-Identifier: GPL-2.0 */
/* bench_user.h - userspace helpers shared by bench.c and alloc_bench.c. */
#ifndef __BENCH_USER_H
#define __BENCH_USER_H

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

/* Run the calling thread on CPU @cpu (modulo the CPUs online). */
static inline void pin(int cpu)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&set);
	CPU_SET(cpu % (n > 0 ? n : 1), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

#endif /* __BENCH_USER_H */
