-- An action statement is recorded at most once per organization: a replayed statement (the same
-- signed bytes sent again within the clock-skew window) makes its whole transaction fail with a
-- unique violation, so the replayed change is not applied. Indexed by digest: a B-tree entry
-- must stay small.
CREATE UNIQUE INDEX audit_entry_once ON audit (org_id, sha256(entry));
