/**
 * @file cc_audit.h
 * @brief (glue) The audit writer: one audit_logs row per mutation, on the request's
 *        connection, inside the caller's transaction.
 */
#ifndef CC_AUDIT_H
#define CC_AUDIT_H

#include "cc_db.h"

/**
 * Write an audit entry for the principal's tenant and user: action "user.create",
 * entity_type "user", entity_id "42", changes (stolen; may be NULL), with client ip,
 * user agent and request id.
 */
cc_error_t *cc_audit(cc_ctx_t *ctx, const char *action, const char *entity_type,
                     const char *entity_id, json_t *changes);

/** Same with an explicit tenant and actor (actor_id NULL = none), e.g. for login. */
cc_error_t *cc_audit_as(cc_ctx_t *ctx, const char *tenant_id, const char *actor_id,
                        const char *action, const char *entity_type,
                        const char *entity_id, json_t *changes);

/** changes[field] = {"from": from, "to": to} (both stolen; NULL is JSON null). */
void cc_audit_change(json_t *changes, const char *field, json_t *from, json_t *to);

/**
 * The same for text values, recorded only when to is given and differs from from: a
 * PATCH records the fields it changes.
 */
void cc_audit_change_str(json_t *changes, const char *field, const char *from,
                         const char *to);

/**
 * Append an event row (type "did.created", data stolen, may be NULL) for the principal's
 * tenant, in the caller's transaction; the event stream serves these rows.
 */
cc_error_t *cc_event(cc_ctx_t *ctx, const char *type, const char *entity_type,
                     const char *entity_id, json_t *data);

#endif
