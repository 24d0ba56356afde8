-- A notification about an event that must be told once (a task's "due in an hour", its
-- "overdue") carries a key naming that event; a second one with the same key for the same user
-- is not made (a job that ran twice after a crash tells once).
ALTER TABLE notifications ADD COLUMN event_key TEXT;
CREATE UNIQUE INDEX notifications_user_event_key ON notifications (user_id, event_key)
    WHERE event_key IS NOT NULL;
