-- make bench: the floor of bench-1 for the agent figures (issue 10): 20 queues, 200
-- agents (the tenant's first 200 users, each with an endpoint in two queues: 400
-- memberships, realtime rows included), and today's queue_log: 500 calls per queue over
-- the last two hours (answered, abandoned, timed out, as app_queue writes them: times in
-- UTC, ring times in ms, '' for missing fields) plus 5 callers waiting per queue.
-- Only what the agents and wallboard statements read is written (no ps_* rows).
SELECT id INTO @t1 FROM tenants WHERE slug = 'bench-1';
INSERT INTO call_queues (tenant_id, name, asterisk_name, created_at)
    SELECT @t1, CONCAT('Queue ', LPAD(seq, 2, '0')), CONCAT('bench1-q', seq), '2026-01-01'
    FROM seq_1_to_20;
INSERT INTO queues (name, strategy, timeout, wrapuptime, servicelevel)
    SELECT CONCAT('bench1-q', seq), 'rrmemory', 15, 5, 20 FROM seq_1_to_20;
CREATE TEMPORARY TABLE bench_agents AS
    SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM users
    WHERE tenant_id = @t1 AND email LIKE 'user%' ORDER BY id LIMIT 200;
INSERT INTO endpoints (tenant_id, extension, asterisk_id, user_id)
    SELECT @t1, CONCAT('7', LPAD(n, 3, '0')), CONCAT('bench1-7', LPAD(n, 3, '0')), id
    FROM bench_agents;
INSERT INTO call_queue_members (tenant_id, queue_id, endpoint_id)
    SELECT @t1, q.id, e.id FROM bench_agents a
    JOIN endpoints e ON e.tenant_id = @t1 AND e.user_id = a.id
    JOIN call_queues q ON q.tenant_id = @t1
     AND q.asterisk_name IN (CONCAT('bench1-q', 1 + a.n % 20), CONCAT('bench1-q', 1 + (a.n + 7) % 20));
INSERT INTO queue_members (queue_name, interface, membername, paused)
    SELECT q.asterisk_name, CONCAT('PJSIP/', e.asterisk_id), CONCAT('Agent ', e.extension), 0
    FROM call_queue_members m JOIN call_queues q ON q.id = m.queue_id
    JOIN endpoints e ON e.id = m.endpoint_id WHERE m.tenant_id = @t1;
-- @calls calls (make bench: BENCH_QUEUE_CALLS, default 10,000) over the last two hours, or over the part of today (UTC) already gone
-- when it is shorter (so the wallboard's "today" holds a day's calls whenever the bench
-- runs), each with its outcome 30 s later: 70 % CONNECT (hold 5..34 s), 20 % ABANDON,
-- 10 % EXITWITHTIMEOUT, in every queue (the verb follows seq DIV 20, the queue seq).
SET @span = GREATEST(LEAST(7200, TIME_TO_SEC(UTC_TIME()) - 60), 60);
INSERT INTO queue_log (`time`, callid, queuename, agent, event, data1, data2, data3, data4, data5)
    SELECT UTC_TIMESTAMP() - INTERVAL (seq * @span DIV @calls + 40) SECOND, CONCAT('bench.', seq),
           CONCAT('bench1-q', 1 + seq % 20), 'NONE', 'ENTERQUEUE', '', '+4930123456', '1',
           '', ''
    FROM seq_1_to_1000000 WHERE seq <= @calls;
INSERT INTO queue_log (`time`, callid, queuename, agent, event, data1, data2, data3, data4, data5)
    SELECT UTC_TIMESTAMP() - INTERVAL (seq * @span DIV @calls + 10) SECOND, CONCAT('bench.', seq),
           CONCAT('bench1-q', 1 + seq % 20),
           IF(seq DIV 20 % 10 < 7, CONCAT('Agent 7', LPAD(1 + seq % 200, 3, '0')), 'NONE'),
           ELT(1 + (seq DIV 20 % 10 >= 7) + (seq DIV 20 % 10 >= 9),
               'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT'),
           IF(seq DIV 20 % 10 < 7, 5 + seq % 30, '1'),
           IF(seq DIV 20 % 10 < 7, CONCAT('bench.', seq, '.1'), '1'),
           IF(seq DIV 20 % 10 < 7, '4000', '30'), '', ''
    FROM seq_1_to_1000000 WHERE seq <= @calls;
-- 5 callers waiting per queue (entered 10..60 s ago, no outcome yet).
INSERT INTO queue_log (`time`, callid, queuename, agent, event, data1, data2, data3, data4, data5)
    SELECT UTC_TIMESTAMP() - INTERVAL (10 + seq % 50) SECOND, CONCAT('bench.wait.', seq),
           CONCAT('bench1-q', 1 + seq % 20), 'NONE', 'ENTERQUEUE', '', '+4930123456', '1', '', ''
    FROM seq_1_to_100;
ANALYZE TABLE queue_log, call_queue_members, endpoints;
