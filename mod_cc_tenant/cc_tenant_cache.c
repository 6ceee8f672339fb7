/*
 * cc_tenant_cache.c (core): the per-process principal cache.
 *
 * Entries are fixed-size records (the strings they hold are short and bounded), kept on
 * a ring in the order they were last stored and indexed by an apr_hash_t.  Dropped
 * records go to a free ring and are reused, so the cache's pool stops growing once it
 * has held max entries: a long-lived child never leaks through it.  Because a process
 * normally runs one TTL, "last stored" order is also expiry order, so purging expired
 * records from the head is enough to keep room; a record with a longer TTL further in
 * only delays that purge until it expires itself or is read.
 */
#include <string.h>

#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_ring.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "cc_tenant_cache.h"

typedef struct cc_cache_entry_t cc_cache_entry_t;

struct cc_cache_entry_t {
    APR_RING_ENTRY(cc_cache_entry_t) link;
    apr_time_t expires;
    cc_perm_mask_t permissions;
    int platform_admin;
    apr_uint32_t generation;
    char key[CC_TENANT_CACHE_KEY_MAX + 1];
    char user_status[CC_TENANT_CACHE_STATUS_MAX + 1];
    char tenant_status[CC_TENANT_CACHE_STATUS_MAX + 1];
    char email[CC_TENANT_CACHE_EMAIL_MAX + 1];
    char slug[CC_TENANT_CACHE_SLUG_MAX + 1];
};

APR_RING_HEAD(cc_cache_ring, cc_cache_entry_t);

struct cc_tenant_cache_t {
    apr_pool_t *pool;
#if APR_HAS_THREADS
    apr_thread_mutex_t *mutex;
#endif
    apr_hash_t *index;            /* key -> entry (the key lives in the entry) */
    struct cc_cache_ring live;    /* oldest store first */
    struct cc_cache_ring spare;   /* dropped records, reused before allocating */
    apr_size_t count;
    apr_size_t max;
};

static int lock(cc_tenant_cache_t *c)
{
#if APR_HAS_THREADS
    return apr_thread_mutex_lock(c->mutex) == APR_SUCCESS;
#else
    (void)c;
    return 1;
#endif
}

static void unlock(cc_tenant_cache_t *c)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(c->mutex);
#else
    (void)c;
#endif
}

