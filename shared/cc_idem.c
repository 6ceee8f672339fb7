/*
 * cc_idem.c: Idempotency-Key on POST (cc_idem.h, sql/027).
 *
 * The first request with a key inserts its claim and does the work; before its
 * transaction commits, cc_db runs the claim's mark (committed = 1) in it (cc_db_t's
 * commit_mark), so the work and the mark commit together: a claim marked committed is
 * never done again, whatever happens to the request afterwards.  After the handler the
 * answer is stored with the request's hash; when nothing committed, the claim is
 * released and a retry does the work.  A request that finds a claim: the stored answer
 * when its hash is the same (422 when not); a claim still running: it waits, polling,
 * up to CC_IDEM_WAIT; an uncommitted claim older than CC_IDEM_STALE_SECONDS: taken over.
 */
#include <stdlib.h>
#include <string.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "cc_idem.h"
#include "cc_json.h"
#include "cc_log.h"
#include "mod_cc_tenant.h"

/* The poll's pause while another request holds the key. */
#define IDEM_POLL apr_time_from_msec(50)

#define IDEM_KEY " WHERE tenant_id = %s AND scope = %s AND idem_key = %s"

const cc_stmt_t cc_idem_stmts[] = {
    CC_STMT("cc_idem_claim",
            "INSERT IGNORE INTO idempotency_keys (tenant_id, scope, idem_key, owner,"
            " claimed_at) VALUES (%s, %s, %s, %s, UTC_TIMESTAMP(3))"),
    CC_STMT("cc_idem_get",
            "SELECT owner, committed, request_hash, status, location, content_type, body,"
            " claimed_at < UTC_TIMESTAMP(3) - INTERVAL " CC_IDEM_STALE_SECONDS " SECOND,"
            " created_at < UTC_TIMESTAMP() - INTERVAL %s HOUR,"
            " claimed_at < UTC_TIMESTAMP(3) - INTERVAL " CC_IDEM_ANSWER_SECONDS " SECOND"
            " FROM idempotency_keys" IDEM_KEY),
    /* A claim taken over (abandoned and uncommitted, or expired): from its old owner,
     * and only while it still is so (its owner may commit between the read and this). */
    CC_STMT("cc_idem_take",
            "UPDATE idempotency_keys SET owner = %s, claimed_at = UTC_TIMESTAMP(3),"
            " committed = 0, request_hash = NULL, status = NULL, location = NULL,"
            " content_type = NULL, body = NULL, created_at = UTC_TIMESTAMP()"
            IDEM_KEY " AND owner = %s AND ((committed = 0 AND claimed_at < UTC_TIMESTAMP(3)"
            " - INTERVAL " CC_IDEM_STALE_SECONDS " SECOND)"
            " OR created_at < UTC_TIMESTAMP() - INTERVAL %s HOUR)"),
    /* committed counts the request's commits (never back to 0, and always changed: a
     * row the UPDATE finds but leaves as it was counts as not found, and the commit
     * would be refused). */
    CC_STMT("cc_idem_mark",
            "UPDATE idempotency_keys SET committed = IF(committed >= 100, 1, committed + 1)"
            IDEM_KEY " AND owner = %s"),
    CC_STMT("cc_idem_store",
            "UPDATE idempotency_keys SET committed = 1, request_hash = %s, status = %s,"
            " location = %s, content_type = %s, body = %s" IDEM_KEY " AND owner = %s"),
    CC_STMT("cc_idem_release",
            "DELETE FROM idempotency_keys" IDEM_KEY " AND owner = %s AND committed = 0"),
    CC_STMT_END
};

static int key_valid(const char *k)
{
    apr_size_t n = 0;

    for (; k[n]; n++) {
        if (k[n] < 0x21 || k[n] > 0x7e) {
            return 0;
        }
    }
    return n >= 1 && n <= CC_IDEM_KEY_MAX;
}

/* The claim's key columns and one more value (owner, or the mark's). */
static const char **key_args(apr_pool_t *p, const cc_ctx_t *ctx, const char *first,
                             const char *last, int *pn)
{
    const char **a = apr_palloc(p, sizeof(*a) * 6);
    int n = 0;

    if (first) {
        a[n++] = first;
    }
    a[n++] = ctx->principal->tenant_id;
    a[n++] = ctx->idem->scope;
    a[n++] = ctx->idem->key;
    if (last) {
        a[n++] = last;
    }
    *pn = n;
    return a;
}

