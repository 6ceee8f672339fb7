"""What every tenant collection does alike (DIDs, queues, endpoints); each one's own
behaviour is in its test_7xx file."""

import pytest

from cchelpers import BAD_PAGING_QUERIES
from ccobjects import Resource

DIDS, QUEUES, EPS = "/api/v1/dids", "/api/v1/queues", "/api/v1/endpoints"

# Every collection refuses these list parameters (with the parameter they name).
BAD_LIST_QUERIES_ALL = [("?sort=-id", "sort"), *BAD_PAGING_QUERIES]

# Each collection's own refused list parameters.
BAD_LIST_QUERIES = {
    DIDS: [
        ("?status=deleted", "status"),
        ("?status=", "status"),
        ("?destination_type=fax", "destination_type"),
        ("?destination_type=", "destination_type"),
        ("?q=" + "x" * 201, "q"),
        ("?sort=description", "sort"),
        ("?sort=status", "sort"),
        ("?page=x", "page"),
    ],
    QUEUES: [
        ("?q=" + "x" * 201, "q"),
        ("?sort=strategy", "sort"),
        ("?sort=asterisk_name", "sort"),
        ("?page=x", "page"),
    ],
    EPS: [
        ("?user_id=0", "user_id"),
        ("?user_id=abc", "user_id"),
        ("?user_id=", "user_id"),
        ("?user_id=-1", "user_id"),
        ("?q=" + "1" * 201, "q"),
        ("?sort=user_id", "sort"),
        ("?sort=allow", "sort"),
    ],
}


@pytest.mark.parametrize("path", list(BAD_LIST_QUERIES))
def test_list_of_an_empty_tenant(cc, tenant, path):
    Resource(path).assert_empty_listing(cc, tenant)


@pytest.mark.parametrize("path, query, field", [
    (path, query, field) for path, own in BAD_LIST_QUERIES.items()
    for query, field in own + BAD_LIST_QUERIES_ALL])
def test_list_rejects_bad_parameters(cc, tenant, path, query, field):
    Resource(path).assert_bad_query(cc, tenant, query, field)
