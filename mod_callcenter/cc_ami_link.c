/*
 * cc_ami_link.c: the link to Asterisk (issue 14; README "Live calls").
 *
 * One link per httpd node: a mod_watchdog singleton job (cc_job.h) holds one connection
 * to Asterisk's manager interface (AMI), configured by CCAsteriskManager (address),
 * CCAsteriskCredentialFile (the manager user) and CCAsteriskNode (the node's name).
 * Why AMI alone, not ARI: the queue events (a caller joining, abandoning) exist only on
 * AMI (app_queue's messages have no JSON form, so ARI never sends them:
 * ../shared/reference/asterisk-runtime.md §3.5); AMI's channel, dial and bridge events
 * are the ones ARI's subscribeAll would send, on the same connection and in one order;
 * Originate (Async, with ChannelId) and Hangup cover click-to-call and hang-up; and
 * Debian 12's libcurl has no WebSocket support (`curl --version` lists no ws), which
 * ARI's event channel needs.
 *
 * A run of the job lasts at most LINK_RUN: it connects when due (backoff 1 s doubling to
 * LINK_BACKOFF_MAX after each failure), logs in, lists the live channels
 * (CoreShowChannels: calls this node believed live that Asterisk no longer has end
 * here), then reads events until its time is up; the connection stays open between runs
 * (the watchdog calls again within its 100 ms step).  A request never talks to Asterisk:
 * POST /calls and DELETE /calls/{id} leave a command row (call_commands) that a link
 * claims and sends.
 *
 * Events consumed (AMI names): Newchannel (a call's first channel: uniqueid = linkedid),
 * QueueCallerJoin (call.queued), DialBegin to one of our endpoints (call.ringing, the
 * caller's contact attached), DialEnd ANSWER at one of our endpoints (call.answered;
 * the agent on_call), QueueCallerAbandon (call.abandoned), Hangup (of the call's first
 * channel: call.hangup; of an agent's leg: the agent wrap_up), OriginateResponse
 * Failure (a click-to-call that never made a channel ends), CoreShowChannel (resync).
 *
 * Several nodes: each node's link reads the same events.  Acting on one is a
 * transaction that first inserts the event's key (asterisk_event_keys: name and the
 * uniqueid it is about); the node whose insert succeeds acts, the others find the key
 * (their insert waits for the first one's commit) and skip it.  So an event becomes at
 * most one event row and one agent state change, in Asterisk's order per node.
 */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_listen.h>
#include <apr_network_io.h>
#include <apr_strings.h>

#include "cc_ami.h"
#include "cc_api_private.h"
#include "cc_asterisk.h"
#include "cc_audit.h"
#include "cc_calls_private.h"
#include "cc_crypto.h"
#include "cc_helpdesk_rules.h"
#include "cc_job.h"
#include "cc_log.h"
#include "cc_validate.h"

#define LINK_RUN            apr_time_from_sec(1)
#define LINK_RECV_STEP      apr_time_from_msec(100)
#define LINK_CONNECT_TIMEOUT apr_time_from_sec(3)
#define LINK_BACKOFF_MIN    apr_time_from_sec(1)
#define LINK_BACKOFF_MAX    apr_time_from_sec(30)
#define LINK_PING_EVERY     apr_time_from_sec(20)
#define LINK_PING_TIMEOUT   apr_time_from_sec(10)
#define LINK_LOGIN_TIMEOUT  apr_time_from_sec(10)
#define LINK_BEAT_EVERY     apr_time_from_sec(5)
#define LINK_HOUSEKEEP_EVERY apr_time_from_sec(1)
#define LINK_COMMANDS_MAX   "20"
#define LINK_COMMANDS_EVERY apr_time_from_msec(100)
#define LINK_COMMAND_TTL    "60"     /* seconds a command waits for a link */
#define LINK_LOCK_WAIT      "3"      /* seconds one of the link's statements waits for a lock */
#define LINK_ORIGINATE_GRACE "40"    /* seconds a click-to-call may have no channel yet */
#define LINK_PRUNE_ROUNDS   20       /* 1,000-row deletes per prune, at most */
#define LINK_APPLY_TRIES    3        /* runs of an event that met a lock conflict */

/* ---- statements ---- */

