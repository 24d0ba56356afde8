-- The morning digest (feature `digest`): whether a user wants it (no row: yes) and the local day
-- of the last one claimed, so each user gets at most one per day of their own calendar.
CREATE TABLE digest_settings (
    user_id  UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled  BOOLEAN NOT NULL DEFAULT true,
    sent_on  DATE
);
