/**
 * @file cc_log.h
 * @brief Log-message numbers: CCnnnnn, unique, ranges per module
 *        (00xxx shared, 01xxx mod_cc_auth, 02xxx mod_cc_tenant, 03xxx mod_callcenter,
 *        04xxx mod_cc_chat).  t/lint/check_lognos.sh enforces uniqueness.
 */
#ifndef CC_LOG_H
#define CC_LOG_H

#define CCLOGNO(n) "CC" #n ": "

/** Symbol visibility: every module .so exports only its module struct. */
#define CC_MODULE_EXPORT __attribute__((visibility("default")))

#endif