static const cc_stmt_t link_stmts[] = {
    /* The link's own lock waits are short (another node holding the key or the call
     * stalls this node's reading of Asterisk): SET STATEMENT bounds them without
     * changing the pooled connection's session. */
    CC_STMT("cc_link_key",
            "SET STATEMENT innodb_lock_wait_timeout = " LINK_LOCK_WAIT " FOR"
            " INSERT IGNORE INTO asterisk_event_keys (source_key) VALUES (%s)"),
    CC_STMT("cc_link_key_seen",
            "SELECT 1 FROM asterisk_event_keys WHERE source_key = %s"),
    CC_STMT("cc_link_keys_prune",
            "DELETE FROM asterisk_event_keys /* cc-lint: no-tenant pruned by age */"
            " WHERE created_at < UTC_TIMESTAMP() - INTERVAL 1 DAY LIMIT 1000"),
    CC_STMT("cc_link_beat",
            "INSERT INTO asterisk_links (node, state, detail, since, heartbeat_at)"
            " VALUES (%s, %s, %s, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
            " ON DUPLICATE KEY UPDATE since = IF(state = VALUES(state), since,"
            " VALUES(since)), state = VALUES(state), detail = VALUES(detail),"
            " heartbeat_at = VALUES(heartbeat_at)"),
    /* The tenant of a channel: its Tenantid or AccountCode when it names a tenant. */
    CC_STMT("cc_link_tenant",
            "SELECT id FROM tenants WHERE id = %s OR id = %s ORDER BY id = %s DESC LIMIT 1"),
    /* One of our endpoints by its Asterisk id: tenant, id, user, extension. */
    CC_STMT("cc_link_endpoint",
            "SELECT e.tenant_id, e.id, e.user_id, e.extension FROM endpoints e"
            " WHERE e.asterisk_id = %s /* cc-lint: no-tenant the id is platform-wide */"),
    /* A DID by the number dialled, as it is and with a '+' before it. */
    CC_STMT("cc_link_did",
            "SELECT d.tenant_id, d.number FROM dids d"
            " WHERE d.number IN (%s, %s)"
            " /* cc-lint: no-tenant a number belongs to one tenant platform-wide */"),
    CC_STMT("cc_link_extension",
            "SELECT id FROM endpoints WHERE tenant_id = %s AND extension = %s"),
    /* Is this a call of ours (a plain read, before any key is claimed)? */
    CC_STMT("cc_link_call_known",
            "SELECT tenant_id FROM live_calls WHERE call_id = %s"
            " /* cc-lint: no-tenant the link learns the tenant here */"),
    CC_STMT("cc_link_call_insert",
            "INSERT INTO live_calls (call_id, tenant_id, direction, state, from_number,"
            " to_number, did, endpoint_id, agent_id, channel, started_at)"
            " VALUES (%s, %s, %s, 'new', %s, %s, %s, %s, %s, %s, UTC_TIMESTAMP())"
            " ON DUPLICATE KEY UPDATE channel = COALESCE(live_calls.channel, VALUES(channel))"),
    CC_STMT("cc_link_call_get",
            "SET STATEMENT innodb_lock_wait_timeout = " LINK_LOCK_WAIT " FOR"
            " SELECT tenant_id, state, queue_id FROM live_calls"
            " WHERE call_id = %s /* cc-lint: no-tenant the link learns the tenant here */"
            " FOR UPDATE"),
    CC_STMT("cc_link_call_queue",
            "UPDATE live_calls lc JOIN call_queues q ON q.tenant_id = lc.tenant_id"
            " AND q.asterisk_name = %s SET lc.queue_id = q.id,"
            " lc.state = IF(lc.state = 'new', 'queued', lc.state)"
            " WHERE lc.tenant_id = %s AND lc.call_id = %s"),
    CC_STMT("cc_link_call_ringing",
            "UPDATE live_calls SET state = IF(state IN ('new', 'queued'), 'ringing', state),"
            " endpoint_id = %s, agent_id = %s WHERE tenant_id = %s AND call_id = %s"
            " AND state <> 'ended'"),
    CC_STMT("cc_link_call_answered",
            "UPDATE live_calls SET state = 'answered',"
            " answered_at = COALESCE(answered_at, UTC_TIMESTAMP()),"
            " endpoint_id = %s, agent_id = %s WHERE tenant_id = %s AND call_id = %s"
            " AND state <> 'ended'"),
    CC_STMT("cc_link_call_end",
            "UPDATE live_calls SET state = 'ended', ended_at = UTC_TIMESTAMP()"
            " WHERE tenant_id = %s AND call_id = %s AND state <> 'ended'"),
    /* After a (re)connect: the calls still open that started before the listing and that
     * no channel Asterisk listed belongs to (a JSON array of linkedids). */
    CC_STMT("cc_link_calls_gone",
            "SELECT lc.tenant_id, lc.call_id FROM live_calls lc"
            " WHERE lc.ended_at IS NULL AND lc.started_at < %s"
            " AND lc.call_id NOT IN (SELECT j.id FROM JSON_TABLE(%s, '$[*]'"
            " COLUMNS (id VARCHAR(150) CHARACTER SET ascii PATH '$')) j)"
            /* (a click-to-call whose channel may not exist yet stays) */
            " AND NOT EXISTS (SELECT 1 FROM call_commands cm WHERE cm.call_id = lc.call_id"
            " AND cm.tenant_id = lc.tenant_id AND cm.kind = 'originate'"
            " AND cm.created_at > UTC_TIMESTAMP(3) - INTERVAL " LINK_ORIGINATE_GRACE
            " SECOND)"
            " /* cc-lint: no-tenant every tenant's calls, as Asterisk has them */"
            " LIMIT 1000"),
    /* The database's clock at a listing (the calls' started_at is the database's). */
    CC_STMT("cc_link_now", "SELECT UTC_TIMESTAMP()"),
    CC_STMT("cc_link_calls_prune",
            "DELETE FROM live_calls WHERE ended_at < UTC_TIMESTAMP() - INTERVAL 1 DAY"
            " /* cc-lint: no-tenant pruned by age */ LIMIT 1000"),
    /* The caller's contact for a screen pop (as GET /contacts/lookup). */
    CC_STMT("cc_link_contact",
            "SELECT c.id, c.name FROM contacts c WHERE c.tenant_id = %s AND c.phone = %s"
            " ORDER BY c.updated_at DESC, c.id DESC LIMIT 1"),
    /* The queue's wrapuptime (s) for an agent leaving a call of it (0: none). */
    CC_STMT("cc_link_wrapuptime",
            "SELECT COALESCE(MAX(rq.wrapuptime), 0) FROM call_queues q"
            " JOIN queues rq ON rq.name = q.asterisk_name"
            " WHERE q.tenant_id = %s AND q.id = %s"),
    /* Commands: claimed (SKIP LOCKED: one link sends each), then marked sent. */
    CC_STMT("cc_link_commands",
            "SELECT id, tenant_id, kind, call_id, channel, context, exten, callerid"
            " FROM call_commands WHERE sent_at IS NULL"
            " AND created_at > UTC_TIMESTAMP(3) - INTERVAL " LINK_COMMAND_TTL " SECOND"
            " /* cc-lint: no-tenant the link sends every tenant's commands */"
            " ORDER BY id LIMIT " LINK_COMMANDS_MAX " FOR UPDATE SKIP LOCKED"),
    /* Commands no link sent in time (every link was down): never sent later. */
    CC_STMT("cc_link_commands_expired",
            "SELECT id, tenant_id, kind, call_id FROM call_commands WHERE sent_at IS NULL"
            " AND created_at <= UTC_TIMESTAMP(3) - INTERVAL " LINK_COMMAND_TTL " SECOND"
            " /* cc-lint: no-tenant the link expires every tenant's commands */"
            " ORDER BY id LIMIT " LINK_COMMANDS_MAX " FOR UPDATE SKIP LOCKED"),
    CC_STMT("cc_link_command_sent",
            "UPDATE call_commands SET sent_at = UTC_TIMESTAMP(3), result = %s"
            " WHERE tenant_id = %s AND id = %s"),
    CC_STMT("cc_link_commands_prune",
            "DELETE FROM call_commands WHERE created_at < UTC_TIMESTAMP() - INTERVAL 1 DAY"
            " /* cc-lint: no-tenant pruned by age */ LIMIT 1000"),
    CC_STMT_END
};

const cc_domain_t cc_ami_link_domain = { "ami_link", NULL, link_stmts, NULL, NULL, NULL };

/* ---- the link's state (one per node: the child holding the watchdog) ---- */

typedef enum { L_DOWN, L_LOGIN, L_SYNC, L_UP } link_phase_e;

typedef struct ami_link_t {
    server_rec *s;
    const cc_api_config_t *cfg;
    const char *node;
    /* Kept across runs (the child's): */
    apr_pool_t *cpool;              /* unmanaged: the connection's socket and reader */
    apr_pool_t *conn;               /* a subpool of cpool per connection */
    apr_socket_t *sock;
    cc_ami_reader_t *rd;
    link_phase_e phase;
    apr_time_t retry_at, backoff, phase_at;
    apr_time_t beat_at, ping_at, housekeep_at, commands_at, sync_at;
    int ping_pending;
    unsigned seq;
    const char *state_logged;       /* the last state written to the log */
    apr_array_header_t *sync_calls; /* linkedids CoreShowChannels listed (in conn) */
    char sync_db_at[32];            /* the database's clock when the listing was asked */
    char detail[256];               /* why the link is down (for the heartbeats) */
} ami_link_t;

