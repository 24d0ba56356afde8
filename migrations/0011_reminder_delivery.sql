-- Reminders are delivered: `failed` is the status the server sets when delivery gave up (the
-- user's own statuses stay pending, completed and skipped); `notified_at` records the in-app
-- notification, made at the reminder's time even while its email is still being retried, and
-- `sent_at` the end of delivery (the email sent, or the notification alone for in-app
-- reminders). Both are reset when the reminder is moved to a new time.
ALTER TABLE reminders DROP CONSTRAINT reminders_status_check;
ALTER TABLE reminders
    ADD CONSTRAINT reminders_status_check CHECK (status IN ('pending', 'completed', 'skipped', 'failed')),
    ADD COLUMN notified_at TIMESTAMPTZ;
