-- 019: the contact timeline (issue 13; mod_callcenter/cc_contact_timeline.c).
-- Forward-only.
--
-- GET /contacts/{id}/timeline merges a contact's calls, SMS, voicemails, tickets and
-- chats, newest first: each source is read by an index on the contact's phone number or
-- email and time, so a page costs a few short index ranges whatever the tenant's size.

-- Calls: the CDR's caller or callee is the contact's number.
ALTER TABLE cdr
    ADD KEY idx_cdr_ref_src_start (tenant_ref, src, start),
    ADD KEY idx_cdr_ref_dst_start (tenant_ref, dst, start);

-- SMS: from or to the contact's number.
ALTER TABLE sms_messages
    ADD KEY idx_sms_from (tenant_id, from_number, created_at),
    ADD KEY idx_sms_to (tenant_id, to_number, created_at);

-- Voicemails: the caller's number out of app_voicemail's callerid ("Name" <number>, or
-- the number alone).
ALTER TABLE voicemails
    ADD COLUMN caller_number VARCHAR(80) AS (IF(LOCATE('<', caller_id) > 0,
        SUBSTRING_INDEX(SUBSTRING_INDEX(caller_id, '<', -1), '>', 1), caller_id)) PERSISTENT,
    ADD KEY idx_voicemails_caller (tenant_id, caller_number, created_at);

-- Chats: the visitor's email is the contact's.
ALTER TABLE chat_sessions
    ADD KEY idx_chat_sessions_email (tenant_id, visitor_email, created_at);
