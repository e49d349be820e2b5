/* check_main.c - the unit-test runner: every suite of tests.h. */
#include <stdlib.h>

#include "tests.h"

int main(void)
{
    SRunner *sr;
    int failed;

    sr = srunner_create(str_suite());
    srunner_add_suite(sr, core_suite());
    srunner_add_suite(sr, query_suite());
    srunner_add_suite(sr, sign_suite());
    srunner_add_suite(sr, msg_suite());
    srunner_add_suite(sr, reply_suite());
    srunner_add_suite(sr, crypt_suite());
    srunner_add_suite(sr, log_suite());
    srunner_add_suite(sr, config_suite());
    srunner_add_suite(sr, signals_suite());
    srunner_add_suite(sr, gateway_suite());
    srunner_add_suite(sr, token_suite());
    srunner_add_suite(sr, dedup_suite());
    srunner_add_suite(sr, upstream_suite());
    srunner_add_suite(sr, ratelimit_suite());
    srunner_add_suite(sr, store_suite());
    srunner_add_suite(sr, store_redis_suite());
    srunner_add_suite(sr, store_contract_suite());
    srunner_add_suite(sr, route_suite());
    srunner_add_suite(sr, acct_suite());
    srunner_add_suite(sr, jssdk_suite());
    srunner_add_suite(sr, ticket_suite());
    srunner_add_suite(sr, metrics_suite());

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed != 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
