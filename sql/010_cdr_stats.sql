-- 010: GET /cdrs/stats (issue 9).  A covering index for the statistics: the range on
-- (tenant_ref, start) carries every column the sums and the group keys read, so a
-- month of a tenant's calls is read from this index alone, without one row lookup per
-- call into the table (mod_callcenter/cc_cdr_stats.c forces it).  idx_cdr_ref_start
-- stays: the list's order (tenant_ref, start, id) is this index's only up to start.
ALTER TABLE cdr
    ADD KEY idx_cdr_ref_stats (tenant_ref, start, disposition, billsec, duration,
                               queue, agent_id, did);
