/*
 * cc_user.c (glue): rendering of the user object, the one place its shape is defined.
 */
#include "cc_user.h"

const cc_col_t cc_user_cols[] = {
    { "id", CC_COL_INT },
    { "tenant_id", CC_COL_STR },
    { "email", CC_COL_STR },
    { "name", CC_COL_STR },
    { "status", CC_COL_STR },
    { "roles", CC_COL_LIST },
    { "extension", CC_COL_STR },
    { "created_at", CC_COL_TIME },
    { "updated_at", CC_COL_TIME },
    { "last_login_at", CC_COL_TIME },
    CC_COL_END
};
