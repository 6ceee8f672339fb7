-- 006: a suspended or deleted tenant has no telephony (issue 8, finding 5).  Forward-only.

-- An endpoint of a tenant that is not active is shut out of Asterisk by an endpoint ACL
-- that denies every address (cc_asterisk.h CC_AST_DENY_ALL in ps_endpoints.deny, permit
-- NULL): res_pjsip then handles its REGISTER, INVITE and every other request as coming
-- from no endpoint (a 401 challenge nothing answers).  Reactivation puts back what the
-- ACL columns held before, kept here: suspended says the endpoint's ps_endpoints row is
-- shut, saved_deny and saved_permit are its deny and permit from before (NULL when they
-- were NULL, as the API writes them).  Written by mod_cc_tenant (the status change) and
-- by an endpoint created in a suspended tenant; never shown by the API.
ALTER TABLE endpoints
    ADD COLUMN suspended     TINYINT(1)  NOT NULL DEFAULT 0 AFTER webrtc,
    ADD COLUMN saved_deny    VARCHAR(95) NULL AFTER suspended,
    ADD COLUMN saved_permit  VARCHAR(95) NULL AFTER saved_deny;

-- The DIDs Asterisk may route, in Asterisk's terms, for the operator's dialplan
-- (func_odbc; README "DIDs in the dialplan"): only active DIDs of active tenants, so a
-- suspended or deleted tenant's numbers stop routing without any change to its DID rows
-- (reactivation finds each DID as it was, inactive ones included).
-- * context: the tenant's dialplan context, tenant-<key>, where <key> is computed as
--   shared/cc_asterisk.c cc_ast_tenant_key() does (the slug, or for slugs over 24
--   characters its first 11, '_' and 12 hex digits of its SHA-256).
-- * destination: what to hand to Asterisk, by destination_type: queue -> the queue's
--   Asterisk name (Queue()); endpoint -> PJSIP/<sip id> (Dial()); user -> the interfaces
--   of the user's endpoints joined by '&' (Dial(); NULL when it has none); voicemail ->
--   <mailbox>@<context> (VoiceMail()); none -> NULL.
-- SQL SECURITY DEFINER: Asterisk's database account needs SELECT on this view only, not
-- on users, tenants or the other tables it reads.
CREATE SQL SECURITY DEFINER VIEW asterisk_dids AS
SELECT d.number AS number,
       d.tenant_id AS tenant_id,
       t.context AS context,
       d.destination_type AS destination_type,
       CASE d.destination_type
           WHEN 'queue' THEN
               (SELECT q.asterisk_name FROM call_queues q
                 WHERE q.tenant_id = d.tenant_id AND q.id = d.destination_id)
           WHEN 'endpoint' THEN
               (SELECT CONCAT('PJSIP/', e.asterisk_id) FROM endpoints e
                 WHERE e.tenant_id = d.tenant_id AND e.id = d.destination_id)
           WHEN 'user' THEN
               (SELECT GROUP_CONCAT(CONCAT('PJSIP/', e.asterisk_id)
                                    ORDER BY e.extension SEPARATOR '&')
                  FROM endpoints e
                  JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.user_id
                                  AND u.deleted_at IS NULL
                 WHERE e.tenant_id = d.tenant_id AND e.user_id = d.destination_id)
           WHEN 'voicemail' THEN
               (SELECT CONCAT(v.mailbox, '@', v.context) FROM voicemail v
                 WHERE v.uniqueid = d.destination_id AND v.context = t.context)
       END AS destination
  FROM dids d
  JOIN (SELECT id,
               CONCAT('tenant-', IF(CHAR_LENGTH(slug) <= 24, slug,
                                    CONCAT(LEFT(slug, 11), '_',
                                           LEFT(SHA2(slug, 256), 12)))) AS context
          FROM tenants WHERE status = 'active') t ON t.id = d.tenant_id
 WHERE d.status = 'active';
