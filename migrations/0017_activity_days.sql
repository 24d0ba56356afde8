-- Analytics (feature `analytics`): each user's activity by local day, kept up to date by the
-- database on every write to tasks and reminders, so the dashboard reads a few hundred rows
-- instead of counting the whole history on every request.
--
-- A ledger: statement-level triggers append what a statement changed, summed by user and local
-- day; they never update a row, so concurrent writers never wait on each other or deadlock. The
-- maintenance run folds a day's rows into one (`settled`). The sum of a user's rows is their
-- count at every moment: readers always sum.
CREATE TABLE activity_days (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The local day in the user's time zone.
    day date NOT NULL,
    -- Tasks created that day (less those deleted since).
    tasks integer NOT NULL DEFAULT 0,
    -- Tasks completed that day.
    tasks_done integer NOT NULL DEFAULT 0,
    -- Reminders and reviews completed that day.
    reminders_done integer NOT NULL DEFAULT 0,
    -- Reminders and reviews scheduled, and tasks due, that day (whatever became of them).
    due integer NOT NULL DEFAULT 0,
    -- Folded by maintenance: false for a row a trigger appended since.
    settled boolean NOT NULL DEFAULT false
);
CREATE INDEX activity_days_user_day_idx ON activity_days (user_id, day)
    INCLUDE (tasks, tasks_done, reminders_done, due);
CREATE INDEX activity_days_unsettled_idx ON activity_days (user_id, day) WHERE NOT settled;

-- What one reminder counts for, in `zone`.
CREATE FUNCTION reminder_activity(completed_at timestamptz, scheduled_at timestamptz, zone text)
RETURNS TABLE (day date, reminders_done integer, due integer)
LANGUAGE sql STABLE AS $$
    SELECT (completed_at AT TIME ZONE zone)::date, 1, 0 WHERE completed_at IS NOT NULL
    UNION ALL
    SELECT (scheduled_at AT TIME ZONE zone)::date, 0, 1
$$;

-- What one task counts for, in `zone`.
CREATE FUNCTION task_activity(created_at timestamptz, completed_at timestamptz, due_at timestamptz,
                              zone text)
RETURNS TABLE (day date, tasks integer, tasks_done integer, due integer)
LANGUAGE sql STABLE AS $$
    SELECT (created_at AT TIME ZONE zone)::date, 1, 0, 0
    UNION ALL
    SELECT (completed_at AT TIME ZONE zone)::date, 0, 1, 0 WHERE completed_at IS NOT NULL
    UNION ALL
    SELECT (due_at AT TIME ZONE zone)::date, 0, 0, 1 WHERE due_at IS NOT NULL
$$;

-- The changes of one statement on reminders: the new rows count +1, the old ones -1, summed by
-- user and day; what cancels out (a delivery stamping `sent_at`) appends nothing. Rows of a user
-- being deleted in the same statement find no user and append nothing.
CREATE FUNCTION reminders_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO activity_days (user_id, day, reminders_done, due)
        SELECT r.user_id, a.day, sum(a.reminders_done), sum(a.due)
          FROM new_rows r JOIN users u ON u.id = r.user_id
         CROSS JOIN LATERAL reminder_activity(r.completed_at, r.scheduled_at, u.timezone) a
         GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO activity_days (user_id, day, reminders_done, due)
        SELECT r.user_id, a.day, -sum(a.reminders_done), -sum(a.due)
          FROM old_rows r JOIN users u ON u.id = r.user_id
         CROSS JOIN LATERAL reminder_activity(r.completed_at, r.scheduled_at, u.timezone) a
         GROUP BY 1, 2;
    ELSE
        INSERT INTO activity_days (user_id, day, reminders_done, due)
        SELECT r.user_id, a.day, sum(r.sign * a.reminders_done), sum(r.sign * a.due)
          FROM (SELECT user_id, completed_at, scheduled_at, 1 AS sign FROM new_rows
                UNION ALL
                SELECT user_id, completed_at, scheduled_at, -1 FROM old_rows) r
          JOIN users u ON u.id = r.user_id
         CROSS JOIN LATERAL reminder_activity(r.completed_at, r.scheduled_at, u.timezone) a
         GROUP BY 1, 2
        HAVING sum(r.sign * a.reminders_done) <> 0 OR sum(r.sign * a.due) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reminders_activity_insert AFTER INSERT ON reminders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminders_activity_changed();
