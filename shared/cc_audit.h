/**
 * @file cc_audit.h
 * @brief (glue) Recording a change: its audit entry and its event, in the caller's
 *        transaction, written by one call.
 *
 * A change is an entity ("did"), a verb ("create") and the entity's id; its audit action
 * is "did.create" and its event type "did.created" (cc_change_names).  The tenant and the
 * actor are explicit, so the same call serves a request, a public route, a watchdog job
 * and a provider's webhook.  Every JSON value passed here is borrowed.
 */
#ifndef CC_AUDIT_H
#define CC_AUDIT_H

#include <apr_optional.h>

#include "cc_http.h"

/** Who made a change (audit_logs.actor_type). */
typedef enum {
    CC_ACTOR_USER,        /**< a user of the tenant (id = user id) */
    CC_ACTOR_SYSTEM,      /**< a background job (no id) */
    CC_ACTOR_VISITOR,     /**< a chat visitor (id = the visitor's session) */
    CC_ACTOR_PROVIDER     /**< an outside system's callback (id = the provider's name) */
} cc_actor_kind_e;

typedef struct cc_actor_t {
    cc_actor_kind_e kind;
    const char *id;           /**< see cc_actor_kind_e; NULL for the system */
    const char *email;        /**< a user's, when known (else looked up in the tenant) */
    const char *ip;           /**< the client's address, NULL outside a request */
    const char *user_agent;   /**< NULL outside a request */
    const char *request_id;   /**< NULL outside a request */
} cc_actor_t;

/**
 * mod_cc_tenant's node-wide principal-cache invalidation for tenant_id (every cached
 * principal whose home tenant it is becomes stale in every process of this node).
 */
APR_DECLARE_OPTIONAL_FN(void, cc_tenant_principals_changed,
                        (server_rec *s, const char *tenant_id));

/**
 * The change being made alters who may do what in tenant_id (a user's status, roles or
 * deletion, a role's permissions, the tenant's status): once the open transaction
 * commits, every cached principal of that tenant on this node is dropped.  Other nodes
 * see the change within CCTenantCacheTTL.  A no-op without mod_cc_tenant.
 */
void cc_ctx_principals_changed(cc_ctx_t *ctx, const char *tenant_id);

/**
 * The last-admin guard.  A change that could take users.write or roles.manage from the
 * last active user holding both (disabling, deleting, re-roling a user; changing or
 * deleting a role) calls cc_admin_guard_before inside its transaction, before its
 * writes (*phad: the tenant has such a user now), and cc_admin_guard_after after them:
 * 409 conflict when the tenant had one and would have none.  The second read share-locks
 * what it reads, so two such changes at once serialise (or deadlock, and the loser is
 * retried) instead of both passing on what each saw before the other.
 */
cc_error_t *cc_admin_guard_before(cc_ctx_t *ctx, int *phad);
cc_error_t *cc_admin_guard_after(cc_ctx_t *ctx, int had);

/** The background job actor. */
extern const cc_actor_t cc_actor_system;

/** The request's principal as the actor (its user, with the client's address). */
const cc_actor_t *cc_ctx_actor(cc_ctx_t *ctx);

/** A chat visitor acting on its session (id; may be set later), with the client's
 * address (as cc_ctx_actor_user). */
cc_actor_t *cc_ctx_actor_visitor(cc_ctx_t *ctx, const char *session_id);

/** A user acting without a principal (login, refresh), with the client's address. */
const cc_actor_t *cc_ctx_actor_user(cc_ctx_t *ctx, const char *user_id);

/** What cc_record writes. */
#define CC_RECORD_BOTH      0   /**< the audit entry and the event */
#define CC_RECORD_NO_EVENT  1   /**< only the audit entry (logins, password changes) */
#define CC_RECORD_NO_AUDIT  2   /**< only the event (a change derived from an audited one) */
/** Or'ed in: the event's type is the action itself, for an event named as a thing rather
 *  than a change ("chat.message", not "chat.messageed"). */
#define CC_RECORD_TYPE_IS_ACTION 4
/** Or'ed in: commit the open transaction in the same round trip (cc_db_commit_by): the
 *  record is the write's last statement. */
#define CC_RECORD_COMMIT 8
/** Or'ed in: the tenant's dids_count goes up by one, refused with 409 quota_exceeded
 *  past max_dids (a DID create), or down by one (a delete).  With CC_RECORD_COMMIT the
 *  tenant row is locked only inside the server, not across a round trip. */
#define CC_RECORD_DIDS_ADD 16
#define CC_RECORD_DIDS_REMOVE 32

/**
 * Record a change of entity (entity_id) by actor in tenant_id: an audit_logs row with
 * changes (may be NULL) and an events row with data (may be NULL), as what says, in one
 * round trip (CALL cc_record, sql/024).
 */
cc_error_t *cc_record(cc_db_t *db, const char *tenant_id, const cc_actor_t *actor,
                      const char *entity, const char *verb, const char *entity_id,
                      const json_t *changes, const json_t *data, int what);

/** cc_record in the principal's tenant, by the principal. */
cc_error_t *cc_ctx_record(cc_ctx_t *ctx, const char *entity, const char *verb,
                          const char *entity_id, const json_t *changes,
                          const json_t *data, int what);

/**
 * The last steps of a write, in one call: record the change in the principal's tenant
 * (audit entry and event, CC_RECORD_BOTH), commit, and reply: status 201 with obj at
 * location, 204 without a body, or status with obj.
 */
cc_error_t *cc_ctx_commit(cc_ctx_t *ctx, const char *entity, const char *verb,
                          const char *entity_id, const json_t *changes, const json_t *obj,
                          int status, const char *location);

/**
 * A delete's last steps: record it (the audit entry keeps obj without the keys in drop,
 * the event carries obj), commit, 204.
 */
cc_error_t *cc_ctx_commit_delete(cc_ctx_t *ctx, const char *entity, const char *entity_id,
                                 const json_t *obj, const char *const *drop);

#endif
