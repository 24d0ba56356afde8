//! Analytics in the browser: the dashboard (today's work first, then the streak and small
//! charts) and `/analytics` (every number and chart). Charts are drawn on the server with
//! charts-rs as inline SVG, so no chart code ships to the browser; each has a title, a text
//! alternative, and a table of the same numbers beside it. Thin adapters over
//! `spacedly_server::analytics`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{components::layout::SignedInLayout, page::require_me};

/// One chart: the SVG, what it says in words, and its numbers as a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    /// The text alternative.
    pub summary: String,
    pub svg: String,
    /// The table's two column headings and its rows.
    pub columns: (String, String),
    pub rows: Vec<(String, String)>,
}

/// The numbers and charts of the analytics page (and the dashboard's smaller selection).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsView {
    pub timezone: String,
    pub total_tasks: i64,
    pub completed_tasks: i64,
    pub completed_reminders: i64,
    pub upcoming_reminders: i64,
    pub overdue_reminders: i64,
    pub streak_active: i64,
    pub streak_longest: i64,
    pub streak_rule: String,
    pub charts: Vec<Chart>,
}

/// Something to do today.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayItem {
    /// "09:30", or the due day for an overdue task.
    pub when: String,
    /// Reminder, Review or Overdue.
    pub kind: String,
    pub title: String,
    pub task_id: String,
}

#[cfg(feature = "ssr")]
mod draw {
    //! The charts, drawn with charts-rs. Text and axes take the page's colours from CSS
    //! (`.chart svg text` etc.), which override SVG presentation attributes, so one drawing
    //! works in light and dark mode; the series colours are mid-tones readable on both.
    use charts_rs::{
        BarChart, CalendarChart, ChartBase, Color, LineChart, PieChart, Series, YAxisConfig,
    };

    /// The series colours: indigo, amber, teal, rose, slate, green (each chart that has several
    /// values also labels them, so colour never carries the meaning alone).
    const PALETTE: [(u8, u8, u8); 6] = [
        (99, 102, 241),
        (217, 119, 6),
        (13, 148, 136),
        (225, 29, 72),
        (100, 116, 139),
        (22, 163, 74),
    ];

    fn palette() -> Vec<Color> {
        PALETTE.iter().map(|c| (*c).into()).collect()
    }

    fn or_empty(svg: charts_rs::Result<String>) -> String {
        svg.unwrap_or_else(|e| {
            tracing::error!(error = ?e, "a chart could not be drawn");
            String::new()
        })
    }

    /// A count axis from 0 with whole-number steps (at most 5).
    fn count_axis(axes: &mut [charts_rs::YAxisConfig], values: &[f32]) {
        let top = values
            .iter()
            .copied()
            .fold(0.0_f32, f32::max)
            .ceil()
            .max(1.0) as usize;
        let steps = top.min(5);
        let max = top.div_ceil(steps) * steps;
        for axis in axes {
            axis.min = Some(0.0);
            axis.max = Some(max as f32);
            axis.split_number = steps;
        }
    }

    /// What every chart here shares: its size, a transparent background, the palette.
    fn frame(base: &mut ChartBase, width: f32, height: f32) {
        base.width = width;
        base.height = height;
        base.background_color = Color::transparent();
        base.series.colors = palette();
    }

    /// One labelled series of counts on a whole-number axis, without a legend.
    fn counts(base: &mut ChartBase, axes: &mut [YAxisConfig], values: &[f32], size: (f32, f32)) {
        frame(base, size.0, size.1);
        count_axis(axes, values);
        base.legend.show = Some(false);
        base.series_list[0].label_show = true;
    }

    pub fn line(name: &str, labels: Vec<String>, values: &[f32], size: (f32, f32)) -> String {
        let mut c = LineChart::new(vec![Series::new(name.into(), values.to_vec())], labels);
        counts(&mut c.base, &mut c.y_axis_configs, values, size);
        or_empty(c.svg())
    }

