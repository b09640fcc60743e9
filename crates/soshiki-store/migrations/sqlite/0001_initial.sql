-- Soshiki metadata store, SQLite (the embedded default).
-- Timestamps are Unix seconds. Hex identifiers are lower-case text. `n` columns give a stable
-- insertion order for listings whose rows share a timestamp.

CREATE TABLE orgs (
    id TEXT PRIMARY KEY NOT NULL,
    suite INTEGER NOT NULL,
    name TEXT NOT NULL,
    record BLOB NOT NULL,
    created INTEGER NOT NULL,
    expiry_days INTEGER CHECK (expiry_days >= 0),
    retention_days INTEGER CHECK (retention_days >= 0)
);
CREATE INDEX orgs_by_name ON orgs (name, id);

CREATE TABLE members (
    cert_id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    member_name TEXT NOT NULL,
    roles INTEGER NOT NULL,
    certificate BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX members_by_org ON members (org_id, member_name, created);

CREATE TABLE enrollments (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    request BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created INTEGER NOT NULL,
    cert_id TEXT REFERENCES members (cert_id)
);
CREATE INDEX enrollments_by_org ON enrollments (org_id, status, n);

CREATE TABLE challenges (
    nonce BLOB PRIMARY KEY NOT NULL,
    cert_id TEXT NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX challenges_by_cert ON challenges (cert_id);
CREATE INDEX challenges_by_expiry ON challenges (expires);

CREATE TABLE tokens (
    token_hash BLOB PRIMARY KEY NOT NULL,
    cert_id TEXT NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX tokens_by_cert ON tokens (cert_id);
CREATE INDEX tokens_by_expiry ON tokens (expires);

CREATE TABLE envelopes (
    id TEXT PRIMARY KEY NOT NULL,
    suite INTEGER NOT NULL,
    sender_cert TEXT NOT NULL REFERENCES members (cert_id),
    sender_org TEXT NOT NULL REFERENCES orgs (id),
    recipient_org TEXT NOT NULL REFERENCES orgs (id),
    blob_key TEXT NOT NULL,
    bodies_len INTEGER NOT NULL CHECK (bodies_len >= 0),
    created INTEGER NOT NULL,
    body_removed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX envelopes_by_blob ON envelopes (blob_key);
CREATE INDEX envelopes_live ON envelopes (body_removed, created);

CREATE TABLE deliveries (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    envelope_id TEXT NOT NULL REFERENCES envelopes (id),
    holder_cert TEXT NOT NULL REFERENCES members (cert_id),
    holder_org TEXT NOT NULL REFERENCES orgs (id),
    parent TEXT REFERENCES deliveries (id),
    created_by TEXT NOT NULL,
    header BLOB NOT NULL,
    -- part indices, 4 bytes big-endian each
    parts BLOB NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('delivered', 'forwarded', 'opened', 'recalled', 'expired')),
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX deliveries_by_holder ON deliveries (holder_cert, n);
CREATE INDEX deliveries_by_envelope ON deliveries (envelope_id, n);
CREATE INDEX deliveries_by_parent ON deliveries (parent);
CREATE INDEX deliveries_by_status ON deliveries (status, holder_org, created);

-- The audit trail: per organization, seq from 1, hash-chained; append-only.
CREATE TABLE audit (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    entry BLOB NOT NULL,
    prev_hash BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash BLOB NOT NULL CHECK (length(hash) = 32),
    created INTEGER NOT NULL,
    PRIMARY KEY (org_id, seq)
) WITHOUT ROWID;

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TABLE rules (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    owner_cert TEXT NOT NULL REFERENCES members (cert_id),
    rule TEXT NOT NULL,
    position INTEGER NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX rules_by_owner ON rules (owner_cert, position, n);
