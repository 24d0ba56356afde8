//! The calendar in the browser: `/calendar`, a month or a week of reminders, reviews and due
//! dates rendered on the server (previous and next are links; the shortcuts island maps the
//! arrow keys and h/l to them), each entry opening its task, pending reminders completable or
//! skippable in place; and the settings section with the secret iCalendar feed URL.
//! Thin adapters over `spacedly_server::calendar`.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::layout::SignedInLayout,
    forms::{FormMessage, FormState, PostForm},
    page::require_me,
    reminders::SetReminder,
};

/// Form ids.
pub mod form {
    pub const FEED: &str = "calendar-feed";
    pub const ENTRY: &str = "reminder";
}

/// One entry of a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    /// reminder, review or due.
    pub kind: String,
    /// Local time, HH:MM.
    pub time: String,
    pub title: String,
    pub task_id: String,
    /// A pending reminder's id (it can be completed or skipped here).
    pub pending_reminder: Option<String>,
    pub done: bool,
}

/// One day of the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayView {
    /// YYYY-MM-DD.
    pub date: String,
    /// "Tue 1 Dec".
    pub label: String,
    pub day_of_month: u32,
    /// Outside the month shown (the grid's leading and trailing days).
    pub outside: bool,
    pub today: bool,
    pub entries: Vec<EntryView>,
}

/// A calendar page's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarData {
    /// month or week.
    pub view: String,
    /// "December 2026" or "Week of 30 Nov 2026".
    pub title: String,
    /// The weekday names in the user's order.
    pub weekdays: Vec<String>,
    pub days: Vec<DayView>,
    pub prev: String,
    pub next: String,
    pub today: String,
    /// This page's path and query (forms come back here).
    pub here: String,
    /// The same period in the other view.
    pub other_view: String,
}

#[cfg(feature = "ssr")]
mod backend {
    use chrono::{Duration, NaiveDate};
    use spacedly_server::calendar::{Entry, EntryKind, Period, Span};

    use super::{CalendarData, DayView, EntryView};

    pub fn href(span: Span, day: NaiveDate) -> String {
        format!("/calendar?view={}&day={day}", span.as_str())
    }

    fn entry(e: &Entry, zone: chrono_tz::Tz) -> EntryView {
        EntryView {
            kind: match e.kind {
                EntryKind::Reminder => "reminder",
                EntryKind::Review => "review",
                EntryKind::Due => "due",
            }
            .into(),
            time: e.at.with_timezone(&zone).format("%H:%M").to_string(),
            title: e.title.clone(),
            task_id: e.task_id.to_string(),
            // Reviews are answered by a rating on the Review page, not done or skipped here.
            pending_reminder: e
                .reminder
                .filter(|(_, s)| *s == spacedly_server::reminders::Status::Pending)
                .filter(|_| e.kind == EntryKind::Reminder)
                .map(|(id, _)| id.to_string()),
            done: e.done,
        }
    }

    pub fn view(
        period: Period,
        today: NaiveDate,
        zone: chrono_tz::Tz,
        entries: &[Entry],
    ) -> CalendarData {
        let mut days: Vec<DayView> = period
            .days()
            .map(|d| DayView {
                date: d.to_string(),
                label: d.format("%a %-d %b").to_string(),
                day_of_month: chrono::Datelike::day(&d),
                outside: period.span == Span::Month
                    && chrono::Datelike::month(&d) != chrono::Datelike::month(&period.anchor),
                today: d == today,
                entries: vec![],
            })
            .collect();
        for e in entries {
            let local = e.at.with_timezone(&zone).date_naive();
            let index = (local - period.first).num_days();
            if let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) {
                day.entries.push(entry(e, zone));
            }
        }
        let weekdays = (0..7)
            .map(|i| (period.first + Duration::days(i)).format("%a").to_string())
            .collect();
        let (title, other) = match period.span {
            Span::Month => (period.anchor.format("%B %Y").to_string(), Span::Week),
            Span::Week => (
                format!("Week of {}", period.anchor.format("%-d %b %Y")),
                Span::Month,
            ),
        };
        let other_day = if period.first <= today && today < period.end {
            today
        } else {
            period.anchor
        };
        CalendarData {
            view: period.span.as_str().into(),
            title,
            weekdays,
            days,
            prev: href(period.span, period.prev),
            next: href(period.span, period.next),
            today: href(period.span, today),
            here: href(period.span, period.anchor),
            other_view: href(other, other_day),
        }
    }
}