static cc_error_t *discard(void *baton, const char *data, apr_size_t len)
{
    (void)baton;
    (void)data;
    (void)len;
    return NULL;
}

/* The request's hash once all its body went through it (read now if the handler did not). */
static cc_error_t *request_hash(cc_ctx_t *ctx, const char **phex)
{
    unsigned char out[32];
    apr_off_t total;
    cc_error_t *err;

    if (!ctx->body_read
        && (err = cc_read_body_stream(ctx, ctx->max_body ? ctx->max_body
                                                         : CC_MAX_BODY_DEFAULT,
                                      discard, NULL, &total))) {
        return err;
    }
    cc_sha256_final(&ctx->idem->hash, out);
    *phex = cc_hex(ctx->pool, out, sizeof(out));
    return NULL;
}

/* The stored answer, recorded in ctx as the handler's would be. */
static cc_error_t *replay(cc_ctx_t *ctx, const char **row, const char *hash)
{
    request_rec *r = ctx->r;

    if (!row[2] || strcmp(row[2], hash)) {
        return cc_error_make(ctx->pool, HTTP_UNPROCESSABLE_ENTITY, "idempotency_key_reused",
                             "this Idempotency-Key was used with another request (method,"
                             " path or body)");
    }
    if (row[4]) {
        apr_table_setn(r->headers_out, "Location", row[4]);
    }
    apr_table_setn(r->headers_out, "Idempotent-Replayed", "true");
    ctx->reply_status = (int)apr_atoi64(row[3]);
    if (ctx->reply_status != HTTP_NO_CONTENT) {
        ctx->reply_text = row[6] ? row[6] : "";
        ctx->reply_len = strlen(ctx->reply_text);
        ctx->reply_type = row[5];
    }
    return NULL;
}

cc_error_t *cc_idem_begin(cc_ctx_t *ctx, int *preplay)
{
    request_rec *r = ctx->r;
    const char *key = apr_table_get(r->headers_in, "Idempotency-Key");
    const char *auth = apr_table_get(r->headers_in, "Authorization");
    const cc_platform_cfg_t *cfg = cc_platform_cfg(r);
    apr_time_t until = apr_time_now() + CC_IDEM_WAIT;
    cc_idem_t *idem;
    cc_error_t *err;
    int n;

    *preplay = 0;
    if (!key || r->method_number != M_POST || !ctx->principal || !cfg
        || !CC_IDEMPOTENCY_HOURS(cfg)) {
        return NULL;
    }
    if (!key_valid(key)) {
        return cc_error_make(ctx->pool, HTTP_BAD_REQUEST, CC_ERR_INVALID_REQUEST,
                             "Idempotency-Key must be 1 to %d printable ASCII characters",
                             CC_IDEM_KEY_MAX);
    }
    ctx->idem = idem = apr_pcalloc(ctx->pool, sizeof(*idem));
    idem->key = key;
    auth = cc_bearer_token(auth);
    idem->scope = cc_sha256_hex(ctx->pool, auth, strlen(auth));
    idem->hours = apr_psprintf(ctx->pool, "%" APR_INT64_T_FMT, CC_IDEMPOTENCY_HOURS(cfg));
    if (cc_random_token(ctx->pool, 16, &idem->owner) != APR_SUCCESS) {
        return cc_error_internal(ctx->pool);
    }
    cc_sha256_init(&idem->hash);
    cc_sha256_update(&idem->hash, r->method, strlen(r->method));
    cc_sha256_update(&idem->hash, " ", 1);
    cc_sha256_update(&idem->hash, r->unparsed_uri, strlen(r->unparsed_uri));
    cc_sha256_update(&idem->hash, "\n", 1);
    for (;;) {
        const char **args = key_args(ctx->pool, ctx, NULL, idem->owner, &n);
        const char **row = NULL;
        int nrows = 0;

        /* Columns first, owner last: the INSERT's order.  Its duplicate-key check waits
         * for the first request's mark (a row lock until that commits) and may be chosen
         * as a deadlock's victim: then it looks again after the pause. */
        if ((err = cc_db_exec(ctx->db, "cc_idem_claim", n, args, &nrows))
            && (!cc_error_is_lock_conflict(err) || apr_time_now() >= until)) {
            return err;
        }
        if (err) {
            cc_db_release(ctx->db);
            apr_sleep(IDEM_POLL);
            continue;
        }
        if (nrows == 1) {
            break;                                        /* ours: do the work */
        }
        args = key_args(ctx->pool, ctx, idem->hours, NULL, &n);
        if ((err = cc_db_select_row(ctx->db, "cc_idem_get", n, args, &row, NULL))) {
            return err;
        }
        if (!row) {
            /* Released meanwhile: claim it again (after a pause, within the wait). */
            if (apr_time_now() >= until) {
                return cc_error_unavailable(ctx->pool);
            }
            cc_db_release(ctx->db);
            apr_sleep(IDEM_POLL);
            continue;
        }
        if ((row[8] && !strcmp(row[8], "1"))
            || (!strcmp(row[1], "0") && row[7] && !strcmp(row[7], "1"))) {
            /* Expired, or abandoned before its work committed: take it over. */
            args = key_args(ctx->pool, ctx, idem->owner, row[0], &n);
            args[n++] = idem->hours;
            if ((err = cc_db_exec(ctx->db, "cc_idem_take", n, args, &nrows))) {
                return err;
            }
            if (nrows == 1) {
                break;
            }
            continue;
        }
        if (row[3]) {
            const char *hash;

            if ((err = request_hash(ctx, &hash))) {
                return err;
            }
            ctx->idem = NULL;                             /* not ours to store or free */
            if ((err = replay(ctx, row, hash))) {
                return err;
            }
            *preplay = 1;
            return NULL;
        }
        if (apr_time_now() >= until
            || (strcmp(row[1], "0") && row[9] && !strcmp(row[9], "1"))) {
            /* Waited long enough, or its work committed and no answer came after it:
             * none will (its request failed after the commit, or kept no copy). */
            ctx->idem = NULL;
            return cc_error_conflict(ctx->pool, strcmp(row[1], "0")
                                     ? "the request with this Idempotency-Key was done,"
                                       " but its answer was not kept (it failed after its"
                                       " change, or held a secret): read the result"
                                     : "a request with this Idempotency-Key is still in"
                                       " progress");
        }
        /* Waiting holds no connection (another request may need it). */
        cc_db_release(ctx->db);
        apr_sleep(IDEM_POLL);
    }
    /* Every transaction of the work marks the claim before it commits. */
    idem->mark_args[0] = ctx->principal->tenant_id;
    idem->mark_args[1] = idem->scope;
    idem->mark_args[2] = idem->key;
    idem->mark_args[3] = idem->owner;
    ctx->db->commit_mark = "cc_idem_mark";
    ctx->db->commit_mark_nargs = 4;
    ctx->db->commit_mark_args = idem->mark_args;
    return NULL;
}

