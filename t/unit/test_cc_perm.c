/**
 * @file test_cc_perm.c
 * @brief Unit tests for the permission catalogue, masks and principal checks.
 */
#include <string.h>

#include "cc_test.h"
#include "cc_perm.h"

static int catalogue_size(void)
{
    int n = 0;

    while (cc_perm_catalogue[n].name) {
        n++;
    }
    return n;
}

static int popcount(cc_perm_mask_t m)
{
    int n = 0;

    for (; m; m &= m - 1) {
        n++;
    }
    return n;
}

START_TEST(catalogue_has_31_described_permissions_in_schema_order)
{
    int i;

    ck_assert_int_eq(catalogue_size(), 31);
    ck_assert_str_eq(cc_perm_catalogue[0].name, "users.read");
    ck_assert_str_eq(cc_perm_catalogue[3].name, "audit.read");
    ck_assert_str_eq(cc_perm_catalogue[8].name, "dids.write");
    ck_assert_str_eq(cc_perm_catalogue[29].name, "events.read");
    ck_assert_str_eq(cc_perm_catalogue[30].name, "tenants.manage");
    ck_assert_ptr_null(cc_perm_catalogue[31].description);
    for (i = 0; i < 31; i++) {
        ck_assert_ptr_nonnull(cc_perm_catalogue[i].description);
        ck_assert_int_gt((int)strlen(cc_perm_catalogue[i].description), 0);
    }
}
END_TEST

START_TEST(bit_i_is_catalogue_entry_i)
{
    int i;

    for (i = 0; i < catalogue_size(); i++) {
        ck_assert_int_eq(cc_perm_index(cc_perm_catalogue[i].name), i);
        ck_assert(cc_perm_bit(cc_perm_catalogue[i].name) == (cc_perm_mask_t)1 << i);
    }
}
END_TEST

START_TEST(unknown_permissions_have_no_bit)
{
    ck_assert_int_eq(cc_perm_index("users.delete"), -1);
    ck_assert_int_eq(cc_perm_index("users.rea"), -1);
    ck_assert_int_eq(cc_perm_index("users.read "), -1);
    ck_assert_int_eq(cc_perm_index(""), -1);
    ck_assert_int_eq(cc_perm_index(NULL), -1);
    ck_assert(cc_perm_bit("nope") == 0);
}
END_TEST

START_TEST(tenant_all_is_everything_but_tenants_manage)
{
    cc_perm_mask_t t = cc_perm_tenant_all();

    ck_assert_int_eq(popcount(cc_perm_all()), 31);
    ck_assert_int_eq(popcount(t), 30);
    ck_assert(!(t & cc_perm_bit("tenants.manage")));
    ck_assert((cc_perm_all() & ~t) == cc_perm_bit("tenants.manage"));
    ck_assert(t & cc_perm_bit("users.read"));
    ck_assert(t & cc_perm_bit("events.read"));
}
END_TEST

START_TEST(csv_round_trips_in_catalogue_order)
{
    cc_perm_mask_t m = cc_perm_mask_from_csv("sms.send,users.read,tenants.manage");
    const char *all;

    ck_assert(m == (cc_perm_bit("users.read") | cc_perm_bit("sms.send")
                    | cc_perm_bit("tenants.manage")));
    ck_assert_str_eq(cc_perm_mask_to_csv(cc_test_pool, m), "users.read,sms.send,tenants.manage");
    all = cc_perm_mask_to_csv(cc_test_pool, cc_perm_all());
    ck_assert(cc_perm_mask_from_csv(all) == cc_perm_all());
    ck_assert(cc_perm_mask_from_csv(cc_perm_mask_to_csv(cc_test_pool, cc_perm_tenant_all()))
              == cc_perm_tenant_all());
    ck_assert(!strncmp(all, "users.read,users.write,roles.manage,", 36));
}
END_TEST

START_TEST(csv_ignores_unknown_names_and_empty_items)
{
    ck_assert(cc_perm_mask_from_csv("bogus,,users.write,") == cc_perm_bit("users.write"));
    ck_assert(cc_perm_mask_from_csv("") == 0);
    ck_assert(cc_perm_mask_from_csv(NULL) == 0);
    ck_assert_str_eq(cc_perm_mask_to_csv(cc_test_pool, 0), "");
}
END_TEST

START_TEST(json_lists_names_in_catalogue_order)
{
    json_t *a = cc_perm_mask_to_json(cc_perm_bit("chat.read") | cc_perm_bit("audit.read"));
    json_t *empty = cc_perm_mask_to_json(0);

    ck_assert_int_eq(json_array_size(a), 2);
    ck_assert_str_eq(json_string_value(json_array_get(a, 0)), "audit.read");
    ck_assert_str_eq(json_string_value(json_array_get(a, 1)), "chat.read");
    ck_assert(json_is_array(empty));
    ck_assert_int_eq(json_array_size(empty), 0);
    json_decref(a);
    json_decref(empty);
}
END_TEST

START_TEST(principal_can_only_what_its_mask_holds)
{
    cc_principal_t pr;

    memset(&pr, 0, sizeof(pr));
    pr.permissions = cc_perm_bit("users.read") | cc_perm_bit("dids.write");
    ck_assert_int_eq(cc_principal_can(&pr, "users.read"), 1);
    ck_assert_int_eq(cc_principal_can(&pr, "dids.write"), 1);
    ck_assert_int_eq(cc_principal_can(&pr, "users.write"), 0);
    ck_assert_int_eq(cc_principal_can(&pr, "unknown.perm"), 0);
    ck_assert_int_eq(cc_principal_can(&pr, NULL), 1);
    pr.permissions = cc_perm_all();
    ck_assert_int_eq(cc_principal_can(&pr, "unknown.perm"), 0);
    ck_assert_int_eq(cc_principal_can(NULL, "users.read"), 0);
}
END_TEST

CC_TEST_SUITE("cc_perm",
    CC_TCASE("catalogue"),
        CC_TEST(catalogue_has_31_described_permissions_in_schema_order),
        CC_TEST(bit_i_is_catalogue_entry_i),
        CC_TEST(unknown_permissions_have_no_bit),
        CC_TEST(tenant_all_is_everything_but_tenants_manage),
    CC_TCASE("masks"),
        CC_TEST(csv_round_trips_in_catalogue_order),
        CC_TEST(csv_ignores_unknown_names_and_empty_items),
        CC_TEST(json_lists_names_in_catalogue_order),
        CC_TEST(principal_can_only_what_its_mask_holds))
