-- Analytics (feature `analytics`) counts completions by local day: these serve its scans of the
-- completed tasks and reminders of one user.
CREATE INDEX tasks_user_completed_idx ON tasks (user_id, completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX reminders_user_completed_idx ON reminders (user_id, completed_at)
    WHERE completed_at IS NOT NULL;
-- The reminder totals (completed, upcoming, overdue) in one index-only scan.
CREATE INDEX reminders_user_status_idx ON reminders (user_id, status, scheduled_at);
