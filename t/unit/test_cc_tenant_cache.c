/*
 * Unit tests for mod_cc_tenant's per-process principal cache (cc_tenant_cache.c).
 */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "cc_test.h"
#include "cc_tenant_cache.h"

#define SEC(n) apr_time_from_sec(n)
#define T0     ((apr_time_t)1000000000)

static cc_tenant_cache_value_t sample(const char *email, cc_perm_mask_t mask)
{
    cc_tenant_cache_value_t v;

    v.user_status = "active";
    v.tenant_status = "active";
    v.email = email;
    v.tenant_slug = "acme";
    v.permissions = mask;
    v.platform_admin = 0;
    v.generation = 0;
    return v;
}

static cc_tenant_cache_t *make_cache(apr_size_t max)
{
    cc_tenant_cache_t *c = NULL;

    ck_assert_int_eq(cc_tenant_cache_create(cc_test_pool, max, &c), APR_SUCCESS);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* An unbounded cache holding sample("a@example.com", 1) under "7|t1" from T0 for 10 s. */
static cc_tenant_cache_t *cache_with_one_entry(void)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v = sample("a@example.com", 1);

    cc_tenant_cache_put(c, "7|t1", &v, T0, SEC(10));
    return c;
}

START_TEST(put_then_get_returns_the_value)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v = sample("a@example.com", 0x5), out;

    v.platform_admin = 1;
    v.user_status = "disabled";
    v.tenant_status = "suspended";
    ck_assert_int_eq(cc_tenant_cache_put(c, "7|t1", &v, T0, SEC(10)), APR_SUCCESS);
    memset(&out, 0, sizeof(out));
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0 + SEC(1), cc_test_pool, &out), 1);
    ck_assert_str_eq(out.email, "a@example.com");
    ck_assert_str_eq(out.tenant_slug, "acme");
    ck_assert_str_eq(out.user_status, "disabled");
    ck_assert_str_eq(out.tenant_status, "suspended");
    ck_assert_uint_eq(out.permissions, 0x5);
    ck_assert_int_eq(out.platform_admin, 1);
    ck_assert_uint_eq(cc_tenant_cache_count(c), 1);
}
END_TEST

START_TEST(unknown_key_is_a_miss)
{
    cc_tenant_cache_t *c = cache_with_one_entry();
    cc_tenant_cache_value_t out;

    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t2", T0, cc_test_pool, &out), 0);
    ck_assert_int_eq(cc_tenant_cache_get(c, "8|t1", T0, cc_test_pool, &out), 0);
}
END_TEST

START_TEST(entry_expires_after_ttl)
{
    cc_tenant_cache_t *c = cache_with_one_entry();
    cc_tenant_cache_value_t out;

    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0 + SEC(10) - 1, cc_test_pool, &out), 1);
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0 + SEC(10), cc_test_pool, &out), 0);
    /* The expired record was dropped on read. */
    ck_assert_uint_eq(cc_tenant_cache_count(c), 0);
}
END_TEST

START_TEST(ttl_zero_stores_nothing)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v = sample("a@example.com", 1), out;

    ck_assert_int_eq(cc_tenant_cache_put(c, "7|t1", &v, T0, 0), APR_SUCCESS);
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &out), 0);
    ck_assert_uint_eq(cc_tenant_cache_count(c), 0);
}
END_TEST

START_TEST(put_replaces_an_existing_key)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v1 = sample("old@example.com", 1);
    cc_tenant_cache_value_t v2 = sample("new@example.com", 2), out;

    cc_tenant_cache_put(c, "7|t1", &v1, T0, SEC(10));
    cc_tenant_cache_put(c, "7|t1", &v2, T0 + SEC(5), SEC(10));
    ck_assert_uint_eq(cc_tenant_cache_count(c), 1);
    /* The replacement carries its own, later expiry. */
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0 + SEC(12), cc_test_pool, &out), 1);
    ck_assert_str_eq(out.email, "new@example.com");
    ck_assert_uint_eq(out.permissions, 2);
}
END_TEST

/* Is key cached (and fresh) at now? */
static int cached(cc_tenant_cache_t *c, const char *key, apr_time_t now)
{
    cc_tenant_cache_value_t out;

    return cc_tenant_cache_get(c, key, now, cc_test_pool, &out);
}

/* Four puts into a cache of three, then how many are left and which answer. */
static const struct {
    struct { const char *key; apr_time_t at, ttl; } puts[4];
    unsigned count;
    apr_time_t then;
    const char *kept[2];
    const char *gone;
} eviction_cases[] = {
    /* Full: the oldest goes. */
    { { { "1|t", T0, SEC(60) }, { "2|t", T0 + 1, SEC(60) }, { "3|t", T0 + 2, SEC(60) },
        { "4|t", T0 + 3, SEC(60) } }, 3, T0 + 4, { "2|t", "4|t" }, "1|t" },
    /* 1 and 2 are expired at T0+6: both go first, so the cache is not full any more. */
    { { { "1|t", T0, SEC(1) }, { "2|t", T0, SEC(1) }, { "3|t", T0 + SEC(5), SEC(60) },
        { "4|t", T0 + SEC(6), SEC(60) } }, 2, T0 + SEC(7), { "3|t", "4|t" }, "1|t" },
};

