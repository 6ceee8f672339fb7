-- 007: refresh-token families get an absolute lifetime (issue 8 #10), and the reuse
-- leeway a bound (#11).
-- family_started_at is when the family's login happened; every token of the family
-- carries it (a successor copies it), so the retention job purging a family's oldest
-- rows cannot move it.  CCRefreshFamilyMaxAge counts from it at every refresh.
-- leeway_uses: siblings a rotated token gave inside CCRefreshReuseLeeway (issue 8 #11);
-- past a small number a replay is reuse even inside the leeway.
ALTER TABLE refresh_tokens
    ADD COLUMN family_started_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP() AFTER family_id,
    ADD COLUMN leeway_uses TINYINT UNSIGNED NOT NULL DEFAULT 0 AFTER revoked_at;

-- Existing families: the oldest token still stored is the best start we know.
UPDATE refresh_tokens rt
JOIN (SELECT tenant_id, family_id, MIN(created_at) AS started
      FROM refresh_tokens GROUP BY tenant_id, family_id) f
  ON f.tenant_id = rt.tenant_id AND f.family_id = rt.family_id
SET rt.family_started_at = f.started;
