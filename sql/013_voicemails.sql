-- 013: voicemail messages (issue 10, item 3).  Forward-only.
--
-- A voicemail is a message app_voicemail wrote in its spool (file storage), under
-- CCVoicemailDir/<tenant id>/ (the tenant's voicemail context directory), ingested by the
-- API (mod_callcenter/cc_voicemails.c) from its msgNNNN.txt: path is that .txt, relative
-- to the tenant's directory (<mailbox>/<folder>/msgNNNN.txt, checked: no absolute path,
-- no . or .. component, no control character), and the audio file is its sibling of
-- the format given (msgNNNN.wav, .WAV for wav49, .gsm, ...).  Message numbers change
-- when Asterisk moves or renumbers messages, so a message is known by its msg_id
-- (uq_voicemails_message): ingesting it again updates where it is.  mailbox is the
-- voicemail box (voicemail.mailbox in the tenant's context) the message is in.
-- created_at is when the caller left it (origtime, UTC); folder and is_read are the
-- API's (PATCH), starting from the spool's folder.  Deletes are real: the audit log keeps
-- the history.
CREATE TABLE voicemails (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id     CHAR(36)        NOT NULL,
    mailbox       VARCHAR(80)     NOT NULL,
    msg_id        VARCHAR(40)     CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    caller_id     VARCHAR(255)    NULL,
    duration      INT UNSIGNED    NOT NULL,
    folder        ENUM('INBOX','Old','Urgent') NOT NULL,
    is_read       TINYINT(1)      NOT NULL DEFAULT 0,
    path          VARBINARY(1024) NOT NULL,   -- bytes, compared as the file system does
    format        ENUM('wav','wav49','gsm','mp3','ogg') NOT NULL,
    size_bytes    BIGINT UNSIGNED NOT NULL,
    created_at    DATETIME        NOT NULL,
    ingested_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_voicemails_message (tenant_id, mailbox, msg_id),
    -- The list's order (created_at, id) and its from/to filters.
    KEY idx_voicemails_tenant_created (tenant_id, created_at, id),
    -- A mailbox's messages (the mailbox filter), newest first.
    KEY idx_voicemails_tenant_mailbox (tenant_id, mailbox, created_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
