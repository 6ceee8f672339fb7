-- 002: Asterisk 22 realtime tables, read (and partly written) by Asterisk itself.
-- Binding reference: shared/reference/asterisk-realtime-schema.md (the state after all of
-- upstream's Alembic migrations on releases/22).  Rules for these tables:
-- * Names, column sets and types are Asterisk's: every 22.x column exists (a newer
--   Asterisk queries the columns it knows and fails on a missing one; an older one
--   ignores the extras), VARCHAR lengths and ENUM value lists as upstream, every
--   upstream-nullable column stays nullable (NULL = Asterisk's built-in default).
-- * Ours on top: primary keys where upstream has only UNIQUE(id) or nothing (InnoDB
--   clusters on them; Galera needs one on every table), a few lookup indexes, the
--   tenant columns of cdr and our CDR columns.  Every added column is nullable or an
--   AUTO_INCREMENT id, so Asterisk's own INSERTs (ps_contacts, cdr, queue_log) never fail.
-- * No tenant_id column here: isolation is by tenant-slug-prefixed ids, per-tenant
--   dialplan contexts and our side tables (003 and later) that map rows to tenants.
-- * No foreign keys: upstream has none (ps_endpoints.aors/auth are comma-separated id
--   lists) and Asterisk writes ps_contacts/cdr/queue_log in its own order; the API
--   deletes endpoint + auth + aor + contacts together in one transaction instead.
-- * utf8mb4 like the rest of the schema (callerid, fullname carry UTF-8).  Key
--   lengths: a utf8mb4 VARCHAR(255) key is 1020 bytes, within InnoDB's 3072-byte limit
--   for DYNAMIC rows (the default); no prefix indexes are needed.  The collation is
--   case-insensitive, so 'Acme-1001' and 'acme-1001' collide in a unique key: intended
--   (our ids are built from lower-case slugs anyway).
-- * BOOL-ENUM columns use Asterisk's eight spellings; we write 'yes'/'no'.

-- PJSIP endpoints (147 columns in 22.x).  Upstream: UNIQUE(id) plus a redundant plain
-- index on id; here id is the PRIMARY KEY (reference note 1) and the redundant index is
-- dropped.  tenantid (upstream since 18.25/20.10/22.0) carries our tenant id: Asterisk
-- copies it to CHANNEL(tenantid) and into every CDR (cdr.tenantid below).
CREATE TABLE ps_endpoints (
    id                                  VARCHAR(255) NOT NULL,
    transport                           VARCHAR(40) NULL,
    aors                                VARCHAR(2048) NULL,
    auth                                VARCHAR(255) NULL,
    context                             VARCHAR(40) NULL,
    disallow                            VARCHAR(200) NULL,
    allow                               VARCHAR(200) NULL,
    direct_media                        ENUM('0','1','off','on','false','true','no','yes') NULL,
    connected_line_method               ENUM('invite','reinvite','update') NULL,
    direct_media_method                 ENUM('invite','reinvite','update') NULL,
    direct_media_glare_mitigation       ENUM('none','outgoing','incoming') NULL,
    disable_direct_media_on_nat         ENUM('0','1','off','on','false','true','no','yes') NULL,
    dtmf_mode                           ENUM('rfc4733','inband','info','auto','auto_info') NULL,
    external_media_address              VARCHAR(40) NULL,
    force_rport                         ENUM('0','1','off','on','false','true','no','yes') NULL,
    ice_support                         ENUM('0','1','off','on','false','true','no','yes') NULL,
    identify_by                         VARCHAR(80) NULL,
    mailboxes                           VARCHAR(40) NULL,
    moh_suggest                         VARCHAR(40) NULL,
    outbound_auth                       VARCHAR(255) NULL,
    outbound_proxy                      VARCHAR(255) NULL,
    rewrite_contact                     ENUM('0','1','off','on','false','true','no','yes') NULL,
    rtp_ipv6                            ENUM('0','1','off','on','false','true','no','yes') NULL,
    rtp_symmetric                       ENUM('0','1','off','on','false','true','no','yes') NULL,
    send_diversion                      ENUM('0','1','off','on','false','true','no','yes') NULL,
    send_pai                            ENUM('0','1','off','on','false','true','no','yes') NULL,
    send_rpid                           ENUM('0','1','off','on','false','true','no','yes') NULL,
    timers_min_se                       INT NULL,
    timers                              ENUM('forced','no','required','yes') NULL,
    timers_sess_expires                 INT NULL,
    callerid                            VARCHAR(40) NULL,
    callerid_privacy                    ENUM('allowed_not_screened',
                                             'allowed_passed_screened','allowed_failed_screened',
                                             'allowed','prohib_not_screened',
                                             'prohib_passed_screened','prohib_failed_screened',
                                             'prohib','unavailable') NULL,
    callerid_tag                        VARCHAR(40) NULL,
    `100rel`                            ENUM('no','required','peer_supported','yes') NULL,
    aggregate_mwi                       ENUM('0','1','off','on','false','true','no','yes') NULL,
    trust_id_inbound                    ENUM('0','1','off','on','false','true','no','yes') NULL,
    trust_id_outbound                   ENUM('0','1','off','on','false','true','no','yes') NULL,
    use_ptime                           ENUM('0','1','off','on','false','true','no','yes') NULL,
    use_avpf                            ENUM('0','1','off','on','false','true','no','yes') NULL,
    media_encryption                    ENUM('no','sdes','dtls') NULL,
    inband_progress                     ENUM('0','1','off','on','false','true','no','yes') NULL,
    call_group                          VARCHAR(40) NULL,
    pickup_group                        VARCHAR(40) NULL,
    named_call_group                    VARCHAR(40) NULL,
    named_pickup_group                  VARCHAR(40) NULL,
    device_state_busy_at                INT NULL,
    fax_detect                          ENUM('0','1','off','on','false','true','no','yes') NULL,
    t38_udptl                           ENUM('0','1','off','on','false','true','no','yes') NULL,
    t38_udptl_ec                        ENUM('none','fec','redundancy') NULL,
    t38_udptl_maxdatagram               INT NULL,
    t38_udptl_nat                       ENUM('0','1','off','on','false','true','no','yes') NULL,
    t38_udptl_ipv6                      ENUM('0','1','off','on','false','true','no','yes') NULL,
    tone_zone                           VARCHAR(40) NULL,
    language                            VARCHAR(40) NULL,
    one_touch_recording                 ENUM('0','1','off','on','false','true','no','yes') NULL,
    record_on_feature                   VARCHAR(40) NULL,
    record_off_feature                  VARCHAR(40) NULL,
    rtp_engine                          VARCHAR(40) NULL,
    allow_transfer                      ENUM('0','1','off','on','false','true','no','yes') NULL,
    allow_subscribe                     ENUM('0','1','off','on','false','true','no','yes') NULL,
    sdp_owner                           VARCHAR(40) NULL,
    sdp_session                         VARCHAR(40) NULL,
    tos_audio                           VARCHAR(10) NULL,
    tos_video                           VARCHAR(10) NULL,
    sub_min_expiry                      INT NULL,
    from_domain                         VARCHAR(40) NULL,
    from_user                           VARCHAR(40) NULL,
    mwi_from_user                       VARCHAR(40) NULL,
    dtls_verify                         VARCHAR(40) NULL,
    dtls_rekey                          VARCHAR(40) NULL,
    dtls_cert_file                      VARCHAR(200) NULL,
    dtls_private_key                    VARCHAR(200) NULL,
    dtls_cipher                         VARCHAR(200) NULL,
    dtls_ca_file                        VARCHAR(200) NULL,
    dtls_ca_path                        VARCHAR(200) NULL,
    dtls_setup                          ENUM('active','passive','actpass') NULL,
    srtp_tag_32                         ENUM('0','1','off','on','false','true','no','yes') NULL,
    media_address                       VARCHAR(40) NULL,
    redirect_method                     ENUM('user','uri_core','uri_pjsip') NULL,
    set_var                             TEXT NULL,
    cos_audio                           INT NULL,
    cos_video                           INT NULL,
    message_context                     VARCHAR(40) NULL,
    force_avp                           ENUM('0','1','off','on','false','true','no','yes') NULL,
    media_use_received_transport        ENUM('0','1','off','on','false','true','no','yes') NULL,
    accountcode                         VARCHAR(80) NULL,
    user_eq_phone                       ENUM('0','1','off','on','false','true','no','yes') NULL,
    moh_passthrough                     ENUM('0','1','off','on','false','true','no','yes') NULL,
    media_encryption_optimistic         ENUM('0','1','off','on','false','true','no','yes') NULL,
    rpid_immediate                      ENUM('0','1','off','on','false','true','no','yes') NULL,
    g726_non_standard                   ENUM('0','1','off','on','false','true','no','yes') NULL,
    rtp_keepalive                       INT NULL,
    rtp_timeout                         INT NULL,
    rtp_timeout_hold                    INT NULL,
    bind_rtp_to_media_address           ENUM('0','1','off','on','false','true','no','yes') NULL,
    voicemail_extension                 VARCHAR(40) NULL,
    mwi_subscribe_replaces_unsolicited  ENUM('0','1','off','on','false','true','no','yes') NULL,
    deny                                VARCHAR(95) NULL,
    permit                              VARCHAR(95) NULL,
    acl                                 VARCHAR(40) NULL,
    contact_deny                        VARCHAR(95) NULL,
    contact_permit                      VARCHAR(95) NULL,
    contact_acl                         VARCHAR(40) NULL,
    subscribe_context                   VARCHAR(40) NULL,
    fax_detect_timeout                  INT NULL,
    contact_user                        VARCHAR(80) NULL,
    preferred_codec_only                ENUM('0','1','off','on','false','true','no','yes') NULL,
    asymmetric_rtp_codec                ENUM('0','1','off','on','false','true','no','yes') NULL,
    rtcp_mux                            ENUM('0','1','off','on','false','true','no','yes') NULL,
    allow_overlap                       ENUM('0','1','off','on','false','true','no','yes') NULL,
    refer_blind_progress                ENUM('0','1','off','on','false','true','no','yes') NULL,
    notify_early_inuse_ringing          ENUM('0','1','off','on','false','true','no','yes') NULL,
    max_audio_streams                   INT NULL,
    max_video_streams                   INT NULL,
    webrtc                              ENUM('0','1','off','on','false','true','no','yes') NULL,
    dtls_fingerprint                    ENUM('SHA-1','SHA-256') NULL,
    incoming_mwi_mailbox                VARCHAR(40) NULL,
    bundle                              ENUM('0','1','off','on','false','true','no','yes') NULL,
    dtls_auto_generate_cert             ENUM('0','1','off','on','false','true','no','yes') NULL,
    follow_early_media_fork             ENUM('0','1','off','on','false','true','no','yes') NULL,
    accept_multiple_sdp_answers         ENUM('0','1','off','on','false','true','no','yes') NULL,
    suppress_q850_reason_headers        ENUM('0','1','off','on','false','true','no','yes') NULL,
    trust_connected_line                ENUM('0','1','off','on','false','true','no','yes') NULL,
    send_connected_line                 ENUM('0','1','off','on','false','true','no','yes') NULL,
    ignore_183_without_sdp              ENUM('0','1','off','on','false','true','no','yes') NULL,
    codec_prefs_incoming_offer          VARCHAR(128) NULL,
    codec_prefs_outgoing_offer          VARCHAR(128) NULL,
    codec_prefs_incoming_answer         VARCHAR(128) NULL,
    codec_prefs_outgoing_answer         VARCHAR(128) NULL,
    stir_shaken                         ENUM('0','1','off','on','false','true','no','yes') NULL,
    send_history_info                   ENUM('0','1','off','on','false','true','no','yes') NULL,
    allow_unauthenticated_options       ENUM('0','1','off','on','false','true','no','yes') NULL,
    t38_bind_udptl_to_media_address     ENUM('0','1','off','on','false','true','no','yes') NULL,
    geoloc_incoming_call_profile        VARCHAR(80) NULL,
    geoloc_outgoing_call_profile        VARCHAR(80) NULL,
    incoming_call_offer_pref            ENUM('local','local_first','remote','remote_first') NULL,
    outgoing_call_offer_pref            ENUM('local','local_merge','local_first','remote',
                                             'remote_merge','remote_first') NULL,
    stir_shaken_profile                 VARCHAR(80) NULL,
    security_negotiation                ENUM('no','mediasec') NULL,
    security_mechanisms                 VARCHAR(512) NULL,
    send_aoc                            ENUM('0','1','off','on','false','true','no','yes') NULL,
    overlap_context                     VARCHAR(80) NULL,
    tenantid                            VARCHAR(80) NULL,
    suppress_moh_on_sendonly            ENUM('0','1','off','on','false','true','no','yes') NULL,
    follow_redirect_methods             VARCHAR(95) NULL,
    rtp_port_start                      INT NULL,
    rtp_port_end                        INT NULL,
    PRIMARY KEY (id),
    KEY idx_ps_endpoints_tenantid (tenantid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- PJSIP auth objects.  id is the PRIMARY KEY (upstream: UNIQUE(id) only).
CREATE TABLE ps_auths (
    id                        VARCHAR(255) NOT NULL,
    auth_type                 ENUM('md5','userpass','google_oauth') NULL,
    nonce_lifetime            INT NULL,
    md5_cred                  VARCHAR(40) NULL,
    password                  VARCHAR(80) NULL,
    realm                     VARCHAR(255) NULL,
    username                  VARCHAR(40) NULL,
    refresh_token             VARCHAR(255) NULL,
    oauth_clientid            VARCHAR(255) NULL,
    oauth_secret              VARCHAR(255) NULL,
    password_digest           VARCHAR(1024) NULL,
    supported_algorithms_uas  VARCHAR(1024) NULL,
    supported_algorithms_uac  VARCHAR(1024) NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- PJSIP AORs.  id is the PRIMARY KEY (upstream: UNIQUE(id) only); upstream's
-- (qualify_frequency, contact) index serves Asterisk's qualify scan.
CREATE TABLE ps_aors (
    id                    VARCHAR(255) NOT NULL,
    contact               VARCHAR(255) NULL,
    default_expiration    INT NULL,
    mailboxes             VARCHAR(80) NULL,
    max_contacts          INT NULL,
    minimum_expiration    INT NULL,
    remove_existing       ENUM('0','1','off','on','false','true','no','yes') NULL,
    qualify_frequency     INT NULL,
    authenticate_qualify  ENUM('0','1','off','on','false','true','no','yes') NULL,
    maximum_expiration    INT NULL,
    outbound_proxy        VARCHAR(255) NULL,
    support_path          ENUM('0','1','off','on','false','true','no','yes') NULL,
    qualify_timeout       FLOAT NULL,
    voicemail_extension   VARCHAR(40) NULL,
    remove_unavailable    ENUM('0','1','off','on','false','true','no','yes') NULL,
    qualify_2xx_only      ENUM('0','1','off','on','false','true','no','yes') NULL,
    PRIMARY KEY (id),
    KEY ps_aors_qualifyfreq_contact (qualify_frequency, contact)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Registrations, written by Asterisk (id = '<aor>;@<hash>', expiration_time in epoch
-- seconds); the API only reads and deletes them.  Upstream's id is nullable with
-- UNIQUE(id) and UNIQUE(id, reg_server); Asterisk always sets id (a sorcery object has
-- one), so it is NOT NULL here as the PRIMARY KEY, which makes UNIQUE(id, reg_server)
-- redundant (dropped).  endpoint is indexed for the registration view and the cleanup
-- when an endpoint is deleted.
CREATE TABLE ps_contacts (
    id                    VARCHAR(255) NOT NULL,
    uri                   VARCHAR(511) NULL,
    expiration_time       BIGINT NULL,
    qualify_frequency     INT NULL,
    outbound_proxy        VARCHAR(255) NULL,
    path                  TEXT NULL,
    user_agent            VARCHAR(255) NULL,
    qualify_timeout       FLOAT NULL,
    reg_server            VARCHAR(255) NULL,
    authenticate_qualify  ENUM('0','1','off','on','false','true','no','yes') NULL,
    via_addr              VARCHAR(40) NULL,
    via_port              INT NULL,
    call_id               VARCHAR(255) NULL,
    endpoint              VARCHAR(255) NULL,
    prune_on_boot         ENUM('0','1','off','on','false','true','no','yes') NULL,
    qualify_2xx_only      ENUM('0','1','off','on','false','true','no','yes') NULL,
    PRIMARY KEY (id),
    KEY ps_contacts_qualifyfreq_exp (qualify_frequency, expiration_time),
    KEY idx_ps_contacts_endpoint (endpoint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Identify-by-IP (trunks).  id is the PRIMARY KEY (upstream: UNIQUE(id) only);
-- endpoint is indexed for the cleanup when an endpoint is deleted.
CREATE TABLE ps_endpoint_id_ips (
    id                 VARCHAR(255) NOT NULL,
    endpoint           VARCHAR(255) NULL,
    `match`            VARCHAR(80) NULL,
    srv_lookups        ENUM('0','1','off','on','false','true','no','yes') NULL,
    match_header       VARCHAR(255) NULL,
    match_request_uri  VARCHAR(255) NULL,
    PRIMARY KEY (id),
    KEY idx_ps_endpoint_id_ips_endpoint (endpoint)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- app_queue realtime queues; name (VARCHAR(128)) is upstream's PRIMARY KEY.  Our queue
-- names stay <= 80 characters because queue_members.queue_name is VARCHAR(80).
CREATE TABLE queues (
    name                         VARCHAR(128) NOT NULL,
    musiconhold                  VARCHAR(128) NULL,
    announce                     VARCHAR(128) NULL,
    context                      VARCHAR(128) NULL,
    timeout                      INT NULL,
    ringinuse                    ENUM('yes','no') NULL,
    setinterfacevar              ENUM('yes','no') NULL,
    setqueuevar                  ENUM('yes','no') NULL,
    setqueueentryvar             ENUM('yes','no') NULL,
    monitor_format               VARCHAR(8) NULL,
    membermacro                  VARCHAR(512) NULL,
    membergosub                  VARCHAR(512) NULL,
    queue_youarenext             VARCHAR(128) NULL,
    queue_thereare               VARCHAR(128) NULL,
    queue_callswaiting           VARCHAR(128) NULL,
    queue_quantity1              VARCHAR(128) NULL,
    queue_quantity2              VARCHAR(128) NULL,
    queue_holdtime               VARCHAR(128) NULL,
    queue_minutes                VARCHAR(128) NULL,
    queue_minute                 VARCHAR(128) NULL,
    queue_seconds                VARCHAR(128) NULL,
    queue_thankyou               VARCHAR(128) NULL,
    queue_callerannounce         VARCHAR(128) NULL,
    queue_reporthold             VARCHAR(128) NULL,
    announce_frequency           INT NULL,
    announce_to_first_user       ENUM('yes','no') NULL,
    min_announce_frequency       INT NULL,
    announce_round_seconds       INT NULL,
    announce_holdtime            VARCHAR(128) NULL,
    announce_position            VARCHAR(128) NULL,
    announce_position_limit      INT NULL,
    periodic_announce            VARCHAR(50) NULL,
    periodic_announce_frequency  INT NULL,
    relative_periodic_announce   ENUM('yes','no') NULL,
    random_periodic_announce     ENUM('yes','no') NULL,
    retry                        INT NULL,
    wrapuptime                   INT NULL,
    penaltymemberslimit          INT NULL,
    autofill                     ENUM('yes','no') NULL,
    monitor_type                 VARCHAR(128) NULL,
    autopause                    ENUM('yes','no','all') NULL,
    autopausedelay               INT NULL,
    autopausebusy                ENUM('yes','no') NULL,
    autopauseunavail             ENUM('yes','no') NULL,
    maxlen                       INT NULL,
    servicelevel                 INT NULL,
    strategy                     ENUM('ringall','leastrecent','fewestcalls','random','rrmemory',
                                      'linear','wrandom','rrordered') NULL,
    joinempty                    VARCHAR(128) NULL,
    leavewhenempty               VARCHAR(128) NULL,
    reportholdtime               ENUM('yes','no') NULL,
    memberdelay                  INT NULL,
    weight                       INT NULL,
    timeoutrestart               ENUM('yes','no') NULL,
    defaultrule                  VARCHAR(128) NULL,
    timeoutpriority              VARCHAR(128) NULL,
    log_restricted_caller_id     ENUM('0','1','off','on','false','true','no','yes') NULL,
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Realtime queue members.  Keys as upstream: PRIMARY KEY (queue_name, interface), so the
-- same interface cannot be in a queue twice, and uniqueid an AUTO_INCREMENT UNIQUE key
-- (app_queue updates members by uniqueid).  The primary key's prefix serves lookups by
-- queue_name; interface is indexed for "every queue of this endpoint" (agent pause,
-- endpoint deletion).
CREATE TABLE queue_members (
    queue_name       VARCHAR(80) NOT NULL,
    interface        VARCHAR(80) NOT NULL,
    membername       VARCHAR(80) NULL,
    state_interface  VARCHAR(80) NULL,
    penalty          INT NULL,
    paused           INT NULL,
    uniqueid         INT NOT NULL AUTO_INCREMENT,
    wrapuptime       INT NULL,
    ringinuse        ENUM('0','1','off','on','false','true','no','yes') NULL,
    reason_paused    VARCHAR(80) NULL,
    PRIMARY KEY (queue_name, interface),
    UNIQUE KEY uniqueid (uniqueid),
    KEY idx_queue_members_interface (interface)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Penalty-change rules.  Upstream creates no key at all; the surrogate id (ours, ignored
-- by app_queue, which reads rule_name/time/min_penalty/max_penalty by name) gives
-- InnoDB and Galera a primary key.
CREATE TABLE queue_rules (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,  -- ours
    rule_name    VARCHAR(80) NOT NULL,
    time         VARCHAR(32) NOT NULL,
    min_penalty  VARCHAR(32) NOT NULL,
    max_penalty  VARCHAR(32) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_queue_rules_name (rule_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- app_queue's event stream (ENTERQUEUE, CONNECT, ABANDON, ...), written by Asterisk; the
-- raw input of queue and agent statistics.  id is upstream's BIGINT AUTO_INCREMENT
-- PRIMARY KEY (upstream also adds a redundant UNIQUE(id), dropped).  time is DATETIME
-- as upstream, in Asterisk's local time (no usegmtime here): run Asterisk in UTC.
CREATE TABLE queue_log (
    id         BIGINT NOT NULL AUTO_INCREMENT,
    time       DATETIME NULL,
    callid     VARCHAR(80) NULL,
    queuename  VARCHAR(256) NULL,
    agent      VARCHAR(80) NULL,
    event      VARCHAR(32) NULL,
    data1      VARCHAR(100) NULL,
    data2      VARCHAR(100) NULL,
    data3      VARCHAR(100) NULL,
    data4      VARCHAR(100) NULL,
    data5      VARCHAR(100) NULL,
    PRIMARY KEY (id),
    KEY idx_queue_log_time (`time`),
    KEY idx_queue_log_queue_time (queuename, `time`),
    KEY idx_queue_log_agent_time (agent, `time`),
    KEY idx_queue_log_callid (callid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Voicemail box configuration (app_voicemail realtime).  PRIMARY KEY (uniqueid) as
-- upstream.  Upstream has only plain indexes on context, mailbox, (mailbox, context)
-- and imapuser; a box is identified by (context, mailbox), so that pair is UNIQUE here
-- (the context is the tenant's, so equal mailbox numbers in two tenants do not clash).
-- Lookups by mailbox alone use idx_voicemail_mailbox.  Message audio stays on disk, so
-- upstream's voicemail_messages (ODBC_STORAGE) table is not created.
CREATE TABLE voicemail (
    uniqueid         INT NOT NULL AUTO_INCREMENT,
    context          VARCHAR(80) NOT NULL,
    mailbox          VARCHAR(80) NOT NULL,
    password         VARCHAR(80) NOT NULL,
    fullname         VARCHAR(80) NULL,
    alias            VARCHAR(80) NULL,
    email            VARCHAR(80) NULL,
    pager            VARCHAR(80) NULL,
    attach           ENUM('yes','no') NULL,
    attachfmt        VARCHAR(10) NULL,
    serveremail      VARCHAR(80) NULL,
    language         VARCHAR(20) NULL,
    tz               VARCHAR(30) NULL,
    deletevoicemail  ENUM('yes','no') NULL,
    saycid           ENUM('yes','no') NULL,
    sendvoicemail    ENUM('yes','no') NULL,
    review           ENUM('yes','no') NULL,
    tempgreetwarn    ENUM('yes','no') NULL,
    operator         ENUM('yes','no') NULL,
    envelope         ENUM('yes','no') NULL,
    sayduration      INT NULL,
    forcename        ENUM('yes','no') NULL,
    forcegreetings   ENUM('yes','no') NULL,
    callback         VARCHAR(80) NULL,
    dialout          VARCHAR(80) NULL,
    exitcontext      VARCHAR(80) NULL,
    maxmsg           INT NULL,
    volgain          DECIMAL(5,2) NULL,
    imapuser         VARCHAR(80) NULL,
    imappassword     VARCHAR(80) NULL,
    imapserver       VARCHAR(80) NULL,
    imapport         VARCHAR(8) NULL,
    imapflags        VARCHAR(80) NULL,
    stamp            DATETIME NULL,
    PRIMARY KEY (uniqueid),
    UNIQUE KEY uq_voicemail_context_mailbox (context, mailbox),
    KEY idx_voicemail_mailbox (mailbox),
    KEY voicemail_imapuser (imapuser)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Call detail records, written by Asterisk (cdr_adaptive_odbc, usegmtime=yes: times are
-- UTC).  Upstream's 21 columns have no key at all.  Ours:
-- * id: surrogate BIGINT AUTO_INCREMENT PRIMARY KEY (the API's CDR id and cursor tie-break).
-- * tenantid, peertenantid: cdr_adaptive_odbc fills columns from CDR variables of the same
--   name, and Asterisk 18.25+/20.10+/22+ sets these from the endpoints' tenantid, so the
--   tenant lands in every row without dialplan work (accountcode is the fallback).
-- * did, direction, queue, agent_id (API.md "CDR"): set by our dialplan through CDR
--   variables of the same names.  All nullable: rows from calls the dialplan did not
--   classify must still insert.  agent_id is users.id; cdr_adaptive_odbc skips a
--   non-numeric value for an integer column instead of failing the row.
-- Indexes: tenant + time for the list, each API filter that narrows within a tenant,
-- the accountcode fallback, and uniqueid/linkedid for recordings and call grouping.
-- InnoDB appends the primary key to every secondary index, so (tenantid, start) is
-- also (tenantid, start, id), the order of the API's cursor.
CREATE TABLE cdr (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,  -- ours
    accountcode  VARCHAR(80) NULL,
    src          VARCHAR(80) NULL,
    dst          VARCHAR(80) NULL,
    dcontext     VARCHAR(80) NULL,
    clid         VARCHAR(80) NULL,
    channel      VARCHAR(80) NULL,
    dstchannel   VARCHAR(80) NULL,
    lastapp      VARCHAR(80) NULL,
    lastdata     VARCHAR(80) NULL,
    start        DATETIME NULL,
    answer       DATETIME NULL,
    `end`        DATETIME NULL,
    duration     INT NULL,
    billsec      INT NULL,
    disposition  VARCHAR(45) NULL,
    amaflags     VARCHAR(45) NULL,
    userfield    VARCHAR(256) NULL,
    uniqueid     VARCHAR(150) NULL,
    linkedid     VARCHAR(150) NULL,
    peeraccount  VARCHAR(80) NULL,
    sequence     INT NULL,
    -- ours from here on (see above)
    tenantid     VARCHAR(80)  NULL,
    peertenantid VARCHAR(80)  NULL,
    did          VARCHAR(32)  NULL,   -- dids.number is E.164 (<= 16); slack for odd trunks
    direction    ENUM('inbound','outbound','internal') NULL,
    queue        VARCHAR(128) NULL,
    agent_id     BIGINT UNSIGNED NULL,
    PRIMARY KEY (id),
    KEY idx_cdr_tenant_start (tenantid, start),
    KEY idx_cdr_accountcode_start (accountcode, start),
    KEY idx_cdr_tenant_did_start (tenantid, did, start),
    KEY idx_cdr_tenant_queue_start (tenantid, queue, start),
    KEY idx_cdr_tenant_agent_start (tenantid, agent_id, start),
    KEY idx_cdr_uniqueid (uniqueid),
    KEY idx_cdr_linkedid (linkedid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
