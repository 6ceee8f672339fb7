/*
 * cc_chat_private.h: what mod_cc_chat's files share (its configuration, the child's
 * event hub).  Not installed.
 */
#ifndef CC_CHAT_PRIVATE_H
#define CC_CHAT_PRIVATE_H

#include <httpd.h>
#include <http_config.h>
#include "cc_events_hub.h"
#include "cc_http.h"

/* The event stream's settings (README "The event stream"); CC_CHAT_UNSET until merged
 * with a value, read through cc_chat_setting. */
#define CC_CHAT_UNSET (-1)
typedef enum {
    CC_EV_MAX_CLIENTS,     /* CCEventStreamMaxClients: streams and waiting long-polls per child */
    CC_EV_MAX_DURATION,    /* CCEventStreamMaxDuration: seconds before a stream ends */
    CC_EV_KEEPALIVE,       /* CCEventKeepAlive: seconds between keep-alive comments */
    CC_EV_RETRY,           /* CCEventRetry: the retry: hint, milliseconds */
    CC_EV_LONGPOLL_MAX,    /* CCEventLongPollMax: the longest ?wait=, seconds */
    CC_EV_POLL_INTERVAL,   /* CCEventPollInterval: the poller's period, milliseconds */
    CC_EV_BUFFER,          /* CCEventBuffer: events buffered per child */
    CC_EV_RETENTION_DAYS,  /* CCEventRetentionDays: days events are kept; 0 forever */
    CC_EV_RETENTION_INTERVAL, /* CCEventRetentionInterval: seconds between retention runs */
    CC_EV_NSETTINGS
} cc_chat_setting_e;

typedef struct cc_chat_config_t {
    int v[CC_EV_NSETTINGS];
} cc_chat_config_t;

extern module AP_MODULE_DECLARE_DATA cc_chat_module;

/** A setting of s (its default when unset). */
int cc_chat_setting(const server_rec *s, cc_chat_setting_e which);

/** The child's hub (NULL in the parent, or when it could not be made). */
cc_hub_t *cc_chat_hub(void);

#endif
