-- 030: a ticket's search terms (issue 13: the tickets' q=).  Forward-only.
--
-- q= on tickets was subject LIKE '%q%', a scan of every ticket of the tenant (200,000 in
-- make bench).  Now, as for contacts (sql/018, contact_terms), a ticket is found through
-- its terms: the subject from the start of each of its parts and words to its end
-- (shared/cc_search.c, CC_SEARCH_PHRASE: "printer on fire", "on fire", "fire"), so q is
-- one range of (tenant_id, term): it matches from the start of any word of the subject,
-- several words included ("on fi").  mod_callcenter/cc_tickets.c writes them in the
-- ticket's transaction whenever the subject changes.
CREATE TABLE ticket_terms (
    tenant_id   CHAR(36)        NOT NULL,
    ticket_id   BIGINT UNSIGNED NOT NULL,
    term        VARCHAR(254)    NOT NULL,
    KEY idx_ticket_terms_term (tenant_id, term, ticket_id),
    KEY idx_ticket_terms_ticket (ticket_id),
    CONSTRAINT fk_ticket_terms_ticket FOREIGN KEY (ticket_id) REFERENCES tickets (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELIMITER //

-- The terms of the tickets that have none (of p_tenant, or of every tenant when NULL),
-- computed in SQL for the tickets written before this migration and for make bench's
-- seeded ones.  The same terms as the C's for a subject of ASCII text (test_845 checks
-- it); otherwise LOWER() lowers every letter, not ASCII's alone, and a term is cut at 254
-- characters rather than bytes: neither changes what a q= finds (the column's collation
-- ignores case).  The separators are the C's: space, C0, DEL, C1, U+2028 and U+2029.
CREATE PROCEDURE cc_ticket_terms_fill(IN p_tenant CHAR(36))
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    -- Each subject's terms once (seeded tickets repeat a few dozen subjects) into an
    -- indexed table of their own, then given to every ticket with that subject, byte for
    -- byte.
    DROP TEMPORARY TABLE IF EXISTS cc_fill_subject_terms;
    CREATE TEMPORARY TABLE cc_fill_subject_terms (
        subject VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        term    VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        KEY (subject)
    ) ENGINE=InnoDB;
    INSERT INTO cc_fill_subject_terms (subject, term)
    WITH RECURSIVE norm AS (
        SELECT DISTINCT t.subject COLLATE utf8mb4_bin AS subject,
               TRIM(REGEXP_REPLACE(t.subject,
                    '[ \\x{01}-\\x{1F}\\x{7F}-\\x{9F}\\x{2028}\\x{2029}]+', ' ')) AS s
          FROM tickets t
         WHERE (p_tenant IS NULL OR t.tenant_id = p_tenant)
           AND NOT EXISTS (SELECT 1 FROM ticket_terms tt WHERE tt.ticket_id = t.id)
    ), suffix AS (
        SELECT subject, CAST(s AS CHAR(255)) AS rest FROM norm WHERE s <> ''
        UNION ALL
        SELECT subject,
               SUBSTRING(rest, CHAR_LENGTH(REGEXP_SUBSTR(rest, '^.+?(?=(?<=[\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}])[A-Za-z0-9]|(?<= )[^ ])')) + 1)
          FROM suffix
         WHERE REGEXP_SUBSTR(rest, '^.+?(?=(?<=[\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}])[A-Za-z0-9]|(?<= )[^ ])') <> ''
    )
    SELECT DISTINCT subject, RTRIM(LEFT(LOWER(rest), 254)) COLLATE utf8mb4_bin FROM suffix;
    INSERT INTO ticket_terms (tenant_id, ticket_id, term)
    SELECT t.tenant_id, t.id, x.term
      FROM tickets t JOIN cc_fill_subject_terms x ON x.subject = t.subject COLLATE utf8mb4_bin
     WHERE (p_tenant IS NULL OR t.tenant_id = p_tenant)
       AND NOT EXISTS (SELECT 1 FROM ticket_terms tt WHERE tt.ticket_id = t.id);
    DROP TEMPORARY TABLE cc_fill_subject_terms;
END //

DELIMITER ;

CALL cc_ticket_terms_fill(NULL);