/* Log a change of the link's state once (not every retry). */
static void link_log(ami_link_t *L, int level, const char *state, const char *detail)
{
    if (L->state_logged && !strcmp(L->state_logged, state) && strcmp(state, "up")) {
        return;
    }
    L->state_logged = state;
    ap_log_error(APLOG_MARK, level, 0, L->s, CCLOGNO(03958)
                 "Asterisk link %s (%s:%d, node %s)%s%s", state, L->cfg->ami_host,
                 (int)L->cfg->ami_port, L->node, detail ? ": " : "", detail ? detail : "");
}

static cc_error_t *link_beat(ami_link_t *L, cc_db_t *db, const char *state,
                             const char *detail)
{
    const char *args[3] = { L->node, state, detail };

    return cc_db_exec(db, "cc_link_beat", 3, args, NULL);
}

static void link_close(ami_link_t *L, cc_db_t *db, const char *why)
{
    if (L->conn) {
        apr_pool_destroy(L->conn);   /* closes the socket */
    }
    L->conn = NULL;
    L->sock = NULL;
    L->phase = L_DOWN;
    L->backoff = L->backoff ? L->backoff * 2 : LINK_BACKOFF_MIN;
    if (L->backoff > LINK_BACKOFF_MAX) {
        L->backoff = LINK_BACKOFF_MAX;
    }
    /* Up to a quarter more, at random: nodes that lost Asterisk together do not
     * reconnect in step. */
    {
        unsigned char r = 0;

        (void)apr_generate_random_bytes(&r, 1);
        L->retry_at = apr_time_now() + L->backoff + (L->backoff / 4) * r / 255;
    }
    apr_cpystrn(L->detail, why ? why : "", sizeof(L->detail));
    link_log(L, APLOG_WARNING, "down", why);
    if (db) {
        (void)link_beat(L, db, "down", why);
    }
}

static apr_status_t link_send(ami_link_t *L, const char *bytes, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len;
        apr_status_t rv = apr_socket_send(L->sock, bytes, &n);

        if (rv != APR_SUCCESS && !(APR_STATUS_IS_EAGAIN(rv) && n > 0)) {
            return rv;
        }
        bytes += n;
        len -= n;
    }
    return APR_SUCCESS;
}

/* An action; 0 when it could not be built or sent (the link then closes). */
static int link_action(ami_link_t *L, apr_pool_t *p, const char *name, const char *id,
                       int n, const char *const *keys, const char *const *values)
{
    apr_size_t len;
    const char *bytes = cc_ami_action(p, name, id, n, keys, values, &len);

    return bytes && link_send(L, bytes, len) == APR_SUCCESS;
}

static int link_connect(ami_link_t *L, cc_db_t *db)
{
    apr_sockaddr_t *sa;
    apr_status_t rv;

    if (apr_pool_create(&L->conn, L->cpool) != APR_SUCCESS) {
        return 0;
    }
    (void)link_beat(L, db, "connecting", NULL);
    if ((rv = apr_sockaddr_info_get(&sa, L->cfg->ami_host, APR_UNSPEC, L->cfg->ami_port, 0,
                                    L->conn)) != APR_SUCCESS
        || (rv = apr_socket_create(&L->sock, sa->family, SOCK_STREAM, APR_PROTO_TCP,
                                   L->conn)) != APR_SUCCESS
        || (rv = apr_socket_timeout_set(L->sock, LINK_CONNECT_TIMEOUT)) != APR_SUCCESS
        || (rv = apr_socket_connect(L->sock, sa)) != APR_SUCCESS) {
        char buf[120];

        link_close(L, db, apr_psprintf(db->pool, "cannot connect: %s",
                                       apr_strerror(rv, buf, sizeof(buf))));
        return 0;
    }
    apr_socket_opt_set(L->sock, APR_TCP_NODELAY, 1);
    apr_socket_timeout_set(L->sock, LINK_RECV_STEP);
    L->rd = cc_ami_reader_make(L->conn);
    L->sync_calls = apr_array_make(L->conn, 64, sizeof(const char *));
    L->phase = L_LOGIN;
    L->phase_at = apr_time_now();
    L->ping_pending = 0;
    return 1;
}

/* ---- acting on events ---- */

/* An event's key as stored: a long one (a long uniqueid or queue name) as its digest,
 * the column holding 190 bytes. */
static const char *stored_key(apr_pool_t *p, const char *key)
{
    return strlen(key) <= 190 ? key
           : apr_pstrcat(p, "sha256:", cc_sha256_hex(p, key, strlen(key)), NULL);
}

/* Begin acting on the event keyed key: 1 when this node acts (the transaction stays
 * open), 0 when another did (nothing open), -1 on error (*perr). */
static int claim_event(cc_db_t *db, const char *key, cc_error_t **perr)
{
    const char *args[1] = { stored_key(db->pool, key) };
    int n = 0;

    if ((*perr = cc_db_begin(db)) || (*perr = cc_db_exec(db, "cc_link_key", 1, args, &n))) {
        return -1;
    }
    if (n == 0) {
        cc_db_rollback(db);
        return 0;
    }
    return 1;
}

/* The call object (GET /calls' item) as an event's data. */
static cc_error_t *call_event(cc_db_t *db, const char *tenant, const char *call_id,
                              const char *verb, json_t *extra)
{
    json_t *obj;
    cc_error_t *err;
    const char *args[2] = { tenant, call_id };

    if ((err = cc_db_select_one(db, "cc_calls_get", cc_calls_cols, 2, args, &obj))) {
        return err;
    }
    if (!obj) {
        return NULL;
    }
    if (extra) {
        json_object_update(obj, extra);
    }
    return cc_record(db, tenant, &cc_actor_system, "call", verb, call_id, NULL, obj,
                     CC_RECORD_NO_AUDIT | CC_RECORD_TYPE_IS_ACTION);
}

/* One of our endpoints from a channel name (PJSIP/<asterisk id>-<seq>): tenant, id,
 * user, extension (NULL row when it is not ours). */
static cc_error_t *channel_endpoint(cc_db_t *db, apr_pool_t *p, const char *channel,
                                    int is_interface, const char ***prow)
{
    const char *tech, *resource;

    *prow = NULL;
    if (!channel || !cc_ami_channel_parts(p, channel, &tech, &resource, is_interface)
        || strcasecmp(tech, "PJSIP")) {
        return NULL;
    }
    return cc_db_select_row(db, "cc_link_endpoint", 1, &resource, prow, NULL);
}

