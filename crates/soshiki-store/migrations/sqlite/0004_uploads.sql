-- Pending uploads, from POST /v1/envelopes until the envelope commits: the orphan collector
-- keeps exactly the blobs these records (and committed envelopes) claim, whatever the blobs'
-- modification times; a record past `expires` (plus a grace period) claims nothing.
CREATE TABLE uploads (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    actor_cert TEXT NOT NULL REFERENCES members (cert_id),
    record_key TEXT NOT NULL,
    blob_key TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL CHECK (bytes >= 0),
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX uploads_by_org ON uploads (org_id, expires);
CREATE INDEX uploads_by_expiry ON uploads (expires);
