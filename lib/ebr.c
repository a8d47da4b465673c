// SPDX-License-Identifier: GPL-2.0
/*
 * lib/ebr.c - the application API of epoch-based reclamation
 * (<libarena-ds/ebr.h>); the implementation is lib/ebr.h.
 */
#include "ebr.h"

/* Contract: <libarena-ds/ebr.h>. */
DS_API int arena_ebr_stats_read(struct arena_ebr __arena *ebr __arg_arena,
				struct arena_ebr_stats *out)
{
	arena_bind();
	arena_ebr_get_stats(ebr, out);
	return 0;
}

DS_API int arena_ebr_quiesce(struct arena_ebr __arena *ebr __arg_arena)
{
	arena_bind();
	return arena_ebr_flush(ebr);
}

#ifdef __BPF__
/* lib/ebr.h: an advance, verified once as a function of its own. */
DS_API int arena_ebr_advance(struct arena_ebr __arena *ebr __arg_arena)
{
	arena_bind();
	return arena_ebr_try_advance(ebr);
}
#endif

#ifndef __BPF__
int arena_ebr_reap_dead(struct arena_ebr *ebr)
{
	return arena_ebr_reap(ebr);
}

int arena_ebr_pin(struct arena_ebr *ebr)
{
	arena_bind();
	return ebr ? arena_ebr_enter(ebr) : -1;
}

void arena_ebr_unpin(struct arena_ebr *ebr, int token)
{
	if (ebr)
		arena_ebr_exit(ebr, token);
}
#endif