CREATE TRIGGER reminders_activity_update AFTER UPDATE ON reminders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminders_activity_changed();
CREATE TRIGGER reminders_activity_delete AFTER DELETE ON reminders
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION reminders_activity_changed();

-- The same for tasks.
CREATE FUNCTION tasks_activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO activity_days (user_id, day, tasks, tasks_done, due)
        SELECT t.user_id, a.day, sum(a.tasks), sum(a.tasks_done), sum(a.due)
          FROM new_rows t JOIN users u ON u.id = t.user_id
         CROSS JOIN LATERAL task_activity(t.created_at, t.completed_at, t.due_at, u.timezone) a
         GROUP BY 1, 2;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO activity_days (user_id, day, tasks, tasks_done, due)
        SELECT t.user_id, a.day, -sum(a.tasks), -sum(a.tasks_done), -sum(a.due)
          FROM old_rows t JOIN users u ON u.id = t.user_id
         CROSS JOIN LATERAL task_activity(t.created_at, t.completed_at, t.due_at, u.timezone) a
         GROUP BY 1, 2;
    ELSE
        INSERT INTO activity_days (user_id, day, tasks, tasks_done, due)
        SELECT t.user_id, a.day, sum(t.sign * a.tasks), sum(t.sign * a.tasks_done),
               sum(t.sign * a.due)
          FROM (SELECT user_id, created_at, completed_at, due_at, 1 AS sign FROM new_rows
                UNION ALL
                SELECT user_id, created_at, completed_at, due_at, -1 FROM old_rows) t
          JOIN users u ON u.id = t.user_id
         CROSS JOIN LATERAL task_activity(t.created_at, t.completed_at, t.due_at, u.timezone) a
         GROUP BY 1, 2
        HAVING sum(t.sign * a.tasks) <> 0 OR sum(t.sign * a.tasks_done) <> 0
            OR sum(t.sign * a.due) <> 0;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_activity_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_activity_changed();
CREATE TRIGGER tasks_activity_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_activity_changed();
CREATE TRIGGER tasks_activity_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_activity_changed();

-- Lock taken by whatever replaces settled rows (the maintenance fold, a rebuild), so that one
-- never misses rows the other is writing.
CREATE FUNCTION activity_lock() RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('activity_days'))
$$;

-- A user's days recounted from their tasks and reminders (a new time zone moves every day).
CREATE FUNCTION activity_rebuild(owner uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM activity_lock();
    DELETE FROM activity_days WHERE user_id = owner;
    INSERT INTO activity_days (user_id, day, tasks, tasks_done, reminders_done, due, settled)
    SELECT owner, a.day, sum(a.tasks), sum(a.tasks_done), sum(a.reminders_done), sum(a.due), true
      FROM (SELECT t.day, t.tasks, t.tasks_done, 0 AS reminders_done, t.due
              FROM tasks, users u,
                   LATERAL task_activity(tasks.created_at, tasks.completed_at, tasks.due_at,
                                         u.timezone) t
             WHERE tasks.user_id = owner AND u.id = owner
            UNION ALL
            SELECT r.day, 0, 0, r.reminders_done, r.due
              FROM reminders, users u,
                   LATERAL reminder_activity(reminders.completed_at, reminders.scheduled_at,
                                             u.timezone) r
             WHERE reminders.user_id = owner AND u.id = owner) a
     GROUP BY a.day;
END
$$;

CREATE FUNCTION users_activity_zone_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM activity_rebuild(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_activity_zone AFTER UPDATE OF timezone ON users
    FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
    EXECUTE FUNCTION users_activity_zone_changed();

-- The history so far.
SELECT activity_rebuild(id) FROM users;