START_TEST(a_full_cache_evicts_expired_entries_then_the_oldest)
{
    cc_tenant_cache_t *c = make_cache(3);
    cc_tenant_cache_value_t v = sample("a@example.com", 1);
    int i;

    for (i = 0; i < 4; i++) {
        cc_tenant_cache_put(c, eviction_cases[_i].puts[i].key, &v, eviction_cases[_i].puts[i].at,
                            eviction_cases[_i].puts[i].ttl);
    }
    ck_assert_uint_eq(cc_tenant_cache_count(c), eviction_cases[_i].count);
    ck_assert_int_eq(cached(c, eviction_cases[_i].gone, eviction_cases[_i].then), 0);
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(cached(c, eviction_cases[_i].kept[i], eviction_cases[_i].then), 1);
    }
}
END_TEST

START_TEST(cache_stays_bounded_under_many_keys)
{
    cc_tenant_cache_t *c = make_cache(100);
    cc_tenant_cache_value_t v = sample("a@example.com", 1);
    int i;

    for (i = 0; i < 5000; i++) {
        const char *key = apr_psprintf(cc_test_pool, "%d|t", i);

        cc_tenant_cache_put(c, key, &v, T0 + i, SEC(60));
        ck_assert_uint_le(cc_tenant_cache_count(c), 100);
    }
    ck_assert_int_eq(cached(c, "4999|t", T0 + 5000), 1);
    ck_assert_int_eq(cached(c, "4899|t", T0 + 5000), 0);
    ck_assert_int_eq(cached(c, "4900|t", T0 + 5000), 1);
}
END_TEST

START_TEST(returned_value_is_a_copy)
{
    cc_tenant_cache_t *c = make_cache(0);
    char email[] = "a@example.com";
    cc_tenant_cache_value_t v = sample(email, 1), out, again;

    cc_tenant_cache_put(c, "7|t1", &v, T0, SEC(10));
    /* Neither the caller's input buffer nor the returned strings alias the cache. */
    email[0] = 'X';
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &out), 1);
    ck_assert_str_eq(out.email, "a@example.com");
    ((char *)out.email)[0] = 'Z';
    ((char *)out.tenant_slug)[0] = 'Z';
    ((char *)out.user_status)[0] = 'Z';
    out.permissions = 0xff;
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &again), 1);
    ck_assert_str_eq(again.email, "a@example.com");
    ck_assert_str_eq(again.tenant_slug, "acme");
    ck_assert_str_eq(again.user_status, "active");
    ck_assert_uint_eq(again.permissions, 1);
}
END_TEST

START_TEST(too_long_values_are_not_cached)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v = sample("a@example.com", 1), out;
    char longkey[200];

    memset(longkey, 'k', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    ck_assert_int_eq(cc_tenant_cache_put(c, longkey, &v, T0, SEC(10)), APR_EINVAL);
    v.tenant_slug = "this-slug-is-much-longer-than-sixty-three-characters-which-is-the-max";
    ck_assert_int_eq(cc_tenant_cache_put(c, "7|t1", &v, T0, SEC(10)), APR_EINVAL);
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &out), 0);
    ck_assert_uint_eq(cc_tenant_cache_count(c), 0);
}
END_TEST

START_TEST(remove_drops_the_key)
{
    cc_tenant_cache_t *c = cache_with_one_entry();
    cc_tenant_cache_value_t out;

    cc_tenant_cache_remove(c, "7|t1");
    cc_tenant_cache_remove(c, "nope");
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &out), 0);
    ck_assert_uint_eq(cc_tenant_cache_count(c), 0);
}
END_TEST

START_TEST(key_joins_user_and_tenant)
{
    ck_assert_str_eq(cc_tenant_cache_key(cc_test_pool, "42", "t-1"), "42|t-1");
}
END_TEST

START_TEST(null_cache_is_harmless)
{
    cc_tenant_cache_value_t v = sample("a@example.com", 1), out;

    ck_assert_int_eq(cc_tenant_cache_put(NULL, "k", &v, T0, SEC(1)), APR_SUCCESS);
    ck_assert_int_eq(cc_tenant_cache_get(NULL, "k", T0, cc_test_pool, &out), 0);
    cc_tenant_cache_remove(NULL, "k");
    ck_assert_uint_eq(cc_tenant_cache_count(NULL), 0);
}
END_TEST

/* ---- concurrency smoke: several threads hammer one small cache ---- */

#define SMOKE_THREADS 6
#define SMOKE_OPS     4000

