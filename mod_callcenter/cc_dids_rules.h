/**
 * @file cc_dids_rules.h
 * @brief (core) The pure part of /api/v1/dids: what a body may say, how a change applies
 *        to a DID, what it changes.  No httpd and no database: unit-tested
 *        (t/unit/test_cc_dids_rules.c); mod_callcenter/cc_dids.c is its glue.
 */
#ifndef CC_DIDS_RULES_H
#define CC_DIDS_RULES_H

#include <apr_pools.h>
#include <jansson.h>
#include "cc_error.h"

#define CC_KEY_NUMBER      "number"
#define CC_KEY_DESCRIPTION "description"
#define CC_KEY_DEST_TYPE   "destination_type"
#define CC_KEY_DEST_ID     "destination_id"
#define CC_KEY_STATUS      "status"

#define CC_DESCRIPTION_MAX 500
/* Ids are JSON integers; keep them exact in every client (2^53, as cc_parse_id). */
#define CC_DEST_ID_MAX     APR_INT64_C(9007199254740992)

#define DEST_NONE "none"

/** The values of status and destination_type. */
extern const char *const did_statuses[];
extern const char *const did_dest_types[];

/* What a body asks for; NULL members are absent. */
typedef struct did_input_t {
    const char *number;
    const char *description;
    const char *dest_type;
    int dest_touched;        /* destination_type or destination_id present */
    int has_dest_id;         /* destination_id present (null included) */
    const char *dest_id;     /* canonical decimal; NULL when absent or null */
    const char *status;
} did_input_t;

/* A DID's stored values, or the values it will have after a change. */
typedef struct did_values_t {
    const char *number;
    const char *description;
    const char *dest_type;
    const char *dest_id;     /* NULL exactly when dest_type is none */
    const char *status;
} did_values_t;

/** Validate whatever fields body carries (types already checked); every problem at once. */
cc_error_t *cc_dids_input_read(apr_pool_t *p, json_t *body, did_input_t *in);

/**
 * The DID cur becomes with in applied, into *out.  The destination id follows its type:
 * a new type without an id clears it (none needs none; any other type then asks for
 * one), an id alone applies to the current type.  400 when the pair does not fit.
 */
cc_error_t *cc_dids_merge(apr_pool_t *p, const did_values_t *cur, const did_input_t *in,
                          did_values_t *out);

/** The values of v as an object (the audit record of a create), owned by p. */
json_t *cc_dids_values_json(apr_pool_t *p, const did_values_t *v);

/** {"field": {"from": old, "to": new}} for each field that changes, owned by p. */
json_t *cc_dids_values_diff(apr_pool_t *p, const did_values_t *a, const did_values_t *b);

#endif
