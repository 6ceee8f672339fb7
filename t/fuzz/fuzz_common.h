/*
 * Shared set-up for the libFuzzer targets: APR once per process, a pool per input.
 * Targets feed hostile bytes to the core parsers that sit directly behind the network
 * (request bodies, paths, query strings, bearer tokens) under ASan/UBSan.
 */
#ifndef CC_FUZZ_COMMON_H
#define CC_FUZZ_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

static apr_pool_t *fuzz_root;

static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;

    if (!fuzz_root) {
        apr_initialize();
        apr_pool_create(&fuzz_root, NULL);
    }
    apr_pool_create(&p, fuzz_root);
    return p;
}

/* An invariant of the target: a crash libFuzzer reports when it does not hold. */
static void fuzz_check(int ok)
{
    if (!ok) {
        abort();
    }
}

#endif
