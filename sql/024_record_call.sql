-- 024: a write's record, and its commit, in one round trip (issue 15, the write path).
-- Forward-only.
--
-- Every API write ends the same way: its audit entry, its event, for a DID create or
-- delete the tenant's dids_count (the max_dids quota), then COMMIT.  As statements that
-- was up to four round trips, and the quota's UPDATE held the tenant row from its round
-- trip to the commit's.  cc_record (shared/cc_audit.c) makes it one CALL: the statements
-- run inside the server, so with p_commit the tenant row is locked for microseconds, not
-- for a round trip, and a DID create is BEGIN, INSERT, CALL.
--
-- p_audit = 0 writes no audit entry, p_event_type NULL no event (the columns are the
-- audit entry's and the event's, as the API shows them).  p_dids_delta: 0, +1 (a create,
-- refused past max_dids) or -1 (a delete).  A refused create SIGNALs '45000' with
-- MYSQL_ERRNO 1644 and the text 'cc_quota:dids' before anything commits: the caller
-- rolls back and answers 409 quota_exceeded.  p_commit ends the transaction (outside one,
-- in autocommit, each insert has committed by itself and the COMMIT does nothing).  It runs
-- with the caller's rights (SQL SECURITY INVOKER): the application's account needs EXECUTE
-- besides its data access (t/env/db.sh), and no definer account must exist.  The text
-- parameters take the database's utf8mb4_unicode_ci (no CHARACTER SET of their own): the
-- comparison with users.tenant_id would otherwise mix collations.
DELIMITER //

CREATE PROCEDURE cc_record(
    IN p_tenant CHAR(36),
    IN p_audit TINYINT,
    IN p_actor_type VARCHAR(16),
    IN p_actor_ref VARCHAR(64),
    IN p_actor_id BIGINT UNSIGNED,
    IN p_actor_email VARCHAR(254),
    IN p_action VARCHAR(64),
    IN p_entity_type VARCHAR(32),
    IN p_entity_id VARCHAR(64),
    IN p_changes MEDIUMTEXT,
    IN p_ip VARCHAR(45),
    IN p_user_agent VARCHAR(512),
    IN p_request_id VARCHAR(128),
    IN p_event_type VARCHAR(64),
    IN p_event_data MEDIUMTEXT,
    IN p_dids_delta INT,
    IN p_commit TINYINT)
    MODIFIES SQL DATA
    SQL SECURITY INVOKER
BEGIN
    IF p_audit THEN
        INSERT INTO audit_logs (tenant_id, actor_type, actor_ref, actor_id, actor_email,
                                action, entity_type, entity_id, changes, ip, user_agent,
                                request_id)
        VALUES (p_tenant, p_actor_type, p_actor_ref, p_actor_id,
                COALESCE(p_actor_email, (SELECT u.email FROM users u
                                         WHERE u.tenant_id = p_tenant AND u.id = p_actor_id)),
                p_action, p_entity_type, p_entity_id, p_changes, p_ip, p_user_agent,
                p_request_id);
    END IF;
    IF p_event_type IS NOT NULL THEN
        INSERT INTO events (tenant_id, type, entity_type, entity_id, data)
        VALUES (p_tenant, p_event_type, p_entity_type, p_entity_id, p_event_data);
    END IF;
    IF p_dids_delta > 0 THEN
        UPDATE tenants SET dids_count = dids_count + 1
         WHERE id = p_tenant AND dids_count < max_dids;
        IF ROW_COUNT() = 0 THEN
            SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1644, MESSAGE_TEXT = 'cc_quota:dids';
        END IF;
    ELSEIF p_dids_delta < 0 THEN
        UPDATE tenants SET dids_count = dids_count - 1 WHERE id = p_tenant AND dids_count > 0;
    END IF;
    IF p_commit THEN
        COMMIT;
    END IF;
END //

DELIMITER ;
