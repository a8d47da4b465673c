// SPDX-License-Identifier: GPL-2.0
/*
 * tests/arch/fences.c - the library's store->load patterns, one wrapper
 * each, compiled for arm64 by tests/cli/test_fences.sh, which checks that
 * every wrapper holds a full barrier (dmb ish).  On arm64 a seq_cst RMW
 * does not keep a later acquire load (LDAPR) from passing its store, so
 * without the fence the two sides of each pattern could both miss each
 * other:
 *   - arena_ebr_enter(): publish the record, then read the epoch (an
 *     advancer must see the record or the reader the new epoch);
 *   - arena_word_take(): make the guard odd, then read what the reclaimer
 *     detached (the reclaimer must see the guard or the taker its detach);
 *   - arena_word_seize(): the same take, from a dead holder.
 * Not linked or run: only the generated code is inspected.
 */
#include "alloc.h"
#include "ebr.h"

__attribute__((noinline)) int litmus_ebr_enter(struct arena_ebr *ebr)
{
	return arena_ebr_enter(ebr);
}

__attribute__((noinline)) int litmus_word_take(__u64 *w)
{
	return arena_word_take(w);
}

__attribute__((noinline)) int litmus_word_seize(__u64 *w, __u64 s)
{
	return arena_word_seize(w, s);
}
