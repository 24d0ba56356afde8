-- Tasks (topics to learn or things to do), their attachments and reminders, and the
-- notification centre. Every row is reached through its owner's id.

-- Trigram search over title and description (partial words match).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tasks (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title              TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description        TEXT NOT NULL DEFAULT '' CHECK (char_length(description) <= 5000),
    link               TEXT NOT NULL DEFAULT '' CHECK (char_length(link) <= 2048),
    category           TEXT NOT NULL DEFAULT 'Personal' CHECK (char_length(category) <= 50),
    -- 1 low, 2 medium, 3 high: sorts by importance as a number.
    priority           SMALLINT NOT NULL DEFAULT 2 CHECK (priority BETWEEN 1 AND 3),
    status             TEXT NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in-progress', 'completed')),
    due_at             TIMESTAMPTZ,
    -- Spaced revision (reviews with FSRS) settings.
    spaced_revision    BOOLEAN NOT NULL DEFAULT false,
    desired_retention  REAL NOT NULL DEFAULT 0.9 CHECK (desired_retention BETWEEN 0.7 AND 0.97),
    know_by            DATE,
    completed_at       TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at DESC);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_at);
CREATE INDEX tasks_user_priority_idx ON tasks (user_id, priority DESC, due_at);
CREATE INDEX tasks_user_category_idx ON tasks (user_id, category);
CREATE INDEX tasks_search_idx ON tasks USING gin ((title || ' ' || description) gin_trgm_ops);

CREATE TABLE attachments (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id        UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    original_name  TEXT NOT NULL CHECK (char_length(original_name) BETWEEN 1 AND 255),
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL CHECK (size >= 0),
    original_size  BIGINT NOT NULL CHECK (original_size >= 0),
    storage_key    TEXT NOT NULL UNIQUE,
    width          INTEGER,
    height         INTEGER,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX attachments_task_idx ON attachments (task_id, created_at);
CREATE INDEX attachments_user_idx ON attachments (user_id);

CREATE TABLE reminders (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id       UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL DEFAULT 'manual' CHECK (kind IN ('manual', 'review')),
    channel       TEXT NOT NULL DEFAULT 'email' CHECK (channel IN ('email', 'push', 'both')),
    scheduled_at  TIMESTAMPTZ NOT NULL,
    message       TEXT NOT NULL DEFAULT '' CHECK (char_length(message) <= 500),
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'skipped')),
    sent_at       TIMESTAMPTZ,
    completed_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX reminders_task_idx ON reminders (task_id, scheduled_at);
CREATE INDEX reminders_user_scheduled_idx ON reminders (user_id, scheduled_at);

CREATE TABLE notifications (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('overdue', 'upcoming', 'reminder', 'general')),
    title            TEXT NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    message          TEXT NOT NULL DEFAULT '' CHECK (char_length(message) <= 1000),
    related_task_id  UUID REFERENCES tasks (id) ON DELETE SET NULL,
    read_at          TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_user_unread_idx ON notifications (user_id) WHERE read_at IS NULL;
