/*
 * cc_endpoints.c: /api/v1/endpoints (being written; see issue 3).
 */
#include "cc_api_private.h"

const cc_stmt_t cc_endpoints_stmts[] = {
    CC_STMT_END
};

const cc_route_t cc_endpoints_routes[] = {
    { NULL, NULL, NULL, NULL, 0 }
};
