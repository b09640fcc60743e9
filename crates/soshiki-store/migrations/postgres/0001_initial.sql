-- Soshiki metadata store, PostgreSQL (15 or later).
-- Timestamps are Unix seconds. Hex identifiers are lower-case text. `n` columns give a stable
-- insertion order for listings whose rows share a timestamp.

CREATE TABLE orgs (
    id TEXT PRIMARY KEY,
    suite BIGINT NOT NULL,
    name TEXT NOT NULL,
    record BYTEA NOT NULL,
    created BIGINT NOT NULL,
    expiry_days BIGINT CHECK (expiry_days >= 0),
    retention_days BIGINT CHECK (retention_days >= 0)
);
CREATE INDEX orgs_by_name ON orgs (name, id);

CREATE TABLE members (
    cert_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    member_name TEXT NOT NULL,
    roles BIGINT NOT NULL,
    certificate BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX members_by_org ON members (org_id, member_name, created);

CREATE TABLE enrollments (
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    request BYTEA NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created BIGINT NOT NULL,
    cert_id TEXT REFERENCES members (cert_id)
);
CREATE INDEX enrollments_by_org ON enrollments (org_id, status, n);

CREATE TABLE challenges (
    nonce BYTEA PRIMARY KEY,
    cert_id TEXT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX challenges_by_cert ON challenges (cert_id);
CREATE INDEX challenges_by_expiry ON challenges (expires);

CREATE TABLE tokens (
    token_hash BYTEA PRIMARY KEY,
    cert_id TEXT NOT NULL,
    expires BIGINT NOT NULL
);
CREATE INDEX tokens_by_cert ON tokens (cert_id);
CREATE INDEX tokens_by_expiry ON tokens (expires);

CREATE TABLE envelopes (
    id TEXT PRIMARY KEY,
    suite BIGINT NOT NULL,
    sender_cert TEXT NOT NULL REFERENCES members (cert_id),
    sender_org TEXT NOT NULL REFERENCES orgs (id),
    recipient_org TEXT NOT NULL REFERENCES orgs (id),
    blob_key TEXT NOT NULL,
    bodies_len BIGINT NOT NULL CHECK (bodies_len >= 0),
    created BIGINT NOT NULL,
    body_removed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX envelopes_by_blob ON envelopes (blob_key);
CREATE INDEX envelopes_live ON envelopes (body_removed, created);

CREATE TABLE deliveries (
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    envelope_id TEXT NOT NULL REFERENCES envelopes (id),
    holder_cert TEXT NOT NULL REFERENCES members (cert_id),
    holder_org TEXT NOT NULL REFERENCES orgs (id),
    parent TEXT REFERENCES deliveries (id),
    created_by TEXT NOT NULL,
    header BYTEA NOT NULL,
    -- part indices, 4 bytes big-endian each
    parts BYTEA NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('delivered', 'forwarded', 'opened', 'recalled', 'expired')),
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL
);
CREATE INDEX deliveries_by_holder ON deliveries (holder_cert, n);
CREATE INDEX deliveries_by_envelope ON deliveries (envelope_id, n);
CREATE INDEX deliveries_by_parent ON deliveries (parent);
CREATE INDEX deliveries_by_status ON deliveries (status, holder_org, created);

-- The audit trail: per organization, seq from 1, hash-chained; append-only.
CREATE TABLE audit (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    seq BIGINT NOT NULL CHECK (seq >= 1),
    entry BYTEA NOT NULL,
    prev_hash BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash BYTEA NOT NULL CHECK (length(hash) = 32),
    created BIGINT NOT NULL,
    PRIMARY KEY (org_id, seq)
);

CREATE FUNCTION soshiki_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION soshiki_audit_append_only();

CREATE TABLE rules (
    n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    org_id TEXT NOT NULL REFERENCES orgs (id),
    owner_cert TEXT NOT NULL REFERENCES members (cert_id),
    rule TEXT NOT NULL,
    position BIGINT NOT NULL,
    created BIGINT NOT NULL
);
CREATE INDEX rules_by_owner ON rules (owner_cert, position, n);
