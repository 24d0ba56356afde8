-- Spaced revision (feature `revision`): each memory item's FSRS memory state, the log of every
-- review (with the state it replaced, so the last rating can be undone exactly) and each user's
-- parameter fits. A memory item's next review is its one pending `review` reminder.

CREATE TABLE memory_states (
    task_id           UUID PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    user_id           UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stability         DOUBLE PRECISION NOT NULL CHECK (stability > 0),
    difficulty        DOUBLE PRECISION NOT NULL CHECK (difficulty BETWEEN 1 AND 10),
    last_reviewed_at  TIMESTAMPTZ NOT NULL,
    reviews           INTEGER NOT NULL CHECK (reviews > 0)
);
CREATE INDEX memory_states_user_idx ON memory_states (user_id);

CREATE TABLE review_log (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id            UUID NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    reviewed_at        TIMESTAMPTZ NOT NULL,
    rating             TEXT NOT NULL CHECK (rating IN ('again', 'hard', 'good', 'easy')),
    -- Real time since the previous review, in days (0 for the first one).
    elapsed_days       DOUBLE PRECISION NOT NULL CHECK (elapsed_days >= 0),
    -- The memory state after this review, and the recall probability just before it (none for
    -- the first review).
    stability          DOUBLE PRECISION NOT NULL,
    difficulty         DOUBLE PRECISION NOT NULL,
    retrievability     DOUBLE PRECISION,
    scheduled_days     INTEGER NOT NULL CHECK (scheduled_days BETWEEN 1 AND 365),
    next_review_at     TIMESTAMPTZ NOT NULL,
    -- What undo puts back: the state before (none before the first review), the review reminder
    -- this rating completed and the one it scheduled.
    prev_stability        DOUBLE PRECISION,
    prev_difficulty       DOUBLE PRECISION,
    prev_reviewed_at      TIMESTAMPTZ,
    completed_reminder_id UUID REFERENCES reminders (id) ON DELETE SET NULL,
    next_reminder_id      UUID REFERENCES reminders (id) ON DELETE SET NULL
);
CREATE INDEX review_log_task_idx ON review_log (task_id, reviewed_at DESC);
CREATE INDEX review_log_user_idx ON review_log (user_id, reviewed_at);

-- At most one pending review per task (40 parallel ratings cannot leave two).
CREATE UNIQUE INDEX reminders_one_pending_review_idx ON reminders (task_id)
    WHERE kind = 'review' AND status = 'pending';
-- The due list and the load balancer read a user's pending reviews by time.
CREATE INDEX reminders_user_pending_review_idx ON reminders (user_id, scheduled_at)
    WHERE kind = 'review' AND status = 'pending';

-- Each weekly fit of a user's FSRS parameters: how well the new and the current ones predicted
-- the user's history (log loss, lower is better) and whether the new ones were kept. The
-- parameters in use are those of the latest kept fit (the defaults when there is none).
CREATE TABLE parameter_fits (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fitted_at         TIMESTAMPTZ NOT NULL,
    reviews           INTEGER NOT NULL,
    parameters        DOUBLE PRECISION[] NOT NULL CHECK (cardinality(parameters) = 21),
    log_loss          DOUBLE PRECISION NOT NULL,
    previous_log_loss DOUBLE PRECISION NOT NULL,
    kept              BOOLEAN NOT NULL
);
CREATE INDEX parameter_fits_user_idx ON parameter_fits (user_id, fitted_at DESC);
