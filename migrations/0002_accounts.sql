-- Accounts: users, one-time codes and links, personal access tokens, security rate limits.

CREATE TABLE users (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name                TEXT NOT NULL CHECK (char_length(name) BETWEEN 2 AND 50),
    -- Stored trimmed and lower-cased: the unique index then compares case-insensitively.
    email               TEXT NOT NULL CHECK (email = lower(email)),
    -- argon2id PHC string; NULL for accounts created through Google that never set one.
    password_hash       TEXT,
    email_verified      BOOLEAN NOT NULL DEFAULT false,
    two_factor_enabled  BOOLEAN NOT NULL DEFAULT false,
    timezone            TEXT NOT NULL DEFAULT 'UTC',
    digest_hour         SMALLINT NOT NULL DEFAULT 5 CHECK (digest_hour BETWEEN 0 AND 23),
    -- Bumped to end every session at once (sign out everywhere, password change or reset).
    session_version     INTEGER NOT NULL DEFAULT 0,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- Sign-in codes, password reset links and email verification links. Only hashes are stored.
CREATE TABLE one_time_codes (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CHECK (purpose IN ('login_otp', 'password_reset', 'email_verify')),
    code_hash   TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX one_time_codes_user_purpose_idx ON one_time_codes (user_id, purpose, created_at DESC);
CREATE UNIQUE INDEX one_time_codes_hash_idx ON one_time_codes (purpose, code_hash);
CREATE INDEX one_time_codes_expires_idx ON one_time_codes (expires_at);

-- Fixed-window counters for the security limits, shared by every instance.
CREATE TABLE rate_limits (
    bucket        TEXT NOT NULL,
    key_hash      TEXT NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (bucket, key_hash)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
