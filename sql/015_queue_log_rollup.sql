-- 015: queue_log summaries kept by triggers, for the wallboard (issue 10).  Forward-only.
--
-- GET /wallboard read every queue_log row of today per queue and probed the outcome of
-- every ENTERQUEUE: 300 ms of the two cores per request at 10,000 calls a day, where the
-- board is polled every 2 s per client.  Worse, a subquery's `queuename = <outer
-- column>` is a `ref` on idx_queue_log_queue_time's first part only (ANALYZE: r_rows =
-- every row the queue ever had, the time bounds applied row by row), so its cost grew
-- with the queue's whole history.  These tables hold the same figures, kept as rows are
-- written, deleted or updated, whatever writes them, and are keyed so that the board
-- reads them by index ranges on constants (tenant, time):
--
-- queue_log_rollup: per tenant, 15-minute bucket (UTC; every zone's offset is a multiple
-- of 15 minutes, so a local midnight is a bucket's start) and queue (call_queues.id),
-- the outcome rows counted as queue statistics count them (cc_queue_stats.c): CONNECT
-- answered, ABANDON abandoned or, below 5 s of wait, short (the wallboard's fixed
-- short-abandon threshold, WB_SHORT_ABANDON in cc_wallboard.c), EXITWITHTIMEOUT,
-- EXITEMPTY, EXITWITHKEY and WITHDRAW left unanswered.
--
-- A row of queue_log belongs to the queue whose asterisk_name is its queuename and whose
-- created_at is at or before its time (as in the statistics: an Asterisk name may have
-- served a deleted queue before), looked up when the row is written; a row of no queue of
-- ours is not summed.
--
-- Answered within the service level depends on the queue's servicelevel, which an
-- operator may change at any time, and the readers count with the current one.  A row
-- therefore records the servicelevel its CONNECTs were judged with (sl): NULL before the
-- first CONNECT, the value when every CONNECT counted in the row saw the same one, -1
-- once two differed.  Readers trust within_sl only when sl is NULL or the current value,
-- and count a bucket's CONNECTs again from queue_log otherwise (the buckets of the day
-- the level changed), through idx_queue_log_queue_bucket below: exact, without locking
-- queues, and a change that races a CONNECT only sends its bucket to queue_log.
--
-- queue_log_waiting: the callers in a queue now.  An ENTERQUEUE adds its (queue, callid),
-- the call's outcome row removes it, and QUEUESTART (written once each time Asterisk
-- starts, main/logger.c logger_queue_start(), before any call can enter a queue) removes
-- every earlier entry: a restart ends every wait, and no outcome row is ever written for
-- those callers.  An entry whose outcome row was lost (Asterisk writes a queue_log row
-- once, and drops one its database refuses) stays; the wallboard ignores entries older
-- than a day.  Deleting an ENTERQUEUE row (an operator's retention cleanup) removes its
-- entry; deleting outcome rows changes nothing here (the call has ended).
--
-- A session that sets @queue_log_rollup_off writes queue_log without the triggers' work
-- and must CALL queue_log_rollup_rebuild() after (Asterisk never sets it).
--
-- The routines are created with a sql_mode without STRICT_TRANS_TABLES (a routine runs
-- with the mode it was created in): data1..data5 are text, and under strict mode a CAST
-- of text that is not a number (CAST('12abc' AS SIGNED)) is an error inside an INSERT,
-- which would make Asterisk's own INSERT of that row fail (measured: ERROR 1292).  As
-- in a SELECT, the readers' mode, it reads as its leading number (12; '' and 'abc': 0).
--
-- Locking: an outcome row deletes one queue_log_waiting row and upserts one
-- queue_log_rollup row, both by primary key, in that order; an ENTERQUEUE upserts one
-- queue_log_waiting row; the lookups of call_queues and queues are plain reads.  No
-- trigger scans a range (a range's gap locks would let two of Asterisk's inserts
-- deadlock and one fail).

-- The 15-minute bucket of a row, for the recount: an index on (queuename, cc_bucket) is
-- found by equality on both parts, where (queuename, time) could only be found by the
-- queue.  Virtual: adding it rewrites nothing, and Asterisk's INSERTs (which name their
-- columns) never see it.
ALTER TABLE queue_log
    ADD COLUMN cc_bucket DATETIME
        AS (`time` - INTERVAL (TIME_TO_SEC(`time`) MOD 900) SECOND) VIRTUAL,
    ADD KEY idx_queue_log_queue_bucket (queuename, cc_bucket);

CREATE TABLE queue_log_rollup (
    tenant_id        CHAR(36)        NOT NULL,
    bucket           DATETIME        NOT NULL,   -- UTC, a multiple of 15 minutes
    queue_id         BIGINT UNSIGNED NOT NULL,   -- call_queues.id
    sl               BIGINT          NULL,       -- see above
    answered         BIGINT          NOT NULL,
    within_sl        BIGINT          NOT NULL,
    abandoned        BIGINT          NOT NULL,
    short_abandoned  BIGINT          NOT NULL,
    left_unanswered  BIGINT          NOT NULL,
    PRIMARY KEY (tenant_id, bucket, queue_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE queue_log_waiting (
    queuename  VARCHAR(256)    NOT NULL,
    callid     VARCHAR(80)     NOT NULL,
    tenant_id  CHAR(36)        NOT NULL,
    queue_id   BIGINT UNSIGNED NOT NULL,
    entered    DATETIME        NOT NULL,     -- the ENTERQUEUE's time
    log_id     BIGINT          NOT NULL,     -- the ENTERQUEUE's queue_log id
    PRIMARY KEY (queuename, callid),
    KEY idx_queue_log_waiting_tenant (tenant_id, entered),
    KEY idx_queue_log_waiting_log (log_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';

DELIMITER //

-- An outcome row's wait as the readers read it (cc_queue_stats_rules.h, CC_QL_WAIT):
-- whole seconds, '' or a negative value 0, NULL data NULL (which counts in no figure but
-- answered/left, as in the readers).  The triggers' and the rebuild's one definition;
-- like them it runs with the sql_mode it was created in.
CREATE FUNCTION queue_log_wait(
    p_event VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    p_data1 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    p_data3 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    p_data4 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci)
    RETURNS BIGINT DETERMINISTIC NO SQL
    RETURN GREATEST(CAST(CASE p_event WHEN 'CONNECT' THEN p_data1
        WHEN 'EXITWITHKEY' THEN p_data4 ELSE p_data3 END AS SIGNED), 0)//

-- The queue a row of queue_log belongs to (see above): *p_tenant and *p_queue_id, NULL
-- for none.  A plain read of the unique asterisk_name.
CREATE PROCEDURE queue_log_owner(
    IN p_queue VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_time DATETIME,
    OUT p_tenant CHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    OUT p_queue_id BIGINT UNSIGNED)
    READS SQL DATA
BEGIN
    SELECT MAX(tenant_id), MAX(id) INTO p_tenant, p_queue_id
    FROM call_queues WHERE asterisk_name = p_queue AND created_at <= p_time;
END//

-- Count one outcome row (sign 1) or take it away (sign -1).  Other rows: nothing.
CREATE PROCEDURE queue_log_rollup_add(
    IN p_queue VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_time DATETIME,
    IN p_event VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data1 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data3 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data4 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_sign INT)
    MODIFIES SQL DATA
BEGIN
    DECLARE v_wait BIGINT DEFAULT queue_log_wait(p_event, p_data1, p_data3, p_data4);
    DECLARE v_connect INT DEFAULT p_event = 'CONNECT';
    DECLARE v_sl BIGINT DEFAULT NULL;
    DECLARE v_tenant CHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_queue_id BIGINT UNSIGNED;

    IF p_queue IS NOT NULL AND p_time >= TIMESTAMP'1000-01-01 00:00:00'
       AND p_event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                       'EXITWITHKEY', 'WITHDRAW') THEN
        CALL queue_log_owner(p_queue, p_time, v_tenant, v_queue_id);
    END IF;
    IF v_queue_id IS NOT NULL THEN
        IF v_connect AND p_sign > 0 THEN
            SET v_sl = COALESCE((SELECT servicelevel FROM queues WHERE name = p_queue), 0);
        END IF;
        INSERT INTO queue_log_rollup
            (tenant_id, bucket, queue_id, sl, answered, within_sl, abandoned,
             short_abandoned, left_unanswered)
        VALUES (v_tenant, p_time - INTERVAL (TIME_TO_SEC(p_time) MOD 900) SECOND,
                v_queue_id,
                IF(v_connect, IF(p_sign > 0, v_sl, -1), NULL),
                p_sign * v_connect,
                IF(v_connect AND p_sign > 0, COALESCE(v_wait <= v_sl, 0), 0),
                p_sign * COALESCE(p_event = 'ABANDON' AND v_wait >= 5, 0),
                p_sign * COALESCE(p_event = 'ABANDON' AND v_wait < 5, 0),
                p_sign * (p_event IN ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY',
                                      'WITHDRAW')))
        -- within_sl before sl: it reads the row's sl as it was.
        ON DUPLICATE KEY UPDATE
            within_sl = IF(NOT v_connect, within_sl,
                IF(p_sign > 0,
                   IF(sl IS NULL OR sl = v_sl, within_sl + COALESCE(v_wait <= v_sl, 0),
                      within_sl),
                   IF(sl >= 0, within_sl - COALESCE(v_wait <= sl, 0), within_sl))),
            sl = IF(NOT v_connect, sl,
                IF(p_sign > 0, IF(sl IS NULL OR sl = v_sl, v_sl, -1),
                   IF(sl >= 0, sl, -1))),
            answered = answered + p_sign * v_connect,
            abandoned = abandoned + p_sign * COALESCE(p_event = 'ABANDON' AND v_wait >= 5, 0),
            short_abandoned = short_abandoned
                + p_sign * COALESCE(p_event = 'ABANDON' AND v_wait < 5, 0),
            left_unanswered = left_unanswered
                + p_sign * (p_event IN ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY',
                                        'WITHDRAW'));
    END IF;
END//

-- A row written (Asterisk's INSERT, or the new side of an UPDATE).
CREATE PROCEDURE queue_log_row_added(
    IN p_id BIGINT, IN p_time DATETIME,
    IN p_callid VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_queue VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_event VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data1 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data3 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data4 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci)
    MODIFIES SQL DATA
BEGIN
    DECLARE v_tenant CHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_queue_id BIGINT UNSIGNED;

    IF p_event = 'ENTERQUEUE' THEN
        IF p_queue IS NOT NULL AND p_callid IS NOT NULL AND p_time IS NOT NULL THEN
            CALL queue_log_owner(p_queue, p_time, v_tenant, v_queue_id);
            IF v_queue_id IS NOT NULL THEN
                INSERT INTO queue_log_waiting
                    (queuename, callid, tenant_id, queue_id, entered, log_id)
                VALUES (p_queue, p_callid, v_tenant, v_queue_id, p_time, p_id)
                ON DUPLICATE KEY UPDATE tenant_id = v_tenant, queue_id = v_queue_id,
                    entered = p_time, log_id = p_id;
            END IF;
        END IF;
    ELSEIF p_event = 'QUEUESTART' THEN
        DELETE FROM queue_log_waiting WHERE log_id < p_id;
    ELSEIF p_event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                       'EXITWITHKEY', 'WITHDRAW') THEN
        DELETE FROM queue_log_waiting WHERE queuename = p_queue AND callid = p_callid;
        CALL queue_log_rollup_add(p_queue, p_time, p_event, p_data1, p_data3, p_data4, 1);
    END IF;
END//

-- Both tables computed again from queue_log (the migration's backfill; after a bulk
-- load without the triggers).  Writers of queue_log must wait meanwhile (LOCK TABLES, as
-- below).  The summary one queue at a time (an index range each; a queue's buckets fit
-- an in-memory temporary table), with each queue's current servicelevel.  The callers
-- waiting: the ENTERQUEUEs of the last day after the last QUEUESTART without an outcome
-- row of the same call and queue written after them.
CREATE PROCEDURE queue_log_rollup_rebuild()
    MODIFIES SQL DATA
BEGIN
    DECLARE v_done INT DEFAULT 0;
    DECLARE v_queue VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_tenant CHAR(36) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_queue_id BIGINT UNSIGNED;
    DECLARE v_created DATETIME;
    DECLARE v_sl BIGINT;
    DECLARE v_start BIGINT;
    DECLARE c_queues CURSOR FOR SELECT asterisk_name, tenant_id, id, created_at
        FROM call_queues;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = 1;

    SET SESSION max_heap_table_size = 64 * 1024 * 1024;
    SET SESSION tmp_table_size = 64 * 1024 * 1024;
    DELETE FROM queue_log_rollup;
    DELETE FROM queue_log_waiting;
    OPEN c_queues;
    queues: LOOP
        FETCH c_queues INTO v_queue, v_tenant, v_queue_id, v_created;
        IF v_done THEN
            LEAVE queues;
        END IF;
        SET v_sl = COALESCE((SELECT servicelevel FROM queues WHERE name = v_queue), 0);
        INSERT INTO queue_log_rollup
            (tenant_id, bucket, queue_id, sl, answered, within_sl, abandoned,
             short_abandoned, left_unanswered)
        SELECT v_tenant, b, v_queue_id, IF(SUM(c) > 0, v_sl, NULL), SUM(c),
               SUM(COALESCE(c AND w <= v_sl, 0)),
               SUM(COALESCE(e = 'ABANDON' AND w >= 5, 0)),
               SUM(COALESCE(e = 'ABANDON' AND w < 5, 0)),
               SUM(e IN ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', 'WITHDRAW'))
        FROM (SELECT `time` - INTERVAL (TIME_TO_SEC(`time`) MOD 900) SECOND AS b,
                     event AS e, event = 'CONNECT' AS c,
                     queue_log_wait(event, data1, data3, data4) AS w
              FROM queue_log FORCE INDEX (idx_queue_log_queue_time)
              WHERE queuename = v_queue
              AND `time` >= GREATEST(v_created, TIMESTAMP'1000-01-01 00:00:00')
              AND event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                            'EXITWITHKEY', 'WITHDRAW')) o
        GROUP BY b;
    END LOOP;
    CLOSE c_queues;
    SET v_start = COALESCE((SELECT MAX(id) FROM queue_log WHERE event = 'QUEUESTART'), 0);
    INSERT INTO queue_log_waiting (queuename, callid, tenant_id, queue_id, entered, log_id)
    SELECT e.queuename, e.callid, q.tenant_id, q.id, e.`time`, e.id
    FROM queue_log e FORCE INDEX (idx_queue_log_time)
    JOIN call_queues q ON q.asterisk_name = e.queuename AND q.created_at <= e.`time`
    WHERE e.`time` >= UTC_TIMESTAMP() - INTERVAL 1 DAY AND e.event = 'ENTERQUEUE'
    AND e.id > v_start AND e.callid IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM queue_log o
                    WHERE o.callid = e.callid AND o.queuename = e.queuename AND o.id > e.id
                    AND o.event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                                    'EXITWITHKEY', 'WITHDRAW'))
    ORDER BY e.id
    ON DUPLICATE KEY UPDATE tenant_id = VALUES(tenant_id), queue_id = VALUES(queue_id),
        entered = VALUES(entered), log_id = VALUES(log_id);
END//

CREATE TRIGGER trg_queue_log_insert AFTER INSERT ON queue_log FOR EACH ROW
BEGIN
    IF @queue_log_rollup_off IS NULL THEN
        CALL queue_log_row_added(NEW.id, NEW.`time`, NEW.callid, NEW.queuename, NEW.event,
                                 NEW.data1, NEW.data3, NEW.data4);
    END IF;
END//

-- A row taken away (an operator's DELETE, or the old side of an UPDATE).
CREATE PROCEDURE queue_log_row_removed(
    IN p_id BIGINT, IN p_time DATETIME,
    IN p_queue VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_event VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data1 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data3 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    IN p_data4 VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci)
    MODIFIES SQL DATA
BEGIN
    IF p_event = 'ENTERQUEUE' THEN
        DELETE FROM queue_log_waiting WHERE log_id = p_id;
    END IF;
    CALL queue_log_rollup_add(p_queue, p_time, p_event, p_data1, p_data3, p_data4, -1);
END//

CREATE TRIGGER trg_queue_log_delete AFTER DELETE ON queue_log FOR EACH ROW
BEGIN
    IF @queue_log_rollup_off IS NULL THEN
        CALL queue_log_row_removed(OLD.id, OLD.`time`, OLD.queuename, OLD.event, OLD.data1,
                                   OLD.data3, OLD.data4);
    END IF;
END//

CREATE TRIGGER trg_queue_log_update AFTER UPDATE ON queue_log FOR EACH ROW
BEGIN
    IF @queue_log_rollup_off IS NULL THEN
        CALL queue_log_row_removed(OLD.id, OLD.`time`, OLD.queuename, OLD.event, OLD.data1,
                                   OLD.data3, OLD.data4);
        CALL queue_log_row_added(NEW.id, NEW.`time`, NEW.callid, NEW.queuename, NEW.event,
                                 NEW.data1, NEW.data3, NEW.data4);
    END IF;
END//

DELIMITER ;

SET SESSION sql_mode = DEFAULT;

-- The backfill under a write lock on queue_log: no row counted twice or missed.
-- Asterisk's queue_log writes wait meanwhile.
LOCK TABLES queue_log WRITE, queue_log AS e READ, queue_log AS o READ,
    queue_log_rollup WRITE, queue_log_waiting WRITE, queues READ, call_queues READ,
    call_queues AS q READ;
CALL queue_log_rollup_rebuild();
UNLOCK TABLES;
