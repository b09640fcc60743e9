-- A delivery's first download by its holder (GET …/header or …/envelope), observed by the
-- server: receipts report it, and a downloaded delivery can no longer be recalled.
ALTER TABLE deliveries ADD COLUMN downloaded BIGINT;