/* A call's first channel: its row. */
static cc_error_t *on_newchannel(ami_link_t *L, cc_db_t *db, apr_pool_t *p,
                                 const cc_ami_msg_t *m)
{
    const char *uid = cc_ami_get(m, "Uniqueid"), *lid = cc_ami_get(m, "Linkedid");
    const char *tid = cc_ami_get(m, "Tenantid"), *acct = cc_ami_get(m, "AccountCode");
    const char *chan = cc_ami_get(m, "Channel"), *exten = cc_ami_text(p, cc_ami_get(m,
                                                                                   "Exten"), 40);
    const char *from = cc_ami_text(p, cc_ami_get(m, "CallerIDNum"), 80);
    const char *tenant = NULL, *direction = "inbound", *did = NULL, *endpoint = NULL;
    const char *agent = NULL, **row, *args[10];
    cc_error_t *err;
    int act;

    (void)L;
    /* An id we keep and send back to Asterisk (Hangup's Channel) is its uniqueid
     * alphabet ("<epoch>.<n>", "<systemname>-<epoch>.<n>", our "cc-..."): never a
     * "/regex/" or a separator AMI would read. */
    if (!uid || !lid || strcmp(uid, lid) || !cc_valid_id_chars(uid, 150)) {
        return NULL;            /* a later leg of a call, or no usable id */
    }
    /* The caller is one of our endpoints: an outbound or internal call of its tenant. */
    if ((err = channel_endpoint(db, p, chan, 0, &row))) {
        return err;
    }
    if (row) {
        tenant = row[0];
        endpoint = row[1];
        agent = row[2];
        direction = "outbound";
        if (exten) {
            const char *ea[2] = { tenant, exten }, **er;

            if ((err = cc_db_select_row(db, "cc_link_extension", 2, ea, &er, NULL))) {
                return err;
            }
            direction = er ? "internal" : "outbound";
        }
        if (!from) {
            from = row[3];
        }
    }
    else {
        const char *ta[3] = { tid ? tid : "", acct ? acct : "", tid ? tid : "" }, **tr;

        if ((err = cc_db_select_row(db, "cc_link_tenant", 3, ta, &tr, NULL))) {
            return err;
        }
        tenant = tr ? tr[0] : NULL;
        if (exten) {
            const char *da[2] = { exten, apr_pstrcat(p, "+", exten, NULL) }, **dr;

            if ((err = cc_db_select_row(db, "cc_link_did", 2, da, &dr, NULL))) {
                return err;
            }
            if (dr && (!tenant || !strcmp(tenant, dr[0]))) {
                tenant = dr[0];
                did = dr[1];
            }
        }
    }
    if (!tenant) {
        return NULL;            /* not a call of any tenant of ours */
    }
    if ((act = claim_event(db, apr_pstrcat(p, "Newchannel:", uid, NULL), &err)) <= 0) {
        return err;
    }
    args[0] = uid;
    args[1] = tenant;
    args[2] = direction;
    args[3] = from;
    args[4] = exten;
    args[5] = did;
    args[6] = endpoint;
    args[7] = agent;
    args[8] = chan && strlen(chan) <= 150 ? chan : NULL;
    if ((err = cc_db_exec(db, "cc_link_call_insert", 9, args, NULL))) {
        return err;
    }
    return cc_db_commit(db);
}

/* The call (linkedid) locked, with its tenant: NULL row when it is not ours. */
static cc_error_t *lock_call(cc_db_t *db, const char *call_id, const char ***prow)
{
    *prow = NULL;
    if (!call_id || strlen(call_id) > 150) {
        return NULL;
    }
    return cc_db_select_row(db, "cc_link_call_get", 1, &call_id, prow, NULL);
}

/*
 * Begin acting on an event about a call: its key claimed, the call (linkedid) locked.
 * 1: go on, the transaction open and *pcall the call's row (tenant, state, queue_id);
 * 0: nothing more to do (another node acted; the call is not ours, the key committed
 * so no node looks again; or *perr, which the run rolls back).
 */
static int claim_call_event(cc_db_t *db, const char *key, const char *call_id,
                            const char ***pcall, cc_error_t **perr)
{
    if (claim_event(db, key, perr) <= 0 || (*perr = lock_call(db, call_id, pcall))) {
        return 0;
    }
    if (!*pcall) {
        *perr = cc_db_commit(db);
        return 0;
    }
    return 1;
}

static cc_error_t *on_queue_join(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *uid = cc_ami_get(m, "Uniqueid"), *lid = cc_ami_get(m, "Linkedid");
    const char *queue = cc_ami_get(m, "Queue"), **call, *args[3];
    cc_error_t *err = NULL;
    int n = 0;

    if (!uid || !lid || !queue
        || !claim_call_event(db, apr_pstrcat(p, "QueueCallerJoin:", uid, ":", queue, NULL),
                             lid, &call, &err)) {
        return err;
    }
    args[0] = queue;
    args[1] = call[0];
    args[2] = lid;
    /* Only a queue of the call's tenant makes it queued (another's name is not ours to
     * show). */
    if ((err = cc_db_exec(db, "cc_link_call_queue", 3, args, &n))
        || (n && (err = call_event(db, call[0], lid, "queued", NULL)))) {
        return err;
    }
    return cc_db_commit(db);
}

/* DialBegin to one of our endpoints: the call rings there (with the caller's contact). */
static cc_error_t *on_dial_begin(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *duid = cc_ami_get(m, "DestUniqueid"), *dlid = cc_ami_get(m, "DestLinkedid");
    const char **call, **ep, *args[4], **contact;
    json_t *extra;
    cc_error_t *err = NULL;

    if (!duid || !dlid) {
        return NULL;
    }
    if ((err = channel_endpoint(db, p, cc_ami_get(m, "DestChannel"), 0, &ep)) || !ep) {
        return err;
    }
    if (!claim_call_event(db, apr_pstrcat(p, "DialBegin:", duid, NULL), dlid, &call, &err)) {
        return err;
    }
    if (strcmp(call[0], ep[0])) {
        return cc_db_commit(db);        /* another tenant's phone: not this call's */
    }
    args[0] = ep[1];
    args[1] = ep[2];
    args[2] = call[0];
    args[3] = dlid;
    if ((err = cc_db_exec(db, "cc_link_call_ringing", 4, args, NULL))) {
        return err;
    }
    /* The screen pop: the caller's contact, as GET /contacts/lookup finds it. */
    extra = cc_json_object(p);
    json_object_set_new(extra, "contact", json_null());
    {
        const char *caller = cc_phone_normalise(p, cc_ami_text(p, cc_ami_get(m, "CallerIDNum"),
                                                               80));
        const char *ca[2] = { call[0], caller };

        if (caller) {
            if ((err = cc_db_select_row(db, "cc_link_contact", 2, ca, &contact, NULL))) {
                return err;
            }
            if (contact) {
                json_object_set_new(extra, "contact",
                                    json_pack("{s:I,s:s}", "id",
                                              (json_int_t)apr_atoi64(contact[0]),
                                              "name", contact[1]));
            }
        }
    }
    if ((err = call_event(db, call[0], dlid, "ringing", extra))) {
        return err;
    }
    return cc_db_commit(db);
}