typedef struct smoke_arg_t {
    cc_tenant_cache_t *cache;
    int seed;
    int bad;
} smoke_arg_t;

static void *APR_THREAD_FUNC smoke_worker(apr_thread_t *t, void *data)
{
    smoke_arg_t *a = data;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < SMOKE_OPS; i++) {
        char key[32];
        char email[64];
        int k = (i * 7 + a->seed) % 97;
        cc_tenant_cache_value_t v, out;

        apr_snprintf(key, sizeof(key), "%d|tenant", k);
        apr_snprintf(email, sizeof(email), "u%d@example.com", k);
        v = sample(email, (cc_perm_mask_t)k);
        switch (i % 4) {
        case 0:
            cc_tenant_cache_put(a->cache, key, &v, T0 + i, SEC(1));
            break;
        case 3:
            cc_tenant_cache_remove(a->cache, key);
            break;
        default:
            /* Every value stored under a key is consistent with the key. */
            if (cc_tenant_cache_get(a->cache, key, T0 + i, p, &out)
                && (strcmp(out.email, email) || out.permissions != (cc_perm_mask_t)k)) {
                a->bad++;
            }
            break;
        }
        if (i % 256 == 0) {
            apr_pool_clear(p);
        }
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(concurrent_access_is_safe)
{
    cc_tenant_cache_t *c = make_cache(50);
    apr_thread_t *threads[SMOKE_THREADS];
    smoke_arg_t args[SMOKE_THREADS];
    int i;

    for (i = 0; i < SMOKE_THREADS; i++) {
        args[i].cache = c;
        args[i].seed = i * 13;
        args[i].bad = 0;
        ck_assert_int_eq(apr_thread_create(&threads[i], NULL, smoke_worker, &args[i],
                                           cc_test_pool), APR_SUCCESS);
    }
    for (i = 0; i < SMOKE_THREADS; i++) {
        apr_status_t trv;

        ck_assert_int_eq(apr_thread_join(&trv, threads[i]), APR_SUCCESS);
        ck_assert_int_eq(args[i].bad, 0);
    }
    ck_assert_uint_le(cc_tenant_cache_count(c), 50);
}
END_TEST

START_TEST(the_generation_travels_with_the_value)
{
    cc_tenant_cache_t *c = make_cache(0);
    cc_tenant_cache_value_t v = sample("a@example.com", 1), out;

    v.generation = 41;
    cc_tenant_cache_put(c, "7|t1", &v, T0, SEC(10));
    ck_assert_int_eq(cc_tenant_cache_get(c, "7|t1", T0, cc_test_pool, &out), 1);
    ck_assert_uint_eq(out.generation, 41);
}
END_TEST

START_TEST(a_bump_moves_only_its_tenants_generation)
{
    apr_uint32_t *slots = apr_pcalloc(cc_test_pool, CC_TENANT_GEN_SLOTS * sizeof(*slots));
    const char *a = "0b6f3c52-8d0e-4a43-9c55-4f7f1c1f0a01";
    const char *b = "0b6f3c52-8d0e-4a43-9c55-4f7f1c1f0a02";
    apr_uint32_t a0 = cc_tenant_gen_read(slots, a), b0 = cc_tenant_gen_read(slots, b);

    cc_tenant_gen_bump(slots, a);
    ck_assert_uint_ne(cc_tenant_gen_read(slots, a), a0);
    /* These two ids hash to different slots (a collision would only cost misses). */
    ck_assert_uint_eq(cc_tenant_gen_read(slots, b), b0);
    /* No slots (no shared memory): always generation 0, bumps are no-ops. */
    cc_tenant_gen_bump(NULL, a);
    ck_assert_uint_eq(cc_tenant_gen_read(NULL, a), 0);
    ck_assert_uint_eq(cc_tenant_gen_read(slots, NULL), 0);
}
END_TEST

CC_TEST_SUITE("cc_tenant_cache",
    CC_TCASE("cache"),
        CC_TEST(put_then_get_returns_the_value),
        CC_TEST(unknown_key_is_a_miss),
        CC_TEST(entry_expires_after_ttl),
        CC_TEST(ttl_zero_stores_nothing),
        CC_TEST(put_replaces_an_existing_key),
        CC_LOOP_TEST(a_full_cache_evicts_expired_entries_then_the_oldest, N(eviction_cases)),
        CC_TEST(cache_stays_bounded_under_many_keys),
        CC_TEST(returned_value_is_a_copy),
        CC_TEST(too_long_values_are_not_cached),
        CC_TEST(remove_drops_the_key),
        CC_TEST(key_joins_user_and_tenant),
        CC_TEST(null_cache_is_harmless),
        CC_TEST(concurrent_access_is_safe),
    CC_TCASE("generations"),
        CC_TEST(the_generation_travels_with_the_value),
        CC_TEST(a_bump_moves_only_its_tenants_generation))
