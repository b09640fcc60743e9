-- An action statement is recorded at most once per organization: a replayed statement (the same
-- signed bytes sent again within the clock-skew window) makes its whole transaction fail with a
-- unique violation, so the replayed change is not applied.
CREATE UNIQUE INDEX audit_entry_once ON audit (org_id, entry);