/* DialEnd ANSWER at one of our endpoints: answered, and the agent on a call. */
static cc_error_t *on_dial_end(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *duid = cc_ami_get(m, "DestUniqueid"), *dlid = cc_ami_get(m, "DestLinkedid");
    const char *status = cc_ami_get(m, "DialStatus"), **call, **ep, *args[4];
    cc_error_t *err = NULL;
    int far = 0;

    if (!duid || !dlid || !status || strcmp(status, "ANSWER")) {
        return NULL;
    }
    /* Answered at one of our endpoints, or a call one of our endpoints placed answered
     * by its far end (a trunk): the agent of that endpoint is on the call. */
    if ((err = channel_endpoint(db, p, cc_ami_get(m, "DestChannel"), 0, &ep))
        || (!ep && (far = 1)
            && (err = channel_endpoint(db, p, cc_ami_get(m, "Channel"), 0, &ep)))
        || !ep) {
        return err;
    }
    if (!claim_call_event(db, apr_pstrcat(p, "DialEnd:", duid, ":ANSWER", NULL), dlid, &call,
                          &err)) {
        return err;
    }
    if (strcmp(call[0], ep[0]) || (far && !strcmp(call[1], "answered"))) {
        /* (another tenant's phone; or a far end answering a call already answered at
         * our endpoint, as a click-to-call's destination does: not the call's answer) */
        return cc_db_commit(db);
    }
    args[0] = ep[1];
    args[1] = ep[2];
    args[2] = call[0];
    args[3] = dlid;
    if ((err = cc_db_exec(db, "cc_link_call_answered", 4, args, NULL))
        || (err = call_event(db, call[0], dlid, "answered", NULL))
        || (ep[2] && (err = cc_agents_follow_call(db, p, call[0], ep[2], "on_call", 0)))) {
        return err;
    }
    /* An internal call: the agent whose endpoint placed it is on it too. */
    if (!far) {
        const char **cep;

        if ((err = channel_endpoint(db, p, cc_ami_get(m, "Channel"), 0, &cep))) {
            return err;
        }
        if (cep && cep[2] && !strcmp(cep[0], call[0]) && (!ep[2] || strcmp(cep[2], ep[2]))
            && (err = cc_agents_follow_call(db, p, call[0], cep[2], "on_call", 0))) {
            return err;
        }
    }
    return cc_db_commit(db);
}

static cc_error_t *on_abandon(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *uid = cc_ami_get(m, "Uniqueid"), *lid = cc_ami_get(m, "Linkedid"), **call;
    cc_error_t *err = NULL;

    if (!uid || !lid
        || !claim_call_event(db, apr_pstrcat(p, "QueueCallerAbandon:", uid, NULL), lid,
                             &call, &err)
        || (err = call_event(db, call[0], lid, "abandoned", NULL))) {
        return err;
    }
    return cc_db_commit(db);
}

/* End a call (its first channel hung up, or Asterisk no longer has it): call.hangup. */
static cc_error_t *end_call(cc_db_t *db, apr_pool_t *p, const char *call_id)
{
    const char **call, *args[2];
    cc_error_t *err = NULL;
    int n = 0;

    /* Most channels are no call of ours: one primary key probe, no key claimed. */
    if (!call_id || strlen(call_id) > 150
        || (err = cc_db_select_row(db, "cc_link_call_known", 1, &call_id, &call, NULL))
        || !call) {
        return err;
    }
    if (!claim_call_event(db, apr_pstrcat(p, "Hangup:", call_id, NULL), call_id, &call,
                          &err)) {
        return err;
    }
    args[0] = call[0];
    args[1] = call_id;
    if ((err = cc_db_exec(db, "cc_link_call_end", 2, args, &n))
        || (n && (err = call_event(db, call[0], call_id, "hangup", NULL)))) {
        return err;
    }
    return cc_db_commit(db);
}

static cc_error_t *on_hangup(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *uid = cc_ami_get(m, "Uniqueid"), *lid = cc_ami_get(m, "Linkedid");
    const char **ep, **call;
    cc_error_t *err;
    int act;

    if (!uid || !lid) {
        return NULL;
    }
    /* An agent's leg: wrap-up (the queue's wrapuptime), then available. */
    if ((err = channel_endpoint(db, p, cc_ami_get(m, "Channel"), 0, &ep))) {
        return err;
    }
    if (ep && ep[2]) {
        const char *k = stored_key(p, apr_pstrcat(p, "DialEnd:", uid, ":ANSWER", NULL));
        const char **seen;

        /* Only a leg that was answered (a call-waiting leg that only rang is not the
         * agent's call ending), or the agent's own first channel of a call. */
        if ((err = cc_db_select_row(db, "cc_link_key_seen", 1, &k, &seen, NULL))) {
            return err;
        }
        if (!seen && strcmp(uid, lid)) {
            return end_call(db, p, uid);
        }
        if ((act = claim_event(db, apr_pstrcat(p, "Hangup:", uid, ":agent", NULL), &err))
            < 0) {
            return err;
        }
        if (act) {
            const char *wrap = "0", **w;

            if ((err = lock_call(db, lid, &call))) {
                return err;
            }
            if (call && strcmp(call[0], ep[0])) {
                cc_db_rollback(db);         /* another tenant's call at this phone */
                return end_call(db, p, uid);
            }
            if (call && call[2]) {
                const char *wa[2] = { call[0], call[2] };

                if ((err = cc_db_select_row(db, "cc_link_wrapuptime", 2, wa, &w, NULL))) {
                    return err;
                }
                wrap = w && w[0] ? w[0] : "0";
            }
            if ((err = cc_agents_follow_call(db, p, ep[0], ep[2], "wrap_up",
                                             (int)apr_atoi64(wrap)))
                || (err = cc_db_commit(db))) {
                return err;
            }
        }
    }
    /* The call whose first channel this was ends, whatever linkedid the channel has by
     * now (a bridge merge gives it the older call's). */
    return end_call(db, p, uid);
}

/* A click-to-call whose first channel never came (OriginateResponse Failure with no
 * channel): the call ends. */
static cc_error_t *on_originate_response(cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *resp = cc_ami_get(m, "Response"), *id = cc_ami_get(m, "ActionID");

    if (!resp || strcasecmp(resp, "Failure") || !id || strncmp(id, "cc-originate-", 13)) {
        return NULL;
    }
    return end_call(db, p, id + 13);
}

