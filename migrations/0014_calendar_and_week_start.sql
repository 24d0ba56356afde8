-- The day a user's weeks start on (calendar week view, weekly analytics): Monday unless they
-- choose Sunday or Saturday.
ALTER TABLE users ADD COLUMN week_start TEXT NOT NULL DEFAULT 'monday'
    CHECK (week_start IN ('monday', 'sunday', 'saturday'));

-- The calendar feed (feature `calendar`): at most one secret URL per user. Only the token's
-- SHA-256 finds the user (a copy of the table cannot be used to read anyone's calendar); the
-- token itself is kept sealed with SECRET_KEY so that settings can show the URL again.
CREATE TABLE calendar_feeds (
    user_id      UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    token_sealed TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