void cc_idem_end(cc_ctx_t *ctx, const cc_error_t *err)
{
    cc_idem_t *idem = ctx->idem;
    const char *hash = NULL, **args, *status, *body = NULL, *type = NULL;
    int n;

    if (!idem) {
        return;
    }
    ctx->db->commit_mark = NULL;
    if (err) {
        cc_db_rollback(ctx->db);      /* the release must not ride on a failed transaction */
    }
    if (err || ctx->replied || !ctx->db->changed || request_hash(ctx, &hash)) {
        /* Nothing done to keep (an error rolled it back), or nothing to replay: a retry
         * does it (a claim whose work committed stays, unanswered: 409 to a retry). */
        args = key_args(ctx->pool, ctx, NULL, idem->owner, &n);
        (void)cc_db_exec(ctx->db, "cc_idem_release", n, args, NULL);
        return;
    }
    if (ctx->match.route->flags & CC_ROUTE_SECRET) {
        return;     /* committed, answer not kept: a retry is told so (409) */
    }
    status = apr_itoa(ctx->pool, ctx->reply_status);
    if (ctx->reply_text) {
        body = apr_pstrmemdup(ctx->pool, ctx->reply_text, ctx->reply_len);
        type = ctx->reply_type;
    }
    else if (ctx->reply_body) {
        body = cc_reply_json_text(ctx->pool, ctx->reply_body);
    }
    args = apr_palloc(ctx->pool, sizeof(*args) * 9);
    args[0] = hash;
    args[1] = status;
    args[2] = apr_table_get(ctx->r->headers_out, "Location");
    args[3] = type;
    args[4] = body;
    args[5] = ctx->principal->tenant_id;
    args[6] = idem->scope;
    args[7] = idem->key;
    args[8] = idem->owner;
    if (cc_db_exec(ctx->db, "cc_idem_store", 9, args, &n) || n != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ctx->r, CCLOGNO(00112)
                      "Idempotency-Key: the answer could not be stored; a retry with the"
                      " key will be told its work was done (409)");
    }
}
