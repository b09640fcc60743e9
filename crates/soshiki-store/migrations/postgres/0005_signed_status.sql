-- Organization-signed objects the server stores and serves but cannot forge (issue 8).

-- The newest organization-signed revocation list of each organization (SPEC.md §5.6). A list
-- replaces the stored one only with a greater serial number.
CREATE TABLE revocation_lists (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id),
    serial BIGINT NOT NULL CHECK (serial >= 1),
    list BYTEA NOT NULL,
    created BIGINT NOT NULL
);

-- The newest organization-signed checkpoint of each organization's audit trail (SPEC.md §5.7).
-- A checkpoint replaces the stored one only with a greater position.
CREATE TABLE audit_checkpoints (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id),
    position BIGINT NOT NULL CHECK (position >= 1),
    checkpoint BYTEA NOT NULL,
    created BIGINT NOT NULL
);

-- The set-rules action statement, signed by the owner, that stored each forwarder's current
-- rules: the owner's agent applies the rules only if it verifies.
CREATE TABLE rule_statements (
    owner_cert TEXT PRIMARY KEY REFERENCES members (cert_id),
    statement BYTEA NOT NULL
);
