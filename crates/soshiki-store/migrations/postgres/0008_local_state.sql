-- A member's own browser state (pinned organizations, trust anchors), sealed and signed by the
-- member key on the member's device; the server keeps the newest copy per certificate and kind
-- (a greater serial replaces it) so that a browser profile rolled back or wiped is noticed.
CREATE TABLE local_states (
    cert_id TEXT NOT NULL REFERENCES members (cert_id),
    kind TEXT NOT NULL,
    serial BIGINT NOT NULL CHECK (serial >= 1),
    state BYTEA NOT NULL,
    updated BIGINT NOT NULL,
    PRIMARY KEY (cert_id, kind)
);
