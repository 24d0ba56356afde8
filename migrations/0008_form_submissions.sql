-- One row per submitted web form, keyed by the digest of the one-time nonce the form carried.
-- A form that arrives twice (double click, a retried POST) finds the first one's row and
-- replays its outcome instead of doing the work again. Rows are purged after a day.
CREATE TABLE form_submissions (
    nonce_hash   TEXT PRIMARY KEY,
    -- What the first submission answered (where to go, what to show); NULL while it runs.
    outcome      JSONB,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX form_submissions_created_idx ON form_submissions (created_at);
