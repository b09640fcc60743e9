-- Whether the organization lets only members with the sender role send to other
-- organizations (OrgPolicy::sender_role_required); FALSE: every member may, as before.
ALTER TABLE orgs ADD COLUMN sender_role_required BOOLEAN NOT NULL DEFAULT FALSE;