    pub fn bars(name: &str, labels: Vec<String>, values: &[f32], size: (f32, f32)) -> String {
        let mut c = BarChart::new(vec![Series::new(name.into(), values.to_vec())], labels);
        counts(&mut c.base, &mut c.y_axis_configs, values, size);
        or_empty(c.svg())
    }

    pub fn donut(items: &[(String, f32)], width: f32, height: f32) -> String {
        let series = items
            .iter()
            .map(|(name, value)| Series::new(name.clone(), vec![*value]))
            .collect();
        let mut c = PieChart::new(series);
        frame(&mut c.base, width, height);
        c.inner_radius = 40.0;
        c.radius = (height / 2.0 - 50.0).max(60.0);
        or_empty(c.svg())
    }

    /// A GitHub-style year of days; `days` are (YYYY-MM-DD, count).
    pub fn heatmap(
        days: Vec<(String, f32)>,
        year: i32,
        start: String,
        end: String,
        max: f32,
    ) -> String {
        // Sized for a calendar year, then given the last 365 days (as many weeks).
        let mut c = CalendarChart::new(days, year);
        c.start_date = start;
        c.end_date = end;
        c.min = 0.0;
        c.max = max.max(1.0);
        c.background_color = Color::transparent();
        c.min_color = (224, 231, 255).into();
        c.max_color = (67, 56, 202).into();
        c.empty_color = (148, 163, 184, 60).into();
        or_empty(c.svg())
    }
}

#[cfg(feature = "ssr")]
mod backend {
    use chrono::{Duration, NaiveDate};
    use spacedly_server::analytics::{api::STREAK_RULE, Overview, HEATMAP_DAYS};

    use super::{draw, AnalyticsView, Chart};

    fn count(n: i64) -> String {
        n.to_string()
    }

    fn plural(n: i64, one: &str, many: &str) -> String {
        format!("{n} {}", if n == 1 { one } else { many })
    }

    /// Every chart (`full`), or the dashboard's three smaller ones.
    /// The recall forecast of the reviewed topics (spaced revision), in whole percents.
    pub fn retention(r: &spacedly_server::revision::Retention) -> Chart {
        let pct = |p: f64| (p * 100.0).round();
        let values: Vec<f32> = r.forecast.iter().map(|(_, p)| pct(*p) as f32).collect();
        let at = |d: usize| r.forecast.get(d - 1).map_or(0.0, |(_, p)| pct(*p));
        Chart {
            id: "retention".into(),
            title: "Average recall, next 30 days without reviews".into(),
            summary: format!(
                "{} reviewed topics, average recall {} % now, {} % in 7 days and {} % in 30 days if none is reviewed; {} at risk this week.",
                r.items.len(),
                pct(r.average_recall),
                at(7),
                at(30),
                r.at_risk.len()
            ),
            svg: draw::line(
                "Average recall (%)",
                r.forecast.iter().map(|(d, _)| d.format("%-d %b").to_string()).collect(),
                &values,
                (640.0, 300.0),
            ),
            columns: ("Day".into(), "Average recall".into()),
            rows: r
                .forecast
                .iter()
                .map(|(d, p)| (d.format("%a %-d %b").to_string(), format!("{} %", pct(*p))))
                .collect(),
        }
    }