apr_status_t cc_tenant_cache_create(apr_pool_t *p, apr_size_t max_entries,
                                    cc_tenant_cache_t **pcache)
{
    apr_pool_t *pool;
    cc_tenant_cache_t *c;
    apr_status_t rv;

    *pcache = NULL;
    if ((rv = apr_pool_create(&pool, p)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_tag(pool, "cc_tenant_cache");
    c = apr_pcalloc(pool, sizeof(*c));
    c->pool = pool;
    c->max = max_entries ? max_entries : CC_TENANT_CACHE_DEFAULT_MAX;
    c->index = apr_hash_make(pool);
    APR_RING_INIT(&c->live, cc_cache_entry_t, link);
    APR_RING_INIT(&c->spare, cc_cache_entry_t, link);
#if APR_HAS_THREADS
    rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, pool);
    if (rv != APR_SUCCESS) {
        apr_pool_destroy(pool);
        return rv;
    }
#endif
    *pcache = c;
    return APR_SUCCESS;
}

/* Unlink e from the index and the live ring; keep the record for reuse.  Locked. */
static void drop(cc_tenant_cache_t *c, cc_cache_entry_t *e)
{
    apr_hash_set(c->index, e->key, APR_HASH_KEY_STRING, NULL);
    APR_RING_REMOVE(e, link);
    APR_RING_INSERT_TAIL(&c->spare, e, cc_cache_entry_t, link);
    c->count--;
}

/* Make room for one more record: expired ones from the head, then the oldest.  Locked. */
static void make_room(cc_tenant_cache_t *c, apr_time_t now)
{
    while (!APR_RING_EMPTY(&c->live, cc_cache_entry_t, link)) {
        cc_cache_entry_t *head = APR_RING_FIRST(&c->live);

        if (head->expires > now && c->count < c->max) {
            break;
        }
        drop(c, head);
    }
}

static cc_cache_entry_t *new_record(cc_tenant_cache_t *c)
{
    cc_cache_entry_t *e;

    if (!APR_RING_EMPTY(&c->spare, cc_cache_entry_t, link)) {
        e = APR_RING_FIRST(&c->spare);
        APR_RING_REMOVE(e, link);
        return e;
    }
    return apr_palloc(c->pool, sizeof(*e));
}

/* Copy s into dst of size n; 0 when it does not fit (NULL counts as ""). */
static int copy_in(char *dst, apr_size_t n, const char *s)
{
    apr_size_t len = s ? strlen(s) : 0;

    if (len >= n) {
        return 0;
    }
    memcpy(dst, s ? s : "", len + 1);
    return 1;
}

int cc_tenant_cache_get(cc_tenant_cache_t *c, const char *key, apr_time_t now,
                        apr_pool_t *p, cc_tenant_cache_value_t *out)
{
    cc_cache_entry_t *e;
    int hit = 0;

    if (!c || !key || !lock(c)) {
        return 0;
    }
    e = apr_hash_get(c->index, key, APR_HASH_KEY_STRING);
    if (e && e->expires <= now) {
        drop(c, e);
    }
    else if (e) {
        /* Copies, so a caller scribbling on its value cannot reach the cache. */
        out->user_status = apr_pstrdup(p, e->user_status);
        out->tenant_status = apr_pstrdup(p, e->tenant_status);
        out->email = apr_pstrdup(p, e->email);
        out->tenant_slug = apr_pstrdup(p, e->slug);
        out->permissions = e->permissions;
        out->platform_admin = e->platform_admin;
        out->generation = e->generation;
        hit = 1;
    }
    unlock(c);
    return hit;
}

apr_status_t cc_tenant_cache_put(cc_tenant_cache_t *c, const char *key,
                                 const cc_tenant_cache_value_t *v, apr_time_t now,
                                 apr_interval_time_t ttl)
{
    cc_cache_entry_t rec, *e;

    if (!c || !key || ttl <= 0) {
        return APR_SUCCESS;
    }
    /* Fill a stack record first: a value too long to cache changes nothing. */
    if (!copy_in(rec.key, sizeof(rec.key), key)
        || !copy_in(rec.user_status, sizeof(rec.user_status), v->user_status)
        || !copy_in(rec.tenant_status, sizeof(rec.tenant_status), v->tenant_status)
        || !copy_in(rec.email, sizeof(rec.email), v->email)
        || !copy_in(rec.slug, sizeof(rec.slug), v->tenant_slug)) {
        return APR_EINVAL;
    }
    rec.permissions = v->permissions;
    rec.platform_admin = v->platform_admin;
    rec.generation = v->generation;
    rec.expires = now + ttl;
    if (!lock(c)) {
        return APR_EGENERAL;
    }
    e = apr_hash_get(c->index, key, APR_HASH_KEY_STRING);
    if (e) {
        drop(c, e);
    }
    make_room(c, now);
    e = new_record(c);
    memcpy(e, &rec, sizeof(*e));
    APR_RING_ELEM_INIT(e, link);
    APR_RING_INSERT_TAIL(&c->live, e, cc_cache_entry_t, link);
    apr_hash_set(c->index, e->key, APR_HASH_KEY_STRING, e);
    c->count++;
    unlock(c);
    return APR_SUCCESS;
}

void cc_tenant_cache_remove(cc_tenant_cache_t *c, const char *key)
{
    cc_cache_entry_t *e;

    if (!c || !key || !lock(c)) {
        return;
    }
    e = apr_hash_get(c->index, key, APR_HASH_KEY_STRING);
    if (e) {
        drop(c, e);
    }
    unlock(c);
}

apr_size_t cc_tenant_cache_count(cc_tenant_cache_t *c)
{
    apr_size_t n;

    if (!c || !lock(c)) {
        return 0;
    }
    n = c->count;
    unlock(c);
    return n;
}

/* FNV-1a of the tenant id, folded onto the slots. */
static apr_size_t gen_slot(const char *tenant_id)
{
    apr_uint32_t h = 2166136261u;
    const unsigned char *s;

    for (s = (const unsigned char *)tenant_id; *s; s++) {
        h = (h ^ *s) * 16777619u;
    }
    return h % CC_TENANT_GEN_SLOTS;
}

apr_uint32_t cc_tenant_gen_read(apr_uint32_t *slots, const char *tenant_id)
{
    return slots && tenant_id ? apr_atomic_read32(&slots[gen_slot(tenant_id)]) : 0;
}

void cc_tenant_gen_bump(apr_uint32_t *slots, const char *tenant_id)
{
    if (slots && tenant_id) {
        apr_atomic_inc32(&slots[gen_slot(tenant_id)]);
    }
}

const char *cc_tenant_cache_key(apr_pool_t *p, const char *user_id, const char *tenant_id)
{
    return apr_pstrcat(p, user_id, "|", tenant_id, NULL);
}
