-- The longest validity, in days, of a member certificate the organization issues (NULL: no
-- limit). The server refuses an approval whose certificate lasts longer.
ALTER TABLE orgs ADD COLUMN max_validity_days INTEGER CHECK (max_validity_days >= 0);