    pub fn view(o: &Overview, user: &spacedly_server::auth::User, full: bool) -> AnalyticsView {
        let (w, h) = if full { (640.0, 300.0) } else { (420.0, 220.0) };
        let mut charts = vec![];

        let daily = o.daily(7);
        let labels: Vec<String> = daily
            .iter()
            .map(|(d, _)| d.format("%a %-d").to_string())
            .collect();
        let values: Vec<f32> = daily.iter().map(|(_, n)| *n as f32).collect();
        let total: i64 = daily.iter().map(|(_, n)| n).sum();
        charts.push(Chart {
            id: "daily".into(),
            title: "Completed per day, last 7 days".into(),
            summary: format!(
                "{} completed in the last 7 days: {}.",
                total,
                daily
                    .iter()
                    .map(|(d, n)| format!("{} {n}", d.format("%a %-d %b")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            svg: draw::line("Completed", labels, &values, (w, h)),
            columns: ("Day".into(), "Completed".into()),
            rows: daily
                .iter()
                .map(|(d, n)| (d.format("%a %-d %b").to_string(), count(*n)))
                .collect(),
        });

        let weekly = o.weekly(4, user.week_start);
        let label = |d: &NaiveDate| format!("Week of {}", d.format("%-d %b"));
        charts.push(Chart {
            id: "weekly".into(),
            title: "Completed per week, last 4 weeks".into(),
            summary: format!(
                "Weeks starting on {}: {}.",
                user.week_start.as_str(),
                weekly
                    .iter()
                    .map(|(d, n)| format!("{} {n}", label(d)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            svg: draw::bars(
                "Completed",
                weekly
                    .iter()
                    .map(|(d, _)| d.format("%-d %b").to_string())
                    .collect(),
                &weekly.iter().map(|(_, n)| *n as f32).collect::<Vec<_>>(),
                (w, h),
            ),
            columns: ("Week".into(), "Completed".into()),
            rows: weekly.iter().map(|(d, n)| (label(d), count(*n))).collect(),
        });

        let load = &o.load;
        charts.push(Chart {
            id: "load".into(),
            title: "Reviews and reminders due, next 14 days".into(),
            summary: format!(
                "{} due in the next 14 days; the busiest day has {}.",
                load.iter().map(|(_, n)| n).sum::<i64>(),
                load.iter().map(|(_, n)| *n).max().unwrap_or(0)
            ),
            svg: draw::bars(
                "Due",
                load.iter()
                    .map(|(d, _)| d.format("%-d").to_string())
                    .collect(),
                &load.iter().map(|(_, n)| *n as f32).collect::<Vec<_>>(),
                (w, h),
            ),
            columns: ("Day".into(), "Due".into()),
            rows: load
                .iter()
                .map(|(d, n)| (d.format("%a %-d %b").to_string(), count(*n)))
                .collect(),
        });

        if full {
            let items: Vec<(String, f32)> = o
                .categories
                .iter()
                .map(|c| (c.category.clone(), c.count as f32))
                .collect();
            charts.push(Chart {
                id: "categories".into(),
                title: "Tasks by category".into(),
                summary: if o.categories.is_empty() {
                    "No tasks yet.".into()
                } else {
                    o.categories
                        .iter()
                        .map(|c| {
                            format!(
                                "{}: {} ({:.0} %)",
                                c.category,
                                plural(c.count, "task", "tasks"),
                                c.share * 100.0
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                svg: if items.is_empty() {
                    String::new()
                } else {
                    draw::donut(&items, w, h + 60.0)
                },
                columns: ("Category".into(), "Tasks (share)".into()),
                rows: o
                    .categories
                    .iter()
                    .map(|c| {
                        (
                            c.category.clone(),
                            format!("{} ({:.0} %)", c.count, c.share * 100.0),
                        )
                    })
                    .collect(),
            });

            let first = o.today - Duration::days(HEATMAP_DAYS - 1);
            let days: Vec<(String, f32)> = o
                .activity
                .iter()
                .filter(|d| d.day >= first && d.done > 0)
                .map(|d| (d.day.to_string(), d.done as f32))
                .collect();
            let active_days = days.len() as i64;
            let best = o
                .activity
                .iter()
                .filter(|d| d.day >= first)
                .max_by_key(|d| d.done);
            charts.push(Chart {
                id: "heatmap".into(),
                title: "Completed per day, last 365 days".into(),
                summary: format!(
                    "{} with something completed in the last year{}.",
                    plural(active_days, "day", "days"),
                    best.filter(|d| d.done > 0)
                        .map(|d| format!(
                            "; the most on {} ({})",
                            d.day.format("%-d %b %Y"),
                            d.done
                        ))
                        .unwrap_or_default()
                ),
                svg: draw::heatmap(
                    days,
                    chrono::Datelike::year(&o.today),
                    first.to_string(),
                    o.today.to_string(),
                    best.map(|d| d.done as f32).unwrap_or(1.0),
                ),
                columns: ("Day".into(), "Completed".into()),
                rows: o
                    .activity
                    .iter()
                    .rev()
                    .filter(|d| d.day >= first && d.done > 0)
                    .map(|d| (d.day.format("%a %-d %b %Y").to_string(), count(d.done)))
                    .collect(),
            });
        }

        let streaks = o.streaks();
        AnalyticsView {
            timezone: user.timezone.clone(),
            total_tasks: o.totals.tasks,
            completed_tasks: o.totals.completed_tasks,
            completed_reminders: o.totals.completed_reminders,
            upcoming_reminders: o.totals.upcoming_reminders,
            overdue_reminders: o.totals.overdue_reminders,
            streak_active: streaks.active,
            streak_longest: streaks.longest,
            streak_rule: STREAK_RULE.into(),
            charts,
        }
    }
}

/// The user's numbers and charts (`full`: all of them, larger).
#[server(prefix = "/_sf", endpoint = "analytics/overview")]
pub async fn load_analytics(full: bool) -> Result<AnalyticsView, ServerFnError> {
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    use spacedly_server::analytics::{overview, History};
    // The dashboard's streak reads the whole history too.
    let o = overview(&state.pool, user.id, zone, state.now(), History::All)
        .await
        .map_err(crate::forms::internal)?;
    let mut view = backend::view(&o, &user, full);
    if full {
        let retention =
            spacedly_server::revision::retention(&state.pool, user.id, state.now(), None, true)
                .await
                .map_err(crate::forms::internal)?;
        if !retention.items.is_empty() {
            view.charts.push(backend::retention(&retention));
        }
    }
    Ok(view)
}

/// Today's pending reminders and reviews, and the open tasks past their due time.
#[server(prefix = "/_sf", endpoint = "analytics/today")]
pub async fn load_today() -> Result<Vec<TodayItem>, ServerFnError> {
    use spacedly_server::calendar::{self, EntryKind};
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let now = state.now();
    let today = now.with_timezone(&zone).date_naive();
    let (start, end) = (
        calendar::start_of(today, zone),
        calendar::start_of(today + chrono::Duration::days(1), zone),
    );
    let entries = calendar::entries(&state.pool, user.id, start, end)
        .await
        .map_err(crate::forms::internal)?;
    let overdue = spacedly_server::tasks::open_due_before(&state.pool, user.id, now)
        .await
        .map_err(|e| crate::forms::internal(e.into()))?;
    let mut items: Vec<TodayItem> = entries
        .into_iter()
        .filter(|e| e.kind != EntryKind::Due && !e.done)
        .map(|e| TodayItem {
            when: e.at.with_timezone(&zone).format("%H:%M").to_string(),
            kind: if e.kind == EntryKind::Review {
                "Review"
            } else {
                "Reminder"
            }
            .into(),
            title: e.title,
            task_id: e.task_id.to_string(),
        })
        .collect();
    items.extend(overdue.into_iter().map(|t| TodayItem {
        when: format!(
            "due {}",
            t.due_at.with_timezone(&zone).format("%-d %b, %H:%M")
        ),
        kind: "Overdue".into(),
        title: t.title,
        task_id: t.id.to_string(),
    }));
    Ok(items)
}

#[component]
fn ChartFigure(chart: Chart) -> impl IntoView {
    let table_id = format!("chart-{}-table", chart.id);
    let rows = chart
        .rows
        .into_iter()
        .map(|(a, b)| view! { <tr><td>{a}</td><td>{b}</td></tr> })
        .collect_view();
    view! {
        <figure class="chart" id=format!("chart-{}", chart.id)>
            <figcaption class="chart__title">{chart.title.clone()}</figcaption>
            <div class="chart__svg" role="img" aria-label=chart.summary.clone() inner_html=chart.svg></div>
            <p class="visually-hidden">{chart.summary}</p>
            <details class="chart__table">
                <summary>"Show the numbers"</summary>
                <table class="table" id=table_id>
                    <caption class="visually-hidden">{chart.title}</caption>
                    <thead><tr><th scope="col">{chart.columns.0}</th><th scope="col">{chart.columns.1}</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </details>
        </figure>
    }
}

#[component]
fn Numbers(a: AnalyticsView) -> impl IntoView {
    let stat = |label: &'static str, value: i64| {
        view! { <div class="stat"><dt>{label}</dt><dd>{value}</dd></div> }
    };
    view! {
        <dl class="stats">
            {stat("Tasks", a.total_tasks)}
            {stat("Tasks completed", a.completed_tasks)}
            {stat("Reminders completed", a.completed_reminders)}
            {stat("Reminders upcoming", a.upcoming_reminders)}
            {stat("Reminders overdue", a.overdue_reminders)}
            {stat("Current streak (days)", a.streak_active)}
            {stat("Longest streak (days)", a.streak_longest)}
        </dl>
        <p class="muted">
            "Reminders include reviews. Days are counted in " {a.timezone.clone()} " time. "
            {a.streak_rule.clone()}
        </p>
    }
}

#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let data = Resource::new(|| (), |_| load_analytics(true));
    view! {
        <Title text="Analytics" />
        <SignedInLayout title="Analytics" me=me>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(a) => {
                            let charts = a.charts.clone().into_iter()
                                .map(|c| view! { <ChartFigure chart=c /> }.into_any())
                                .collect_view();
                            view! {
                                <section class="panel" aria-labelledby="numbers-title">
                                    <h2 id="numbers-title">"Your numbers"</h2>
                                    <Numbers a=a />
                                </section>
                                <section class="panel charts" aria-label="Charts">{charts}</section>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let today = Resource::new(|| (), |_| load_today());
    let data = Resource::new(|| (), |_| load_analytics(false));
    let name = me.name.clone();
    view! {
        <Title text="Dashboard" />
        <SignedInLayout title="Dashboard" me=me>
            <section class="panel" aria-labelledby="today-title">
                <h2 id="today-title">"Welcome, " {name}</h2>
                <h3>"Today"</h3>
                <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match today.await {
                            Ok(items) if items.is_empty() => view! {
                                <p class="muted">"Nothing due today. "<a href="/tasks/new">"Add a topic"</a>" or look at your "<a href="/calendar">"calendar"</a>"."</p>
                            }.into_any(),
                            Ok(items) => {
                                let list = items.into_iter().map(|i| {
                                    let class = format!("today__item today__item--{}", i.kind.to_lowercase());
                                    view! {
                                    <li class=class>
                                        <span class="today__when">{i.when}</span>
                                        " "<span class="today__kind">{i.kind}":"</span>
                                        " "<a href=format!("/tasks/{}", i.task_id)>{i.title}</a>
                                    </li>
                                    }.into_any()
                                }).collect_view();
                                view! { <ul class="today">{list}</ul> }.into_any()
                            }
                            Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(a) => {
                            let charts = a.charts.clone().into_iter()
                                .map(|c| view! { <ChartFigure chart=c /> }.into_any())
                                .collect_view();
                            view! {
                                <section class="panel" aria-labelledby="progress-title">
                                    <h2 id="progress-title">"Your progress"</h2>
                                    <Numbers a=a />
                                    <div class="charts charts--small">{charts}</div>
                                    <p><a class="button" href="/analytics">"All analytics"</a></p>
                                </section>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </SignedInLayout>
    }
    .into_any()
}
