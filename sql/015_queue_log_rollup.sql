-- 015: queue_log summaries kept by triggers, for the wallboard (issue 10).  Forward-only.
--
-- GET /wallboard read every queue_log row of today (an index range per queue) and probed
-- the outcome of every ENTERQUEUE: 300 ms of the two cores per request at 10,000 calls a
-- day, growing through the day, where the board is polled every 2 s per client.  These
-- two tables hold the same figures as Asterisk writes its rows, whatever writes them:
--
-- queue_log_rollup: per queue (queuename) and 15-minute bucket (UTC; every zone's offset
-- is a multiple of 15 minutes, so a local midnight is a bucket's start), the outcome
-- rows counted as queue statistics count them (mod_callcenter/cc_queue_stats.c): CONNECT
-- answered, ABANDON abandoned or, below 5 s of wait, short (the wallboard's fixed
-- short-abandon threshold, WB_SHORT_ABANDON in cc_wallboard.c), EXITWITHTIMEOUT,
-- EXITEMPTY, EXITWITHKEY and WITHDRAW left unanswered.  The wallboard reads whole buckets
-- here and the partial buckets at both ends of its window from queue_log.
--
-- Answered within the service level depends on the queue's servicelevel, which an
-- operator may change at any time, and the readers count with the current one.  A row
-- therefore records the servicelevel its CONNECTs were judged with (sl): NULL before the
-- first CONNECT, the value when every CONNECT counted in the row saw the same one, -1
-- once two differed.  Readers trust within_sl only when sl is NULL or the current value,
-- and count a bucket's CONNECTs again from queue_log otherwise (the buckets of the day
-- the level changed): exact without locking queues, and a change that races a CONNECT
-- only sends its bucket to queue_log.
--
-- queue_log_waiting: the callers in a queue now.  An ENTERQUEUE adds its (queue, callid),
-- the call's outcome row removes it, and QUEUESTART (written once each time Asterisk
-- starts, main/logger.c logger_queue_start(), before any call can enter a queue) removes
-- every earlier entry: a restart ends every wait, and no outcome row is ever written for
-- those callers.  An entry whose outcome row was lost (Asterisk writes queue_log rows
-- once, and drops one its database refuses) stays; the wallboard ignores entries older
-- than a day.  Deleting an ENTERQUEUE row (an operator's retention cleanup) removes its
-- entry; deleting outcome rows changes nothing here (the call has ended).
--
-- Deletes and updates of queue_log subtract from queue_log_rollup, so an operator's
-- cleanup keeps it exact.  A session that sets @queue_log_rollup_off writes queue_log
-- without the triggers' work and must CALL queue_log_rollup_rebuild() after (Asterisk
-- never sets it).
--
-- The triggers are created with a sql_mode without STRICT_TRANS_TABLES (a trigger runs
-- with the mode it was created in): data1..data5 are text, and under strict mode a CAST
-- of text that is not a number (CAST('12abc' AS SIGNED)) is an error inside an INSERT,
-- which would make Asterisk's own INSERT of that row fail (measured: ERROR 1292).  As
-- in a SELECT, the readers' mode, it reads as its leading number (12; '' and 'abc': 0).
--
-- Locking: an outcome row deletes one queue_log_waiting row and upserts one
-- queue_log_rollup row, both by primary key, in that order; an ENTERQUEUE upserts one
-- queue_log_waiting row.  No trigger scans a range (a range's gap locks would let two
-- of Asterisk's inserts deadlock and one fail).
CREATE TABLE queue_log_rollup (
    queuename        VARCHAR(256) NOT NULL,
    bucket           DATETIME     NOT NULL,   -- UTC, a multiple of 15 minutes
    sl               BIGINT       NULL,       -- see above
    answered         BIGINT       NOT NULL,
    within_sl        BIGINT       NOT NULL,
    abandoned        BIGINT       NOT NULL,
    short_abandoned  BIGINT       NOT NULL,
    left_unanswered  BIGINT       NOT NULL,
    PRIMARY KEY (queuename, bucket)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE queue_log_waiting (
    queuename  VARCHAR(256) NOT NULL,
    callid     VARCHAR(80)  NOT NULL,
    entered    DATETIME     NOT NULL,     -- the ENTERQUEUE's time
    log_id     BIGINT       NOT NULL,     -- the ENTERQUEUE's queue_log id
    PRIMARY KEY (queuename, callid),
    KEY idx_queue_log_waiting_entered (queuename, entered),
    KEY idx_queue_log_waiting_log (log_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';

DELIMITER //

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
    -- The wait as the readers read it (cc_queue_stats_rules.h, CC_QL_WAIT): NULL data
    -- gives NULL, which counts in no figure but answered/left (as in the readers).
    DECLARE v_wait BIGINT DEFAULT GREATEST(CAST(CASE p_event WHEN 'CONNECT' THEN p_data1
        WHEN 'EXITWITHKEY' THEN p_data4 ELSE p_data3 END AS SIGNED), 0);
    DECLARE v_connect INT DEFAULT p_event = 'CONNECT';
    DECLARE v_sl BIGINT DEFAULT NULL;

    IF p_queue IS NOT NULL AND p_time >= TIMESTAMP'1000-01-01 00:00:00'
       AND p_event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                       'EXITWITHKEY', 'WITHDRAW')
       AND @queue_log_rollup_off IS NULL THEN
        IF v_connect AND p_sign > 0 THEN
            SET v_sl = COALESCE((SELECT servicelevel FROM queues WHERE name = p_queue), 0);
        END IF;
        INSERT INTO queue_log_rollup
            (queuename, bucket, sl, answered, within_sl, abandoned, short_abandoned,
             left_unanswered)
        VALUES (p_queue, p_time - INTERVAL (TIME_TO_SEC(p_time) MOD 900) SECOND,
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
    IF @queue_log_rollup_off IS NULL THEN
        IF p_event = 'ENTERQUEUE' THEN
            IF p_queue IS NOT NULL AND p_callid IS NOT NULL AND p_time IS NOT NULL THEN
                INSERT INTO queue_log_waiting (queuename, callid, entered, log_id)
                VALUES (p_queue, p_callid, p_time, p_id)
                ON DUPLICATE KEY UPDATE entered = p_time, log_id = p_id;
            END IF;
        ELSEIF p_event = 'QUEUESTART' THEN
            DELETE FROM queue_log_waiting WHERE log_id < p_id;
        ELSEIF p_event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                           'EXITWITHKEY', 'WITHDRAW') THEN
            DELETE FROM queue_log_waiting WHERE queuename = p_queue AND callid = p_callid;
            CALL queue_log_rollup_add(p_queue, p_time, p_event, p_data1, p_data3, p_data4, 1);
        END IF;
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
    DECLARE v_queue VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_sl BIGINT;
    DECLARE v_start BIGINT;
    DECLARE c_queues CURSOR FOR SELECT DISTINCT queuename FROM queue_log
        WHERE queuename IS NOT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = 1;

    SET SESSION max_heap_table_size = 64 * 1024 * 1024;
    SET SESSION tmp_table_size = 64 * 1024 * 1024;
    DELETE FROM queue_log_rollup;
    DELETE FROM queue_log_waiting;
    OPEN c_queues;
    queues: LOOP
        FETCH c_queues INTO v_queue;
        IF v_done THEN
            LEAVE queues;
        END IF;
        SET v_sl = COALESCE((SELECT servicelevel FROM queues WHERE name = v_queue), 0);
        INSERT INTO queue_log_rollup
            (queuename, bucket, sl, answered, within_sl, abandoned, short_abandoned,
             left_unanswered)
        SELECT v_queue, b, IF(SUM(c) > 0, v_sl, NULL), SUM(c),
               SUM(COALESCE(c AND w <= v_sl, 0)),
               SUM(COALESCE(e = 'ABANDON' AND w >= 5, 0)),
               SUM(COALESCE(e = 'ABANDON' AND w < 5, 0)),
               SUM(e IN ('EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', 'WITHDRAW'))
        FROM (SELECT `time` - INTERVAL (TIME_TO_SEC(`time`) MOD 900) SECOND AS b,
                     event AS e, event = 'CONNECT' AS c,
                     GREATEST(CAST(CASE event WHEN 'CONNECT' THEN data1
                                   WHEN 'EXITWITHKEY' THEN data4 ELSE data3 END
                                   AS SIGNED), 0) AS w
              FROM queue_log FORCE INDEX (idx_queue_log_queue_time)
              WHERE queuename = v_queue AND `time` >= TIMESTAMP'1000-01-01 00:00:00'
              AND event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                            'EXITWITHKEY', 'WITHDRAW')) o
        GROUP BY b;
    END LOOP;
    CLOSE c_queues;
    SET v_start = COALESCE((SELECT MAX(id) FROM queue_log WHERE event = 'QUEUESTART'), 0);
    INSERT INTO queue_log_waiting (queuename, callid, entered, log_id)
    SELECT e.queuename, e.callid, e.`time`, e.id
    FROM queue_log e FORCE INDEX (idx_queue_log_time)
    WHERE e.`time` >= UTC_TIMESTAMP() - INTERVAL 1 DAY AND e.event = 'ENTERQUEUE'
    AND e.id > v_start AND e.queuename IS NOT NULL AND e.callid IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM queue_log o
                    WHERE o.callid = e.callid AND o.queuename = e.queuename AND o.id > e.id
                    AND o.event IN ('CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY',
                                    'EXITWITHKEY', 'WITHDRAW'))
    ORDER BY e.id
    ON DUPLICATE KEY UPDATE entered = VALUES(entered), log_id = VALUES(log_id);
END//

CREATE TRIGGER trg_queue_log_insert AFTER INSERT ON queue_log FOR EACH ROW
    CALL queue_log_row_added(NEW.id, NEW.`time`, NEW.callid, NEW.queuename, NEW.event,
                             NEW.data1, NEW.data3, NEW.data4)//

CREATE TRIGGER trg_queue_log_delete AFTER DELETE ON queue_log FOR EACH ROW
BEGIN
    IF @queue_log_rollup_off IS NULL THEN
        IF OLD.event = 'ENTERQUEUE' THEN
            DELETE FROM queue_log_waiting WHERE log_id = OLD.id;
        END IF;
        CALL queue_log_rollup_add(OLD.queuename, OLD.`time`, OLD.event, OLD.data1,
                                  OLD.data3, OLD.data4, -1);
    END IF;
END//

CREATE TRIGGER trg_queue_log_update AFTER UPDATE ON queue_log FOR EACH ROW
BEGIN
    IF @queue_log_rollup_off IS NULL THEN
        IF OLD.event = 'ENTERQUEUE' THEN
            DELETE FROM queue_log_waiting WHERE log_id = OLD.id;
        END IF;
        CALL queue_log_rollup_add(OLD.queuename, OLD.`time`, OLD.event, OLD.data1,
                                  OLD.data3, OLD.data4, -1);
        CALL queue_log_row_added(NEW.id, NEW.`time`, NEW.callid, NEW.queuename, NEW.event,
                                 NEW.data1, NEW.data3, NEW.data4);
    END IF;
END//

DELIMITER ;

SET SESSION sql_mode = DEFAULT;

-- The backfill under a write lock on queue_log: no row counted twice or missed.
-- Asterisk's queue_log writes wait meanwhile.
LOCK TABLES queue_log WRITE, queue_log AS e READ, queue_log AS o READ,
    queue_log_rollup WRITE, queue_log_waiting WRITE, queues READ;
CALL queue_log_rollup_rebuild();
UNLOCK TABLES;
