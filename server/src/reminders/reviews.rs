//! Review reminders: a memory item's next review is its one pending reminder of kind `review`
//! (a unique index keeps it one). Spaced revision moves them through these functions, in its
//! own transaction; they are delivered, listed, digested and shown in the calendar like any
//! other reminder. They reach the user in the app (the digest is their email).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{delivery, Channel, Kind, Status};

/// The instant of local hour `hour` on `day` in `zone` (the first one when clocks go back; the
/// hour after a spring-forward gap when that hour does not exist).
pub fn at_local_hour(day: NaiveDate, zone: Tz, hour: u32) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::from_hms_opt(hour.min(23), 0, 0).unwrap_or_default());
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The task's pending review: its id and time.
pub async fn pending(
    conn: &mut PgConnection,
    task_id: Uuid,
) -> sqlx::Result<Option<(Uuid, DateTime<Utc>)>> {
    let row = sqlx::query!(
        "SELECT id, scheduled_at FROM reminders
          WHERE task_id = $1 AND kind = 'review' AND status = 'pending'",
        task_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.id, r.scheduled_at)))
}

/// Schedules the task's next review at `at` (the task must have no pending one) and arms it.
pub async fn schedule(
    conn: &mut PgConnection,
    user_id: Uuid,
    task_id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar!(
        "INSERT INTO reminders (user_id, task_id, kind, channel, scheduled_at, status,
                                created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        user_id,
        task_id,
        Kind::Review as Kind,
        Channel::Push as Channel,
        at,
        Status::Pending as Status,
        now,
    )
    .fetch_one(&mut *conn)
    .await?;
    delivery::arm(conn, id, at).await?;
    Ok(id)
}

/// Marks review reminder `id` done (a rating answered it) and cancels its delivery.
pub async fn complete(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE reminders SET status = 'completed', completed_at = $2, updated_at = $2
          WHERE id = $1",
        id,
        now,
    )
    .execute(&mut *conn)
    .await?;
    delivery::disarm(conn, id, at).await
}

/// Puts a completed review reminder back to pending (undo of a rating) and re-arms it; its
/// delivery state is kept, so one already delivered is not delivered again.
pub async fn reopen(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<()> {
    let at = sqlx::query_scalar!(
        "UPDATE reminders SET status = 'pending', completed_at = NULL, updated_at = $2
          WHERE id = $1 RETURNING scheduled_at",
        id,
        now,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(at) = at {
        delivery::arm(conn, id, at).await?;
    }
    Ok(())
}

/// Removes a review reminder that a rating scheduled (undo of that rating).
pub async fn remove(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    let at = sqlx::query_scalar!(
        "DELETE FROM reminders WHERE id = $1 AND kind = 'review' RETURNING scheduled_at",
        id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(at) = at {
        delivery::disarm(conn, id, at).await?;
    }
    Ok(())
}

/// Cancels the task's pending review (spaced revision turned off): skipped, delivery disarmed.
pub async fn cancel(
    conn: &mut PgConnection,
    task_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let cancelled = sqlx::query!(
        "UPDATE reminders SET status = 'skipped', updated_at = $2
          WHERE task_id = $1 AND kind = 'review' AND status = 'pending'
         RETURNING id, scheduled_at",
        task_id,
        now,
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in cancelled {
        delivery::disarm(conn, r.id, r.scheduled_at).await?;
    }
    Ok(())
}

/// How many pending reviews the user has on each local day from `from` to `to` (both
/// included), other tasks' only: what the load balancer spreads over.
pub async fn load(
    conn: &mut PgConnection,
    user_id: Uuid,
    except_task: Uuid,
    zone: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    let start = at_local_hour(from, zone, 0);
    let end = at_local_hour(to + chrono::Duration::days(1), zone, 0);
    let rows = sqlx::query!(
        r#"SELECT (scheduled_at AT TIME ZONE $4)::date AS "day!", count(*) AS "count!"
             FROM reminders
            WHERE user_id = $1 AND kind = 'review' AND status = 'pending' AND task_id <> $5
              AND scheduled_at >= $2 AND scheduled_at < $3
            GROUP BY 1"#,
        user_id,
        start,
        end,
        zone.name(),
        except_task,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.day, r.count)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_hours_survive_daylight_saving_changes() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        // 2 a.m. does not exist on 8 March 2026: the hour after is taken.
        assert_eq!(
            at_local_hour(day(8), ny, 2).to_rfc3339(),
            "2026-03-08T07:00:00+00:00"
        );
        assert_eq!(
            at_local_hour(day(7), ny, 9).to_rfc3339(),
            "2026-03-07T14:00:00+00:00"
        );
        assert_eq!(
            at_local_hour(day(9), ny, 9).to_rfc3339(),
            "2026-03-09T13:00:00+00:00"
        );
    }
}
