-- 018: contacts, tags and the helpdesk (issue 13; mod_callcenter/cc_contacts.c,
-- cc_tags.c, cc_tickets.c, cc_ticket_*.c, cc_slas.c).  Forward-only.
--
-- contacts: the people a tenant talks to.  phone is E.164 (normalised on the way in, so
-- a screen pop's lookup is one index probe); custom_fields the JSON object text a client
-- gave (bounded by cc_custom_fields_issue).
CREATE TABLE contacts (
    id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id      CHAR(36)        NOT NULL,
    name           VARCHAR(200)    NOT NULL,
    email          VARCHAR(254)    NULL,
    phone          VARCHAR(16)     CHARACTER SET ascii COLLATE ascii_bin NULL,
    company        VARCHAR(200)    NULL,
    notes          TEXT            NULL,
    custom_fields  TEXT            NOT NULL,
    created_at     DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at     DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    KEY idx_contacts_name (tenant_id, name, id),
    KEY idx_contacts_created (tenant_id, created_at, id),
    KEY idx_contacts_updated (tenant_id, updated_at, id),
    -- The lookup's best match: the most recently updated contact with the number.
    KEY idx_contacts_phone (tenant_id, phone, updated_at, id),
    KEY idx_contacts_email (tenant_id, email),
    CONSTRAINT fk_contacts_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- contact_terms: what q= finds a contact by (shared/cc_search.h: words, whole name,
-- email parts, phone digit suffixes), rewritten with the contact.  A prefix match on
-- (tenant_id, term) is one index range whatever the number of contacts.  Terms that the
-- collation makes equal may both be stored; the search reads ids, not terms.
CREATE TABLE contact_terms (
    tenant_id   CHAR(36)        NOT NULL,
    contact_id  BIGINT UNSIGNED NOT NULL,
    term        VARCHAR(254)    NOT NULL,
    KEY idx_contact_terms_term (tenant_id, term, contact_id),
    KEY idx_contact_terms_contact (contact_id),
    CONSTRAINT fk_contact_terms_contact FOREIGN KEY (contact_id) REFERENCES contacts (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- tags: a tenant's labels for contacts and tickets, unique by name in the tenant,
-- compared without case but with accents (utf8mb4_uca1400_as_ci: "VIP" and "vip" are
-- one tag, "cafe" and "café", "strasse" and "straße" are two).
CREATE TABLE tags (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id   CHAR(36)        NOT NULL,
    name        VARCHAR(50)     COLLATE utf8mb4_uca1400_as_ci NOT NULL,
    color       CHAR(7)         CHARACTER SET ascii NOT NULL DEFAULT '#808080',
    created_at  DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at  DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_tags_name (tenant_id, name),
    KEY idx_tags_created (tenant_id, created_at, id),
    CONSTRAINT fk_tags_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE contact_tags (
    tenant_id   CHAR(36)        NOT NULL,
    contact_id  BIGINT UNSIGNED NOT NULL,
    tag_id      BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (contact_id, tag_id),
    KEY idx_contact_tags_tag (tenant_id, tag_id, contact_id),
    CONSTRAINT fk_contact_tags_contact FOREIGN KEY (contact_id) REFERENCES contacts (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_contact_tags_tag FOREIGN KEY (tag_id) REFERENCES tags (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- slas: one policy per priority in a tenant.  calendar: the canonical JSON object
-- (cc_sla_calendar_json) or NULL (the clock runs 24/7).
CREATE TABLE slas (
    id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id               CHAR(36)        NOT NULL,
    name                    VARCHAR(100)    NOT NULL,
    priority                ENUM('low','normal','high','urgent') NOT NULL,
    first_response_minutes  INT UNSIGNED    NOT NULL,
    resolution_minutes      INT UNSIGNED    NOT NULL,
    calendar                TEXT            NULL,
    created_at              DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at              DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_slas_priority (tenant_id, priority),
    KEY idx_slas_name (tenant_id, name, id),
    CONSTRAINT fk_slas_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ticket_counters: the last ticket number of each tenant.  A create increments it in its
-- transaction (the row stays locked until the commit), so numbers have no gaps and no
-- duplicates however many creates run at once, on any node.
CREATE TABLE ticket_counters (
    tenant_id    CHAR(36)        NOT NULL,
    last_number  BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (tenant_id),
    CONSTRAINT fk_ticket_counters_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- tickets.  The SLA clocks: first_response_due_at runs until the first public agent
-- message (first_responded_at) unless the ticket is solved or closed first;
-- resolution_due_at runs while the ticket is new or open.  paused_at: when the ticket
-- entered pending or on_hold; paused_secs: the business time spent there so far, which
-- moved resolution_due_at on (cc_tickets.c).  sla_next_due_at is what the breach job
-- reads: the earliest due time still running of a ticket not yet breached.
-- source_*: the call (a CDR, and the recording of its call leg) or the voicemail the
-- ticket was opened from.
CREATE TABLE tickets (
    id                     BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id              CHAR(36)        NOT NULL,
    number                 BIGINT UNSIGNED NOT NULL,
    subject                VARCHAR(255)    NOT NULL,
    status                 ENUM('new','open','pending','on_hold','solved','closed')
                                           NOT NULL DEFAULT 'new',
    priority               ENUM('low','normal','high','urgent') NOT NULL DEFAULT 'normal',
    channel                ENUM('phone','email','chat','web') NOT NULL DEFAULT 'web',
    contact_id             BIGINT UNSIGNED NULL,
    assignee_id            BIGINT UNSIGNED NULL,
    sla_id                 BIGINT UNSIGNED NULL,
    first_response_due_at  DATETIME        NULL,
    resolution_due_at      DATETIME        NULL,
    first_responded_at     DATETIME        NULL,
    resolved_at            DATETIME        NULL,
    sla_breached           TINYINT(1)      NOT NULL DEFAULT 0,
    paused_at              DATETIME        NULL,
    paused_secs            BIGINT          NOT NULL DEFAULT 0,
    source_cdr_id          BIGINT UNSIGNED NULL,
    source_voicemail_id    BIGINT UNSIGNED NULL,
    created_at             DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at             DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    sla_next_due_at        DATETIME AS (IF(sla_breached = 0, LEAST(
        COALESCE(IF(first_responded_at IS NULL AND status NOT IN ('solved','closed'),
                    first_response_due_at, NULL),
                 IF(status IN ('new','open'), resolution_due_at, NULL)),
        COALESCE(IF(status IN ('new','open'), resolution_due_at, NULL),
                 IF(first_responded_at IS NULL AND status NOT IN ('solved','closed'),
                    first_response_due_at, NULL))), NULL)) PERSISTENT,
    PRIMARY KEY (id),
    UNIQUE KEY uq_tickets_number (tenant_id, number),
    KEY idx_tickets_created (tenant_id, created_at, id),
    KEY idx_tickets_updated (tenant_id, updated_at, id),
    KEY idx_tickets_status (tenant_id, status, priority, id),
    KEY idx_tickets_priority (tenant_id, priority, id),
    KEY idx_tickets_assignee (tenant_id, assignee_id, status, id),
    KEY idx_tickets_contact (tenant_id, contact_id, id),
    KEY idx_tickets_breached (tenant_id, sla_breached, status, id),
    KEY idx_tickets_sla_due (sla_next_due_at),
    CONSTRAINT fk_tickets_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id),
    CONSTRAINT fk_tickets_contact FOREIGN KEY (contact_id) REFERENCES contacts (id)
        ON DELETE SET NULL,
    CONSTRAINT fk_tickets_sla FOREIGN KEY (sla_id) REFERENCES slas (id)
        ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ticket_tags (
    tenant_id   CHAR(36)        NOT NULL,
    ticket_id   BIGINT UNSIGNED NOT NULL,
    tag_id      BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (ticket_id, tag_id),
    KEY idx_ticket_tags_tag (tenant_id, tag_id, ticket_id),
    CONSTRAINT fk_ticket_tags_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_ticket_tags_tag FOREIGN KEY (tag_id) REFERENCES tags (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ticket_messages: the conversation.  author_type user: an agent (author_id a user id);
-- contact: the ticket's contact (author_id the contact id).  internal: a note agents
-- see and the contact does not.
CREATE TABLE ticket_messages (
    id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id    CHAR(36)        NOT NULL,
    ticket_id    BIGINT UNSIGNED NOT NULL,
    author_type  ENUM('user','contact') NOT NULL,
    author_id    BIGINT UNSIGNED NULL,
    body         TEXT            NOT NULL,
    internal     TINYINT(1)      NOT NULL DEFAULT 0,
    created_at   DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    KEY idx_ticket_messages_ticket (tenant_id, ticket_id, id),
    CONSTRAINT fk_ticket_messages_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ticket_attachments: files under CCAttachmentsDir/<tenant id>/, stored under a name the
-- server made (path), never the client's; filename is the sanitised name it is
-- downloaded as.
CREATE TABLE ticket_attachments (
    id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id     CHAR(36)        NOT NULL,
    ticket_id     BIGINT UNSIGNED NOT NULL,
    filename      VARCHAR(255)    NOT NULL,
    content_type  VARCHAR(255)    CHARACTER SET ascii NOT NULL,
    size_bytes    BIGINT UNSIGNED NOT NULL,
    sha256        CHAR(64)        CHARACTER SET ascii NOT NULL,
    path          VARCHAR(128)    CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    uploaded_by   BIGINT UNSIGNED NULL,
    created_at    DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_ticket_attachments_path (tenant_id, path),
    KEY idx_ticket_attachments_ticket (tenant_id, ticket_id, id),
    CONSTRAINT fk_ticket_attachments_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- ticket_templates: canned replies with {{ticket.number}}-style placeholders.
CREATE TABLE ticket_templates (
    id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id   CHAR(36)        NOT NULL,
    name        VARCHAR(100)    NOT NULL,
    body        TEXT            NOT NULL,
    created_at  DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at  DATETIME        NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (id),
    UNIQUE KEY uq_ticket_templates_name (tenant_id, name),
    KEY idx_ticket_templates_created (tenant_id, created_at, id),
    CONSTRAINT fk_ticket_templates_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