/* ---- resync (CoreShowChannels) ---- */

static cc_error_t *sync_done(ami_link_t *L, cc_db_t *db, apr_pool_t *p)
{
    json_t *ids = cc_json_array(p);
    const char *args[2];
    json_t *rows = NULL;
    int i;
    cc_error_t *err;
    static const cc_col_t gone_cols[] = { { "tenant", CC_COL_STR }, { "call", CC_COL_STR },
                                          CC_COL_END };

    for (i = 0; i < L->sync_calls->nelts; i++) {
        json_array_append_new(ids, json_string(APR_ARRAY_IDX(L->sync_calls, i, const char *)));
    }
    args[0] = L->sync_db_at[0] ? L->sync_db_at : cc_epoch_to_sql(p, apr_time_sec(L->sync_at));
    args[1] = cc_json_dump_sorted(p, ids);
    if ((err = cc_db_select(db, "cc_link_calls_gone", gone_cols, 2, args, &rows, NULL))) {
        return err;
    }
    for (i = 0; i < (int)json_array_size(rows); i++) {
        const char *call_id = cc_json_str(json_array_get(rows, i), "call");

        if (call_id && (err = end_call(db, p, call_id))) {
            return err;
        }
    }
    apr_array_clear(L->sync_calls);
    return NULL;
}

/* A channel Asterisk lists: the call it belongs to stays; a call's first channel this
 * node has not seen is created as Newchannel would (an answered one from its state
 * comes as it is: its agent's leg shows it). */
static cc_error_t *on_show_channel(ami_link_t *L, cc_db_t *db, apr_pool_t *p,
                                   const cc_ami_msg_t *m)
{
    const char *lid = cc_ami_get(m, "Linkedid");

    L->phase_at = apr_time_now();       /* a long listing is not a silent one */
    if (lid && strlen(lid) <= 150) {
        APR_ARRAY_PUSH(L->sync_calls, const char *) = apr_pstrdup(L->conn, lid);
    }
    return on_newchannel(L, db, p, m);
}

/* ---- commands (POST /calls, DELETE /calls/{id}) ---- */

static cc_error_t *send_commands(ami_link_t *L, cc_db_t *db, apr_pool_t *p)
{
    static const cc_col_t cmd_cols[] = {
        { "id", CC_COL_STR }, { "tenant", CC_COL_STR }, { "kind", CC_COL_STR },
        { "call_id", CC_COL_STR }, { "channel", CC_COL_STR }, { "context", CC_COL_STR },
        { "exten", CC_COL_STR }, { "callerid", CC_COL_STR }, CC_COL_END
    };
    json_t *rows;
    cc_error_t *err;
    size_t i;

    if ((err = cc_db_begin(db))
        || (err = cc_db_select(db, "cc_link_commands", cmd_cols, 0, NULL, &rows, NULL))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *c = json_array_get(rows, i);
        const char *kind = cc_json_str(c, "kind"), *call_id = cc_json_str(c, "call_id");
        const char *args[3];
        int ok;

        if (!strcmp(kind, "originate")) {
            /* Timeout in ms (AMI's unit); the ChannelId is our call_id; without a
             * CallerID (the last pair) the channel shows the endpoint's own. */
            static const char *const keys[] = { "Channel", "Context", "Exten", "Priority",
                                                "Timeout", "Async", "ChannelId",
                                                "CallerID" };
            const char *values[8] = { cc_json_str(c, "channel"), cc_json_str(c, "context"),
                                      cc_json_str(c, "exten"), "1", "30000", "true", call_id,
                                      cc_json_str(c, "callerid") };

            ok = link_action(L, p, "Originate",
                             apr_pstrcat(p, "cc-originate-", call_id, NULL),
                             values[7] ? 8 : 7, keys, values);
        }
        else {
            static const char *const keys[] = { "Channel" };
            const char *values[1] = { call_id };

            ok = link_action(L, p, "Hangup", apr_pstrcat(p, "cc-hangup-", call_id, NULL), 1,
                             keys, values);
        }
        args[0] = ok ? "sent" : "not sent: the link closed";
        args[1] = cc_json_str(c, "tenant");
        args[2] = cc_json_str(c, "id");
        if ((err = cc_db_exec(db, "cc_link_command_sent", 3, args, NULL))) {
            return err;
        }
        if (!ok) {
            if ((err = cc_db_commit(db))) {
                return err;
            }
            link_close(L, db, "could not send an action");
            return NULL;
        }
    }
    return cc_db_commit(db);
}

/* Commands older than LINK_COMMAND_TTL are not sent: a click-to-call a link never
 * took ends (call.hangup), so its ringing does not start minutes later. */
static cc_error_t *expire_commands(cc_db_t *db, apr_pool_t *p)
{
    static const cc_col_t cols[] = {
        { "id", CC_COL_STR }, { "tenant", CC_COL_STR }, { "kind", CC_COL_STR },
        { "call_id", CC_COL_STR }, CC_COL_END
    };
    json_t *rows;
    cc_error_t *err;
    size_t i;

    if ((err = cc_db_begin(db))
        || (err = cc_db_select(db, "cc_link_commands_expired", cols, 0, NULL, &rows, NULL))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *c = json_array_get(rows, i);
        const char *args[3] = { "expired: no link to Asterisk took it in time",
                                cc_json_str(c, "tenant"), cc_json_str(c, "id") };

        if ((err = cc_db_exec(db, "cc_link_command_sent", 3, args, NULL))) {
            return err;
        }
    }
    if ((err = cc_db_commit(db))) {
        return err;
    }
    for (i = 0; i < json_array_size(rows); i++) {
        const json_t *c = json_array_get(rows, i);

        if (!strcmp(cc_json_str(c, "kind"), "originate")
            && (err = end_call(db, p, cc_json_str(c, "call_id")))) {
            return err;
        }
    }
    return NULL;
}

/* ---- the run ---- */

