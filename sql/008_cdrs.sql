-- 008: the CDR API (issue 9).  A CDR row's tenant is its tenantid, else its accountcode
-- (API.md "CDR"): tenant_ref computes that once, when Asterisk inserts the row, so
-- every CDR statement filters on one indexed column and never on either alone (a row
-- whose tenantid and accountcode disagree belongs to its tenantid's tenant only).
-- Asterisk's cdr_adaptive_odbc leaves a column out of its INSERT when no CDR variable
-- of its name has a value, so the generated column is never written by it.
-- The indexes on tenantid and accountcode (002) give way to the same ones on
-- tenant_ref; InnoDB appends the primary key, so (tenant_ref, start) is also
-- (tenant_ref, start, id), the order of the API's cursor.
ALTER TABLE cdr
    ADD COLUMN tenant_ref VARCHAR(80)
        AS (COALESCE(NULLIF(tenantid, ''), NULLIF(accountcode, ''))) PERSISTENT,
    DROP KEY idx_cdr_tenant_start,
    DROP KEY idx_cdr_accountcode_start,
    DROP KEY idx_cdr_tenant_did_start,
    DROP KEY idx_cdr_tenant_queue_start,
    DROP KEY idx_cdr_tenant_agent_start,
    ADD KEY idx_cdr_ref_start (tenant_ref, start),
    ADD KEY idx_cdr_ref_did_start (tenant_ref, did, start),
    ADD KEY idx_cdr_ref_queue_start (tenant_ref, queue, start),
    ADD KEY idx_cdr_ref_agent_start (tenant_ref, agent_id, start),
    ADD KEY idx_cdr_ref_uniqueid (tenant_ref, uniqueid);
