-- The newest organization-signed partner list of each organization (SPEC.md §5.8, issue 9):
-- the partner organizations its administrator confirmed, honoured by every member's client.
-- A list replaces the stored one only with a greater serial number.
CREATE TABLE partner_lists (
    org_id TEXT PRIMARY KEY REFERENCES orgs (id),
    serial INTEGER NOT NULL CHECK (serial >= 1),
    list BLOB NOT NULL,
    created INTEGER NOT NULL
);
