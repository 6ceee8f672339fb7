-- make bench: CDR rows for the reporting figures (issue 9).  Set by bench.sh:
-- @tenant (the tenant id), @rows (how many), @accountcode_share (1 in N rows carry the
-- tenant in accountcode only, as older Asterisk builds write it).  The rows spread over
-- the 30 days from 2026-11-01 00:00 UTC, as cdr_adaptive_odbc writes them
-- (usegmtime=yes; an unanswered call's answer is 1970-01-01 00:00:00).  The SEQUENCE
-- engine makes the rows, streamed straight into the table (no derived table, which
-- RAND() would force into a temporary table); RAND(seq) gives each row the same value
-- wherever it is repeated, and the same rows on every run.
SET @sql = CONCAT(
 'INSERT INTO cdr (tenantid, accountcode, src, dst, clid, dcontext, channel, dstchannel,',
 ' lastapp, lastdata, start, answer, `end`, duration, billsec, disposition, amaflags,',
 ' uniqueid, linkedid, sequence, did, direction, queue, agent_id)',
 ' SELECT IF(seq % @accountcode_share = 0, NULL, @tenant), @tenant,',
 ' CONCAT(''+49301'', LPAD(seq % 1000000, 6, ''0'')), CONCAT(''1'', LPAD(seq % 200, 3, ''0'')),',
 ' CONCAT(''"Caller '', seq % 5000, ''" <+49301'', LPAD(seq % 1000000, 6, ''0''), ''>''),',
 ' ''tenant-bench'', CONCAT(''PJSIP/trunk-'', seq), ''PJSIP/bench-1001-0000'', ''Queue'', ''support'',',
 ' @s := TIMESTAMP''2026-11-01 00:00:00'' + INTERVAL FLOOR((seq - 1) * 2592000 / @rows) SECOND,',
 ' IF(@a := (RAND(seq) < 0.7), @s + INTERVAL FLOOR(RAND(seq + 7) * 60) SECOND,',
 '    TIMESTAMP''1970-01-01 00:00:00''),',
 ' @s + INTERVAL (FLOOR(RAND(seq + 7) * 60) + IF(@a, FLOOR(RAND(seq + 13) * 600), 0)) SECOND,',
 ' FLOOR(RAND(seq + 7) * 60) + IF(@a, FLOOR(RAND(seq + 13) * 600), 0),',
 ' IF(@a, FLOOR(RAND(seq + 13) * 600), 0),',
 ' IF(@a, ''ANSWERED'', ELT(1 + seq % 4, ''NO ANSWER'', ''NO ANSWER'', ''BUSY'', ''FAILED'')),',
 ' ''DOCUMENTATION'', CONCAT(UNIX_TIMESTAMP(@s), ''.'', seq), CONCAT(UNIX_TIMESTAMP(@s), ''.'', seq),',
 ' seq, CONCAT(''+4930555'', LPAD(seq % 20, 4, ''0'')),',
 ' ELT(1 + seq % 3, ''inbound'', ''outbound'', ''internal''),',
 ' ELT(1 + seq % 5, ''support'', ''sales'', ''billing'', ''vip'', ''overflow''),',
 ' IF(@a, 1 + seq % 50, NULL)',
 ' FROM seq_1_to_', @rows);
PREPARE seed FROM @sql;
EXECUTE seed;
DEALLOCATE PREPARE seed;