static cc_error_t *dispatch(ami_link_t *L, cc_db_t *db, apr_pool_t *p, const cc_ami_msg_t *m)
{
    const char *ev = cc_ami_get(m, "Event"), *resp = cc_ami_get(m, "Response");
    const char *id = cc_ami_get(m, "ActionID");

    if (cc_ami_get(m, "Banner")) {
        /* The event classes the link reads: call (channels, dials, hang-ups, originate
         * results) and agent (queue callers); not dialplan, VarSet and the rest. */
        static const char *const keys[] = { "Username", "Secret", "Events" };
        const char *values[3] = { L->cfg->ami_user, L->cfg->ami_secret, "call,agent" };

        if (!link_action(L, p, "Login", "cc-login", 3, keys, values)) {
            link_close(L, db, "could not send the login");
        }
        return NULL;
    }
    if (resp && id && !ev) {
        if (!strcmp(id, "cc-sync") && strcasecmp(resp, "Success")) {
            link_close(L, db, apr_psprintf(p, "CoreShowChannels refused (the AMI user needs"
                                              " write=reporting or system): %s",
                                           cc_ami_text(p, cc_ami_get(m, "Message"), 120)));
            return NULL;
        }
        if (!strcmp(id, "cc-login")) {
            if (strcasecmp(resp, "Success")) {
                link_close(L, db, apr_psprintf(p, "login refused: %s",
                                               cc_ami_text(p, cc_ami_get(m, "Message"), 120)));
                return NULL;
            }
            L->phase = L_SYNC;
            L->sync_at = apr_time_now();
            L->phase_at = L->sync_at;
            {
                const char **now;
                cc_error_t *err = cc_db_select_row(db, "cc_link_now", 0, NULL, &now, NULL);

                if (err) {
                    return err;
                }
                apr_cpystrn(L->sync_db_at, now && now[0] ? now[0] : "", sizeof(L->sync_db_at));
            }
            if (!link_action(L, p, "CoreShowChannels", "cc-sync", 0, NULL, NULL)) {
                link_close(L, db, "could not send CoreShowChannels");
            }
            return NULL;
        }
        if (!strcmp(id, "cc-ping")) {
            L->ping_pending = 0;
            L->ping_at = apr_time_now() + LINK_PING_EVERY;
        }
        if (!strncmp(id, "cc-originate-", 13) || !strncmp(id, "cc-hangup-", 10)) {
            if (strcasecmp(resp, "Success")) {
                ap_log_error(APLOG_MARK, APLOG_INFO, 0, L->s, CCLOGNO(03959)
                             "Asterisk refused %s: %s", id,
                             cc_ami_text(p, cc_ami_get(m, "Message"), 120));
                if (!strncmp(id, "cc-originate-", 13)) {
                    return end_call(db, p, id + 13);
                }
            }
        }
        return NULL;
    }
    if (!ev) {
        return NULL;
    }
    if (!strcasecmp(ev, "CoreShowChannel")) {
        return on_show_channel(L, db, p, m);
    }
    if (!strcasecmp(ev, "CoreShowChannelsComplete")) {
        cc_error_t *err = sync_done(L, db, p);

        if (!err) {
            L->phase = L_UP;
            L->backoff = 0;
            link_log(L, APLOG_NOTICE, "up", NULL);
            err = link_beat(L, db, "up", NULL);
        }
        return err;
    }
    if (!strcasecmp(ev, "Newchannel")) {
        return on_newchannel(L, db, p, m);
    }
    if (!strcasecmp(ev, "QueueCallerJoin")) {
        return on_queue_join(db, p, m);
    }
    if (!strcasecmp(ev, "DialBegin")) {
        return on_dial_begin(db, p, m);
    }
    if (!strcasecmp(ev, "DialEnd")) {
        return on_dial_end(db, p, m);
    }
    if (!strcasecmp(ev, "QueueCallerAbandon")) {
        return on_abandon(db, p, m);
    }
    if (!strcasecmp(ev, "Hangup")) {
        return on_hangup(db, p, m);
    }
    if (!strcasecmp(ev, "OriginateResponse")) {
        return on_originate_response(db, p, m);
    }
    return NULL;
}

/* A prune by age in 1,000-row deletes until one deletes fewer (at most
 * LINK_PRUNE_ROUNDS: the keys of 50 calls/s come at a few hundred a second). */
static cc_error_t *prune(cc_db_t *db, const char *label)
{
    cc_error_t *err;
    int i, n = 0;

    for (i = 0; i < LINK_PRUNE_ROUNDS; i++) {
        if ((err = cc_db_exec(db, label, 0, NULL, &n)) || n < 1000) {
            return err;
        }
    }
    return NULL;
}

static cc_error_t *housekeep(ami_link_t *L, cc_db_t *db, apr_pool_t *p, apr_time_t now)
{
    cc_error_t *err;

    if (now >= L->beat_at) {
        L->beat_at = now + LINK_BEAT_EVERY;
        if ((err = link_beat(L, db, L->phase == L_UP ? "up" : L->phase == L_DOWN ? "down"
                                                                          : "connecting",
                             L->phase == L_DOWN && L->detail[0] ? L->detail : NULL))
            || (err = prune(db, "cc_link_keys_prune"))
            || (err = prune(db, "cc_link_calls_prune"))
            || (err = prune(db, "cc_link_commands_prune"))) {
            return err;
        }
    }
    /* A ping every LINK_PING_EVERY; no answer within LINK_PING_TIMEOUT closes the link
     * (its answer sets ping_at to the next one). */
    if (L->phase == L_UP && now >= L->ping_at) {
        if (L->ping_pending) {
            link_close(L, db, "Asterisk did not answer a ping");
            return NULL;
        }
        L->ping_pending = 1;
        L->ping_at = now + LINK_PING_TIMEOUT;
        if (!link_action(L, p, "Ping", "cc-ping", 0, NULL, NULL)) {
            link_close(L, db, "could not send a ping");
            return NULL;
        }
    }
    if ((L->phase == L_LOGIN || L->phase == L_SYNC) && now - L->phase_at > LINK_LOGIN_TIMEOUT) {
        link_close(L, db, "no answer to the login or the channel listing");
        return NULL;
    }
    if (now < L->housekeep_at) {
        return NULL;
    }
    L->housekeep_at = now + LINK_HOUSEKEEP_EVERY;
    return (err = expire_commands(db, p)) ? err : cc_agents_wrap_up_due(db, p);
}

