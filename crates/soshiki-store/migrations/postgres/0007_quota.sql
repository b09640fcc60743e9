-- An organization's storage quota in bytes (NULL: unlimited): what its members' envelopes,
-- deliveries and pending uploads occupy on the server (Store::org_usage). An upload that would
-- take the organization over it is refused when it is created.
ALTER TABLE orgs ADD COLUMN quota_bytes BIGINT CHECK (quota_bytes > 0);
-- The usage query's lookups: bodies by sender organization, headers by creator.
CREATE INDEX envelopes_by_sender_org ON envelopes (sender_org, body_removed);
CREATE INDEX deliveries_by_creator ON deliveries (created_by);
