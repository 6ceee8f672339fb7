/**
 * @file cc_user.h
 * @brief (glue) The API.md user object as SQL columns and their JSON rendering, shared by
 *        every module that answers with a user (users, login, me).
 */
#ifndef CC_USER_H
#define CC_USER_H

#include "cc_db.h"

/** Columns of users aliased u, in cc_user_cols order (role_names is kept by triggers). */
#define CC_USER_COLUMNS_SQL "u.id, u.tenant_id, u.email, u.name, u.status, u.role_names," \
    " u.extension, u.created_at, u.updated_at, u.last_login_at"

/** The user object: CC_USER_COLUMNS_SQL rendered. */
extern const cc_col_t cc_user_cols[];

#endif