static cc_error_t *link_run(cc_db_t *db, void *data)
{
    ami_link_t *L = data;
    apr_time_t start = apr_time_now(), now;
    apr_pool_t *p;
    cc_error_t *err = NULL;

    if (!L->cpool && apr_pool_create_unmanaged_ex(&L->cpool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    if (!L->sock) {
        if (start < L->retry_at || !link_connect(L, db)) {
            /* Down: the heartbeat goes on (with why), and wrap-ups end meanwhile too. */
            if (start >= L->beat_at) {
                L->beat_at = start + LINK_BEAT_EVERY;
                if ((err = link_beat(L, db, L->sock ? "connecting" : "down",
                                     L->detail[0] ? L->detail : NULL))) {
                    return err;
                }
            }
            if (start < L->housekeep_at) {
                return NULL;
            }
            L->housekeep_at = start + LINK_HOUSEKEEP_EVERY;
            return cc_agents_wrap_up_due(db, db->pool);
        }
    }
    if (apr_pool_create(&p, db->pool) != APR_SUCCESS) {
        return NULL;
    }
    while (L->sock && (now = apr_time_now()) - start < LINK_RUN) {
        apr_size_t room, n;
        char *buf = cc_ami_reader_space(L->rd, &room);
        cc_ami_msg_t *m;
        const char *perr;
        apr_status_t rv;

        apr_pool_clear(p);
        if ((err = housekeep(L, db, p, now)) || !L->sock) {
            break;
        }
        if (L->phase == L_UP && now >= L->commands_at) {
            L->commands_at = now + LINK_COMMANDS_EVERY;
            if ((err = send_commands(L, db, p))) {
                break;
            }
        }
        if (!L->sock) {
            break;
        }
        n = room;
        rv = room ? apr_socket_recv(L->sock, buf, &n) : APR_SUCCESS;
        if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv) && !APR_STATUS_IS_EAGAIN(rv)) {
            char eb[120];

            link_close(L, db, APR_STATUS_IS_EOF(rv) ? "Asterisk closed the connection"
                              : apr_psprintf(p, "read failed: %s",
                                             apr_strerror(rv, eb, sizeof(eb))));
            break;
        }
        if (rv == APR_SUCCESS && n > 0) {
            cc_ami_reader_wrote(L->rd, n);
        }
        while (L->sock && !(perr = cc_ami_reader_next(L->rd, p, &m)) && m) {
            int tries = 0;

            /* A lock conflict (another node's link on the same key or call) is run
             * again, as a request would be; anything else is logged and the next event
             * read. */
            while ((err = dispatch(L, db, p, m)) && err->lock_conflict
                   && ++tries < LINK_APPLY_TRIES) {
                cc_db_rollback(db);
                cc_db_attempt(db);
                apr_sleep(apr_time_from_msec(5 * tries));
            }
            if (err) {
                cc_db_rollback(db);
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, L->s, CCLOGNO(03960)
                             "Asterisk link: an event was not applied: %s (%s)",
                             err->message, err->code);
                if (err->status == HTTP_SERVICE_UNAVAILABLE) {
                    /* The database is away (or the event kept meeting lock conflicts):
                     * read nothing more until it is back, and learn what changed
                     * meanwhile from a new listing. */
                    link_close(L, NULL, err->lock_conflict
                                        ? "an event kept meeting lock conflicts"
                                        : "the database is unavailable");
                    break;
                }
                err = NULL;
            }
        }
        if (L->sock && perr) {
            link_close(L, db, perr);
        }
    }
    apr_pool_destroy(p);
    return err;
}

/* The child's exit: the link it held says it is down (another child or node takes
 * over; POST /calls does not count on it meanwhile). */
static cc_error_t *link_stop(cc_db_t *db, void *data)
{
    ami_link_t *L = data;

    if (!L->cpool) {
        return NULL;            /* not this child's link */
    }
    if (L->conn) {
        apr_pool_destroy(L->conn);
        L->conn = NULL;
        L->sock = NULL;
    }
    link_log(L, APLOG_NOTICE, "down", "httpd child stopping");
    return link_beat(L, db, "down", "httpd child stopping");
}

/* ---- configuration ---- */

static cc_api_config_t *cmd_cfg(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &callcenter_module);
}

/* The link is the node's (the main server's job): a virtual host's would never run. */
static const char *main_only(cmd_parms *cmd)
{
    return cmd->server->is_virtual
           ? apr_pstrcat(cmd->pool, cmd->cmd->name, " belongs to the main server (the"
                         " node's link), not to a <VirtualHost>", NULL)
           : NULL;
}

const char *cc_ami_set_manager(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = cmd_cfg(cmd);
    char *host, *scope;
    apr_port_t port;
    const char *bad = main_only(cmd);

    (void)dummy;
    if (bad) {
        return bad;
    }
    if (apr_parse_addr_port(&host, &scope, &port, arg, cmd->pool) != APR_SUCCESS || !host
        || scope || port == 0) {
        return "CCAsteriskManager must be host:port (Asterisk's manager interface, e.g. "
               "127.0.0.1:5038)";
    }
    cfg->ami_host = host;
    cfg->ami_port = port;
    return NULL;
}

/* "username:secret" on one line (the manager.conf section and its secret). */
const char *cc_ami_set_credential_file(cmd_parms *cmd, void *dummy, const char *arg)
{
    cc_api_config_t *cfg = cmd_cfg(cmd);
    const char *path = ap_server_root_relative(cmd->pool, arg), *secret, *err, *colon;

    (void)dummy;
    if ((err = main_only(cmd))) {
        return err;
    }
    if (!path) {
        return apr_psprintf(cmd->pool, "%s: invalid path '%s'", cmd->cmd->name, arg);
    }
    if (cc_secret_file_line(cmd->pool, path, "Asterisk manager credential file", 3,
                            &secret, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err);
    }
    colon = strchr(secret, ':');
    if (!colon || colon == secret || !colon[1]) {
        return apr_psprintf(cmd->pool, "%s: '%s' must hold username:secret", cmd->cmd->name,
                            path);
    }
    cfg->ami_user = apr_pstrmemdup(cmd->pool, secret, (apr_size_t)(colon - secret));
    cfg->ami_secret = colon + 1;
    return NULL;
}

const char *cc_ami_set_node(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *bad = main_only(cmd);

    (void)dummy;
    if (bad) {
        return bad;
    }
    if (!cc_valid_text(arg, 1, 200)) {
        return "CCAsteriskNode must be 1 to 200 characters";
    }
    cmd_cfg(cmd)->ami_node = arg;
    return NULL;
}

const char *cc_ami_node(apr_pool_t *p, const cc_api_config_t *cfg)
{
    char host[APRMAXHOSTLEN + 1];

    if (cfg->ami_node) {
        return cfg->ami_node;
    }
    if (apr_gethostname(host, sizeof(host), p) != APR_SUCCESS) {
        apr_cpystrn(host, "localhost", sizeof(host));
    }
    return apr_psprintf(p, "%s:%d", host,
                        ap_listeners && ap_listeners->bind_addr
                            ? (int)ap_listeners->bind_addr->port : 0);
}

int cc_ami_link_schedule(apr_pool_t *pconf, server_rec *s)
{
    const cc_api_config_t *cfg = ap_get_module_config(s->module_config, &callcenter_module);
    ami_link_t *L;
    cc_job_t *j;

    if (!cfg->ami_host || !cfg->ami_user) {
        return OK;              /* (no link; a missing user: check_config refused) */
    }
    L = apr_pcalloc(pconf, sizeof(*L));
    L->s = s;
    L->cfg = cfg;
    L->node = cc_ami_node(pconf, cfg);
    j = apr_pcalloc(pconf, sizeof(*j));
    j->name = "cc-asterisk-link";
    j->run = link_run;
    j->stop = link_stop;
    j->data = L;
    return cc_job_schedule(pconf, s, j, apr_time_from_msec(100));
}
