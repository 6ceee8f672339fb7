/**
 * @file cc_perm.c
 * @brief (core) The permission catalogue as a 64-bit mask.
 */
#include <string.h>

#include <apr_strings.h>

#include "cc_perm.h"

/*
 * Order matters: entry i is bit i, and this order IS the member order of the
 * `permissions` SET columns in sql/001_foundation.sql, so MariaDB's permissions+0 is
 * the mask used here.  Append only; t/lint/check_perm_set.py keeps the two in step.
 */
const cc_perm_info_t cc_perm_catalogue[] = {
    {"users.read",        "List and view users"},
    {"users.write",       "Create, update and delete users and assign their roles"},
    {"roles.manage",      "Create, update and delete custom roles"},
    {"audit.read",        "Read the tenant's audit log"},
    {"contacts.read",     "List and view contacts"},
    {"contacts.write",    "Create, update and delete contacts"},
    {"tags.manage",       "Create, rename and delete tags"},
    {"dids.read",         "List and view phone numbers (DIDs)"},
    {"dids.write",        "Create, update and delete phone numbers (DIDs)"},
    {"queues.read",       "List and view call queues and their members"},
    {"queues.write",      "Create, update and delete call queues and their members"},
    {"endpoints.read",    "List and view SIP endpoints"},
    {"endpoints.write",   "Create, update and delete SIP endpoints"},
    {"cdrs.read",         "Read call detail records"},
    {"recordings.read",   "List and play call recordings"},
    {"recordings.write",  "Annotate and update call recordings"},
    {"recordings.delete", "Delete call recordings"},
    {"voicemails.read",   "List and play voicemails"},
    {"voicemails.write",  "Mark, move and delete voicemails"},
    {"agents.read",       "View agents and their states"},
    {"agents.manage",     "Change agent states and queue assignments"},
    {"sms.read",          "Read SMS conversations"},
    {"sms.send",          "Send SMS messages"},
    {"tickets.read",      "List and view helpdesk tickets"},
    {"tickets.write",     "Create, update and comment on helpdesk tickets"},
    {"tickets.manage",    "Assign, close and delete helpdesk tickets"},
    {"chat.read",         "Read chat conversations"},
    {"chat.handle",       "Accept and answer chat conversations"},
    {"chat.manage",       "Configure chat widgets and transfer or close chats"},
    {"events.read",       "Subscribe to the real-time event stream"},
    {"tenants.manage",    "Create, update, suspend and delete tenants (platform only)"},
    {NULL, NULL}
};

#define CC_PERM_COUNT ((int)(sizeof(cc_perm_catalogue) / sizeof(cc_perm_catalogue[0]) - 1))

/* A mask is 64 bits wide; one more permission than that needs a new representation. */
_Static_assert(sizeof(cc_perm_catalogue) / sizeof(cc_perm_catalogue[0]) - 1 <= 64,
               "the permission catalogue must fit a 64-bit mask");

/* Index of the permission spelled by s[0..len), or -1. */
static int cc_perm_index_n(const char *s, apr_size_t len)
{
    int i;

    for (i = 0; i < CC_PERM_COUNT; i++) {
        const char *n = cc_perm_catalogue[i].name;

        if (strlen(n) == len && !memcmp(n, s, len)) {
            return i;
        }
    }
    return -1;
}

int cc_perm_index(const char *name)
{
    return name ? cc_perm_index_n(name, strlen(name)) : -1;
}

cc_perm_mask_t cc_perm_bit(const char *name)
{
    int i = cc_perm_index(name);

    return i < 0 ? 0 : (cc_perm_mask_t)1 << i;
}

cc_perm_mask_t cc_perm_all(void)
{
    return CC_PERM_COUNT == 64 ? ~(cc_perm_mask_t)0
                               : ((cc_perm_mask_t)1 << (CC_PERM_COUNT % 64)) - 1;
}

cc_perm_mask_t cc_perm_tenant_all(void)
{
    return cc_perm_all() & ~cc_perm_bit("tenants.manage");
}

cc_perm_mask_t cc_perm_mask_from_csv(const char *csv)
{
    cc_perm_mask_t mask = 0;
    const char *s = csv;

    if (!csv) {
        return 0;
    }
    while (*s) {
        const char *comma = strchr(s, ',');
        apr_size_t n = comma ? (apr_size_t)(comma - s) : strlen(s);
        int i = cc_perm_index_n(s, n);

        if (i >= 0) {
            mask |= (cc_perm_mask_t)1 << i;
        }
        if (!comma) {
            break;
        }
        s = comma + 1;
    }
    return mask;
}

const char *cc_perm_mask_to_csv(apr_pool_t *p, cc_perm_mask_t mask)
{
    apr_size_t len = 0;
    char *out, *o;
    int i;

    for (i = 0; i < CC_PERM_COUNT; i++) {
        if (mask & ((cc_perm_mask_t)1 << i)) {
            len += strlen(cc_perm_catalogue[i].name) + 1;
        }
    }
    if (len == 0) {
        return "";
    }
    out = o = apr_palloc(p, len);
    for (i = 0; i < CC_PERM_COUNT; i++) {
        if (mask & ((cc_perm_mask_t)1 << i)) {
            apr_size_t n = strlen(cc_perm_catalogue[i].name);

            memcpy(o, cc_perm_catalogue[i].name, n);
            o += n;
            *o++ = ',';
        }
    }
    o[-1] = '\0';   /* the last comma becomes the terminator */
    return out;
}

json_t *cc_perm_mask_to_json(cc_perm_mask_t mask)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; arr && i < CC_PERM_COUNT; i++) {
        if (mask & ((cc_perm_mask_t)1 << i)) {
            json_array_append_new(arr, json_string(cc_perm_catalogue[i].name));
        }
    }
    return arr;
}

int cc_principal_can(const cc_principal_t *pr, const char *name)
{
    cc_perm_mask_t bit;

    if (!name) {
        return 1;
    }
    bit = cc_perm_bit(name);
    return pr && bit && (pr->permissions & bit) == bit;
}
