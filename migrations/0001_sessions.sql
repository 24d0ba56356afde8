-- Server-side sessions (tower-sessions store implemented in server/src/sessions.rs).
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        JSONB NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

-- The periodic purge deletes by expiry.
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