/// The month or week holding `day` (YYYY-MM-DD; today when absent or not a date).
#[server(prefix = "/_sf", endpoint = "calendar/view")]
pub async fn load_calendar(view: String, day: String) -> Result<CalendarData, ServerFnError> {
    use spacedly_server::calendar::{self, Period, Span};
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let today = state.now().with_timezone(&zone).date_naive();
    let day = day.parse().unwrap_or(today);
    let period = Period::new(Span::from_param(&view), day, user.week_start);
    let (from, to) = period.bounds(zone);
    let entries = calendar::entries(&state.pool, user.id, from, to)
        .await
        .map_err(crate::forms::internal)?;
    Ok(backend::view(period, today, zone, &entries))
}

/// How the page names an entry's kind.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "review" => "Review",
        "due" => "Due",
        _ => "Reminder",
    }
}

#[component]
pub fn CalendarPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let (view_param, day) = use_query_map().with_untracked(|q| {
        (
            q.get("view").unwrap_or_default(),
            q.get("day").unwrap_or_default(),
        )
    });
    let data = Resource::new(
        move || (view_param.clone(), day.clone()),
        |(v, d)| load_calendar(v, d),
    );
    view! {
        <Title text="Calendar" />
        <SignedInLayout title="Calendar" me=me>
            <FormMessage state=FormState::of(form::ENTRY) />
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(c) => view! { <CalendarGrid c=c /> }.into_any(),
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
fn CalendarGrid(c: CalendarData) -> impl IntoView {
    let week = c.view == "week";
    let (other_label, prev_label, next_label) = if week {
        ("Month view", "Previous week", "Next week")
    } else {
        ("Week view", "Previous month", "Next month")
    };
    let here = c.here.clone();
    let weekdays = c
        .weekdays
        .iter()
        .map(|d| view! { <li aria-hidden="true">{d.clone()}</li> })
        .collect_view();
    let days = c
        .days
        .into_iter()
        .map(|d| view! { <Day day=d here=here.clone() /> }.into_any())
        .collect_view();
    view! {
        <section class="panel calendar" data-calendar aria-labelledby="calendar-title">
            <header class="calendar__bar">
                <h2 id="calendar-title">{c.title.clone()}</h2>
                <nav class="calendar__nav" aria-label="Calendar pages">
                    <a class="button button--small" rel="prev" href=c.prev aria-keyshortcuts="ArrowLeft h">"‹ "{prev_label}</a>
                    <a class="button button--small" href=c.today>"Today"</a>
                    <a class="button button--small" rel="next" href=c.next aria-keyshortcuts="ArrowRight l">{next_label}" ›"</a>
                    <a class="button button--small" href=c.other_view>{other_label}</a>
                </nav>
            </header>
            <p class="muted calendar__hint">"Keys: ← or h, → or l move between pages."</p>
            <ul class="calendar__weekdays">{weekdays}</ul>
            <ol class="calendar__grid" class:calendar__grid--week=week>{days}</ol>
        </section>
    }
}

#[component]
fn Day(day: DayView, here: String) -> impl IntoView {
    let count = day.entries.len();
    let label = match count {
        0 => day.label.clone(),
        1 => format!("{}, 1 entry", day.label),
        n => format!("{}, {n} entries", day.label),
    };
    let entries = day
        .entries
        .into_iter()
        .map(|e| view! { <Entry entry=e here=here.clone() /> }.into_any())
        .collect_view();
    view! {
        <li
            class="calendar__day"
            class:calendar__day--outside=day.outside
            class:calendar__day--today=day.today
            id=format!("day-{}", day.date)
            aria-current=day.today.then_some("date")
        >
            <h3 class="calendar__date" aria-label=label>
                <span class="calendar__weekday">{day.label.clone()}</span>
                <span class="calendar__number">{day.day_of_month}</span>
                {day.today.then(|| view! { <span class="badge">"Today"</span> })}
            </h3>
            {(count > 0).then(|| view! { <ul class="calendar__entries">{entries}</ul> })}
        </li>
    }
}

#[component]
fn Entry(entry: EntryView, here: String) -> impl IntoView {
    let e = entry;
    let kind = kind_label(&e.kind);
    let actions = e.pending_reminder.clone().map(|id| {
        let button = |act: &'static str, label: &'static str| {
            let (id, task, back) = (id.clone(), e.task_id.clone(), here.clone());
            let name = format!("{label}: {}", e.title);
            view! {
                <PostForm action=SetReminder::PATH class="form form--inline">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="task_id" value=task />
                    <input type="hidden" name="action" value=act />
                    <input type="hidden" name="back" value=back />
                    <button class="button button--small" type="submit" aria-label=name>{label}</button>
                </PostForm>
            }
        };
        view! { <div class="calendar__actions">{button("complete", "Done")}{button("skip", "Skip")}</div> }
            .into_any()
    });
    view! {
        <li class=format!("calendar__entry calendar__entry--{}", e.kind) class:calendar__entry--done=e.done>
            <a href=format!("/tasks/{}", e.task_id)>
                <span class="calendar__time">{e.time.clone()}</span>
                " "<span class="calendar__kind">{kind}{e.done.then_some(" (done)")}":"</span>
                " "{e.title.clone()}
            </a>
            {actions}
        </li>
    }
}

/// The user's feed URL, if they made one.
#[server(prefix = "/_sf", endpoint = "calendar/feed-url")]
pub async fn calendar_feed_url() -> Result<Option<String>, ServerFnError> {
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    spacedly_server::calendar::feed_url_of(&state, user.id)
        .await
        .map_err(crate::forms::internal)
}

/// Makes a new feed URL; the previous one stops answering.
#[server(prefix = "/_sf", endpoint = "calendar/new-feed")]
pub async fn new_calendar_feed() -> Result<(), ServerFnError> {
    let work = |state: spacedly_server::AppState, user: spacedly_server::auth::User| async move {
        spacedly_server::calendar::new_feed(&state, user.id).await
    };
    let to = ("/settings#calendar-feed".to_string(), form::FEED);
    let done = |_| "Your calendar feed has a new address; the previous one no longer works.".into();
    crate::forms::act(None, to, &[], work, done).await
}

/// The settings section with the feed's URL and the button that makes a new one.
#[component]
pub fn CalendarFeed() -> impl IntoView {
    let url = Resource::new(|| (), |_| calendar_feed_url());
    view! {
        <section class="panel" id="calendar-feed" aria-labelledby="calendar-feed-title">
            <h2 id="calendar-feed-title">"Calendar feed"</h2>
            <p class="muted">"Subscribe to this address in your calendar app to see your reminders, reviews and due dates there. Anyone with it can read them: keep it private, and make a new one if it leaks."</p>
            <FormMessage state=FormState::of(form::FEED) />
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match url.await {
                        Ok(Some(url)) => view! {
                            <div class="field">
                                <label for="calendar-feed-url">"Feed address"</label>
                                <input id="calendar-feed-url" type="url" readonly value=url />
                            </div>
                            <PostForm action=NewCalendarFeed::PATH class="form form--inline">
                                <button class="button" type="submit">"Make a new address"</button>
                            </PostForm>
                        }.into_any(),
                        Ok(None) => view! {
                            <PostForm action=NewCalendarFeed::PATH class="form form--inline">
                                <button class="button" type="submit">"Make a feed address"</button>
                            </PostForm>
                        }.into_any(),
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
