-- 011: CDR summaries kept by triggers (issue 9, performance).  Forward-only.
--
-- /cdrs/stats over a month of 1,000,000 calls read 1,000,000 index entries (2.5 s at
-- best with the covering index of 010), and the first page of /cdrs counted every row
-- of the tenant for its total (4 to 5 s).  These two tables hold the same sums per
-- time bucket, kept exactly by triggers on cdr whatever writes it (Asterisk's
-- cdr_adaptive_odbc inserts; an operator's cleanup deletes), so a month is a few
-- thousand summary rows.  The readers (mod_callcenter/cc_cdr_stats.c, cc_cdrs.c) read
-- whole buckets here and only the partial buckets at the window's edges from cdr, so
-- every answer is exact for any from/to.
--
-- cdr_rollup_time: per tenant, 15 minutes (the finest step of any zone's offset from
-- UTC: +05:30, +05:45 and +12:45 buckets stay whole local hours and days), disposition
-- and direction.  It serves the hour, day and disposition groups, the totals, and the
-- list's total when its filters are only from, to, direction and disposition.
-- cdr_rollup_key: per tenant, hour and value of queue, agent_id or did (dim); the
-- queue, agent and did groups and the list's total filtered on one of them.
--
-- What a row counts, as the statistics define it (cc_cdr_stats.c): calls; answered
-- (disposition ANSWERED); billsec of every call (NULL as 0); billsec and wait
-- (duration - billsec) of the answered calls.  An absent value (NULL) is stored as ''
-- (the readers' null group; '' already is one).  Keys keep cdr's collation, so a key
-- matches here exactly what it matches in cdr.  A row covers the calls of a tenant
-- (tenant_ref) with a start from 1000-01-01 on (DATETIME's supported range; the readers
-- read anything earlier from cdr); deletes and updates subtract, so a bucket may keep
-- a row of zeros, which the readers skip.
--
-- Locking: each cdr row change upserts one row of cdr_rollup_time, then one row per
-- dim of cdr_rollup_key in dim order, always in that order and only by primary key (a
-- record lock, no gap lock): concurrent inserts wait for each other briefly and never
-- deadlock.  Asterisk's insert commits with them (autocommit).
CREATE TABLE cdr_rollup_time (
    tenant_ref   VARCHAR(80)  NOT NULL,
    bucket       DATETIME     NOT NULL,   -- UTC, a multiple of 15 minutes
    disposition  VARCHAR(45)  NOT NULL,   -- '' for none
    direction    VARCHAR(16)  NOT NULL,   -- '' for none
    calls        BIGINT       NOT NULL,
    answered     BIGINT       NOT NULL,
    billsec      BIGINT       NOT NULL,
    ans_billsec  BIGINT       NOT NULL,
    ans_wait     BIGINT       NOT NULL,
    PRIMARY KEY (tenant_ref, bucket, disposition, direction)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE cdr_rollup_key (
    tenant_ref   VARCHAR(80)  NOT NULL,
    dim          ENUM('queue','agent','did') NOT NULL,
    hour         DATETIME     NOT NULL,   -- UTC, a whole hour
    k            VARCHAR(128) NOT NULL,   -- the queue, the agent id in decimal, the did; '' for none
    calls        BIGINT       NOT NULL,
    answered     BIGINT       NOT NULL,
    billsec      BIGINT       NOT NULL,
    ans_billsec  BIGINT       NOT NULL,
    ans_wait     BIGINT       NOT NULL,
    PRIMARY KEY (tenant_ref, dim, hour, k)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

DELIMITER //

-- Add one call (sign 1) or take it away (sign -1).  answered is the caller's
-- (disposition = 'ANSWERED' in cdr's collation).  A session that sets @cdr_rollup_off
-- (make bench's bulk seed: 7,000 rows/s with the summaries, 30,000 without) writes cdr
-- without them and must CALL cdr_rollup_rebuild() after; Asterisk never sets it.
CREATE PROCEDURE cdr_rollup_add(
    IN p_tenant VARCHAR(80) CHARACTER SET utf8mb4, IN p_start DATETIME,
    IN p_disposition VARCHAR(45) CHARACTER SET utf8mb4,
    IN p_direction VARCHAR(16) CHARACTER SET utf8mb4,
    IN p_queue VARCHAR(128) CHARACTER SET utf8mb4, IN p_agent BIGINT UNSIGNED,
    IN p_did VARCHAR(32) CHARACTER SET utf8mb4, IN p_billsec INT, IN p_duration INT,
    IN p_answered INT, IN p_sign INT)
    MODIFIES SQL DATA
BEGIN
    DECLARE v_billsec BIGINT DEFAULT p_sign * COALESCE(p_billsec, 0);
    DECLARE v_ans_billsec BIGINT DEFAULT p_sign * p_answered * COALESCE(p_billsec, 0);
    DECLARE v_ans_wait BIGINT
        DEFAULT p_sign * p_answered * (COALESCE(p_duration, 0) - COALESCE(p_billsec, 0));
    DECLARE v_hour DATETIME;

    IF p_tenant IS NOT NULL AND p_start >= TIMESTAMP'1000-01-01 00:00:00'
       AND @cdr_rollup_off IS NULL THEN
        SET v_hour = p_start - INTERVAL (TIME_TO_SEC(p_start) MOD 3600) SECOND;
        INSERT INTO cdr_rollup_time
            (tenant_ref, bucket, disposition, direction,
             calls, answered, billsec, ans_billsec, ans_wait)
        VALUES (p_tenant, p_start - INTERVAL (TIME_TO_SEC(p_start) MOD 900) SECOND,
                COALESCE(p_disposition, ''), COALESCE(p_direction, ''),
                p_sign, p_sign * p_answered, v_billsec, v_ans_billsec, v_ans_wait)
        ON DUPLICATE KEY UPDATE calls = calls + p_sign,
            answered = answered + p_sign * p_answered, billsec = billsec + v_billsec,
            ans_billsec = ans_billsec + v_ans_billsec, ans_wait = ans_wait + v_ans_wait;
        INSERT INTO cdr_rollup_key
            (tenant_ref, dim, hour, k, calls, answered, billsec, ans_billsec, ans_wait)
        VALUES (p_tenant, 'queue', v_hour, COALESCE(p_queue, ''),
                p_sign, p_sign * p_answered, v_billsec, v_ans_billsec, v_ans_wait),
               (p_tenant, 'agent', v_hour, COALESCE(CAST(p_agent AS CHAR), ''),
                p_sign, p_sign * p_answered, v_billsec, v_ans_billsec, v_ans_wait),
               (p_tenant, 'did', v_hour, COALESCE(p_did, ''),
                p_sign, p_sign * p_answered, v_billsec, v_ans_billsec, v_ans_wait)
        ON DUPLICATE KEY UPDATE calls = calls + p_sign,
            answered = answered + p_sign * p_answered, billsec = billsec + v_billsec,
            ans_billsec = ans_billsec + v_ans_billsec, ans_wait = ans_wait + v_ans_wait;
    END IF;
END//

-- Both summaries computed again from cdr (the migration's backfill; after a bulk load
-- without them).  Writers of cdr must wait meanwhile (LOCK TABLES, as below).  One
-- tenant and one UTC day at a time, each an index range (idx_cdr_ref_start for the
-- time sums, which need direction; the covering idx_cdr_ref_stats for the keyed ones):
-- a day's groups fit an in-memory temporary table, where grouping a whole table at once
-- spilled to disk (12.5M rows took over 20 minutes).  The keyed sums go through one row
-- per hour and (queue, agent, did), then per key.
CREATE PROCEDURE cdr_rollup_rebuild()
    MODIFIES SQL DATA
BEGIN
    DECLARE v_done INT DEFAULT 0;
    DECLARE v_tenant VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    DECLARE v_day DATETIME;
    DECLARE c_tenants CURSOR FOR
        SELECT DISTINCT tenant_ref FROM cdr WHERE tenant_ref IS NOT NULL;
    DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_done = 1;

    SET SESSION max_heap_table_size = 64 * 1024 * 1024;
    SET SESSION tmp_table_size = 64 * 1024 * 1024;
    DELETE FROM cdr_rollup_time;
    DELETE FROM cdr_rollup_key;
    CREATE TEMPORARY TABLE cdr_rollup_hk (
        hour DATETIME NOT NULL,
        q VARCHAR(128) NOT NULL, a VARCHAR(128) NOT NULL, d VARCHAR(128) NOT NULL,
        calls BIGINT NOT NULL, answered BIGINT NOT NULL, billsec BIGINT NOT NULL,
        ans_billsec BIGINT NOT NULL, ans_wait BIGINT NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
    OPEN c_tenants;
    tenants: LOOP
        FETCH c_tenants INTO v_tenant;
        IF v_done THEN
            LEAVE tenants;
        END IF;
        -- Day by day, from each day with rows to the next one (an index range each):
        -- a stray row far from the others costs one step, not one per calendar day.
        -- A day is [v_day, v_day + 86399 s]: that end exists for 9999-12-31 too.
        SELECT CAST(DATE(MIN(start)) AS DATETIME) INTO v_day
            FROM cdr WHERE tenant_ref = v_tenant
            AND start >= TIMESTAMP'1000-01-01 00:00:00';
        WHILE v_day IS NOT NULL DO
            INSERT INTO cdr_rollup_time
                (tenant_ref, bucket, disposition, direction, calls, answered, billsec,
                 ans_billsec, ans_wait)
            SELECT v_tenant, start - INTERVAL (TIME_TO_SEC(start) MOD 900) SECOND,
                   COALESCE(disposition, ''), COALESCE(direction, ''), COUNT(*),
                   SUM(COALESCE(disposition = 'ANSWERED', 0)), SUM(COALESCE(billsec, 0)),
                   SUM(IF(disposition = 'ANSWERED', COALESCE(billsec, 0), 0)),
                   SUM(IF(disposition = 'ANSWERED',
                          COALESCE(duration, 0) - COALESCE(billsec, 0), 0))
            FROM cdr FORCE INDEX (idx_cdr_ref_start)
            WHERE tenant_ref = v_tenant AND start >= v_day
            AND start <= v_day + INTERVAL 86399 SECOND
            GROUP BY 2, 3, 4;
            INSERT INTO cdr_rollup_hk
            SELECT start - INTERVAL (TIME_TO_SEC(start) MOD 3600) SECOND,
                   COALESCE(queue, ''), COALESCE(CAST(agent_id AS CHAR), ''),
                   COALESCE(did, ''), COUNT(*), SUM(COALESCE(disposition = 'ANSWERED', 0)),
                   SUM(COALESCE(billsec, 0)),
                   SUM(IF(disposition = 'ANSWERED', COALESCE(billsec, 0), 0)),
                   SUM(IF(disposition = 'ANSWERED',
                          COALESCE(duration, 0) - COALESCE(billsec, 0), 0))
            FROM cdr FORCE INDEX (idx_cdr_ref_stats)
            WHERE tenant_ref = v_tenant AND start >= v_day
            AND start <= v_day + INTERVAL 86399 SECOND
            GROUP BY 1, 2, 3, 4;
            INSERT INTO cdr_rollup_key
                (tenant_ref, dim, hour, k, calls, answered, billsec, ans_billsec, ans_wait)
            SELECT v_tenant, 'queue', hour, q, SUM(calls), SUM(answered), SUM(billsec),
                   SUM(ans_billsec), SUM(ans_wait) FROM cdr_rollup_hk GROUP BY 3, 4;
            INSERT INTO cdr_rollup_key
                (tenant_ref, dim, hour, k, calls, answered, billsec, ans_billsec, ans_wait)
            SELECT v_tenant, 'agent', hour, a, SUM(calls), SUM(answered), SUM(billsec),
                   SUM(ans_billsec), SUM(ans_wait) FROM cdr_rollup_hk GROUP BY 3, 4;
            INSERT INTO cdr_rollup_key
                (tenant_ref, dim, hour, k, calls, answered, billsec, ans_billsec, ans_wait)
            SELECT v_tenant, 'did', hour, d, SUM(calls), SUM(answered), SUM(billsec),
                   SUM(ans_billsec), SUM(ans_wait) FROM cdr_rollup_hk GROUP BY 3, 4;
            DELETE FROM cdr_rollup_hk;
            SELECT CAST(DATE(MIN(start)) AS DATETIME) INTO v_day
                FROM cdr WHERE tenant_ref = v_tenant
                AND start > v_day + INTERVAL 86399 SECOND;
        END WHILE;
    END LOOP;
    CLOSE c_tenants;
    DROP TEMPORARY TABLE cdr_rollup_hk;
END//

DELIMITER ;

-- The backfill and the triggers under one write lock on cdr: no row is counted twice
-- (by both) or missed (by either).  Writers of cdr (Asterisk) wait meanwhile: about
-- 18 s per million rows on the 2-core VM (231 s at 12.5M rows).  Schedule it.
LOCK TABLES cdr WRITE, cdr_rollup_time WRITE, cdr_rollup_key WRITE;

CREATE TRIGGER trg_cdr_rollup_insert AFTER INSERT ON cdr FOR EACH ROW
    CALL cdr_rollup_add(NEW.tenant_ref, NEW.start, NEW.disposition, NEW.direction,
                        NEW.queue, NEW.agent_id, NEW.did, NEW.billsec, NEW.duration,
                        COALESCE(NEW.disposition = 'ANSWERED', 0), 1);

CREATE TRIGGER trg_cdr_rollup_delete AFTER DELETE ON cdr FOR EACH ROW
    CALL cdr_rollup_add(OLD.tenant_ref, OLD.start, OLD.disposition, OLD.direction,
                        OLD.queue, OLD.agent_id, OLD.did, OLD.billsec, OLD.duration,
                        COALESCE(OLD.disposition = 'ANSWERED', 0), -1);

DELIMITER //
CREATE TRIGGER trg_cdr_rollup_update AFTER UPDATE ON cdr FOR EACH ROW
BEGIN
    CALL cdr_rollup_add(OLD.tenant_ref, OLD.start, OLD.disposition, OLD.direction,
                        OLD.queue, OLD.agent_id, OLD.did, OLD.billsec, OLD.duration,
                        COALESCE(OLD.disposition = 'ANSWERED', 0), -1);
    CALL cdr_rollup_add(NEW.tenant_ref, NEW.start, NEW.disposition, NEW.direction,
                        NEW.queue, NEW.agent_id, NEW.did, NEW.billsec, NEW.duration,
                        COALESCE(NEW.disposition = 'ANSWERED', 0), 1);
END//
DELIMITER ;

CALL cdr_rollup_rebuild();

UNLOCK TABLES;
