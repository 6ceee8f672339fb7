-- 026: events numbered in commit order (issue 15, several database writer nodes).
-- Forward-only.
--
-- An event's id is the stream's position (SSE `id:`, Last-Event-ID, ?after=): a client
-- that has event N resumes after N, so no event may become visible below an id a client
-- can already have.  With AUTO_INCREMENT that did not hold: an id is given at insert and
-- becomes visible at commit, so a lower id could commit after a higher one.  On one
-- server the poller waited at such a gap and probed it with a locking read, but on a
-- Galera cluster an insert open on another node shows neither a row nor a lock (ids
-- interleaved per node, wsrep_auto_increment_control), and an event committed late was
-- passed over: lost for every stream of that node.
--
-- Now every insert into events takes its id from one counter row inside its own
-- transaction (the trigger below, for every writer: cc_record's CALL, a job, a test).
-- The row stays locked until the transaction ends, so the next event's number is only
-- given after the previous one has committed, or rolled back and given its number back:
-- ids become visible in id order with no gap, on every node (Galera commits writesets in
-- one total order everywhere, and two nodes numbering at once conflict on this row at
-- certification: one is rolled back and run again, like a deadlock).  A gap below a
-- visible id is then final (ids deleted by retention, or holes left before this
-- migration), and the poller reads on past it at once.
--
-- The cost: event writes are serialised from their event insert to their commit.
-- cc_record writes its event last, after the audit entry and the quota (sql/024, below),
-- and commits in the same CALL where the write ends there, so the row is held for
-- microseconds; a write that records mid-transaction holds it until its commit (the SLA
-- breach job's records of a batch of up to 100 tickets, written together at its end; a
-- queue member announcement; the AMI link's call events), and every other event write
-- waits for that.
CREATE TABLE event_seq (
    id  TINYINT UNSIGNED NOT NULL,
    n   BIGINT UNSIGNED  NOT NULL,
    PRIMARY KEY (id)
) ENGINE=InnoDB;

-- From the highest id ever given (AUTO_INCREMENT - 1), not the highest left: events
-- deleted by retention may have been the newest, and a running poller is past them.
INSERT INTO event_seq (id, n)
SELECT 1, GREATEST(COALESCE((SELECT MAX(id) FROM events), 0),
                   COALESCE((SELECT AUTO_INCREMENT - 1 FROM information_schema.TABLES
                             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events'), 0));

DELIMITER //

CREATE TRIGGER trg_events_number BEFORE INSERT ON events FOR EACH ROW
BEGIN
    UPDATE event_seq SET n = n + 1 WHERE id = 1;
    SET NEW.id = (SELECT n FROM event_seq WHERE id = 1);
END //

-- cc_record as in sql/024, the event written after the quota: the counter row is taken
-- by the last statement before the commit.
DROP PROCEDURE cc_record //

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
    IF p_dids_delta > 0 THEN
        UPDATE tenants SET dids_count = dids_count + 1
         WHERE id = p_tenant AND dids_count < max_dids;
        IF ROW_COUNT() = 0 THEN
            SIGNAL SQLSTATE '45000' SET MYSQL_ERRNO = 1644, MESSAGE_TEXT = 'cc_quota:dids';
        END IF;
    ELSEIF p_dids_delta < 0 THEN
        UPDATE tenants SET dids_count = dids_count - 1 WHERE id = p_tenant AND dids_count > 0;
    END IF;
    IF p_event_type IS NOT NULL THEN
        INSERT INTO events (tenant_id, type, entity_type, entity_id, data)
        VALUES (p_tenant, p_event_type, p_entity_type, p_entity_id, p_event_data);
    END IF;
    IF p_commit THEN
        COMMIT;
    END IF;
END //

DELIMITER ;
