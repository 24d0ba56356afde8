-- A 6-digit sign-in code is unique only per user: two users may draw the same digits (the old
-- index over (purpose, code_hash) turned that into a 500). Only a user's live codes must differ;
-- link tokens are 256-bit and still found by (purpose, code_hash).
DROP INDEX one_time_codes_hash_idx;
CREATE INDEX one_time_codes_hash_idx ON one_time_codes (purpose, code_hash);
CREATE UNIQUE INDEX one_time_codes_live_per_user_idx
    ON one_time_codes (user_id, purpose, code_hash) WHERE used_at IS NULL;
