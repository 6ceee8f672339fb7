/*
 * cc_queues.c: /api/v1/queues (being written; see issue 3).
 */
#include "cc_api_private.h"

const cc_stmt_t cc_queues_stmts[] = {
    CC_STMT_END
};

const cc_route_t cc_queues_routes[] = {
    { NULL, NULL, NULL, NULL, 0 }
};
