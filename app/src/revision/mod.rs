//! Spaced revision in the browser: `/review` shows the weakest review due today as a card (the
//! title first; description, link and attachments after "Show", a `<details>` that Space
//! opens), rated with four buttons (keys 1-4) labelled with the interval each would give. Each
//! button is a form post, so it works without JavaScript. After the last card: what was done
//! today and when the next reviews come. Also the recall panel of the task page and the
//! parameters section of settings. Thin adapters over `spacedly_server::revision`.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    components::layout::SignedInLayout,
    forms::{FormMessage, FormState, PostForm},
    page::require_me,
};

/// Form ids.
pub mod form {
    pub const REVIEW: &str = "review";
}

/// One rating button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// again, hard, good or easy.
    pub rating: String,
    /// Again, Hard…
    pub label: String,
    /// 1 to 4.
    pub key: u8,
    /// "4 d".
    pub interval: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentLink {
    pub name: String,
    pub url: String,
}

/// The card on top of the pile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub task_id: String,
    pub title: String,
    pub description: String,
    pub link: String,
    pub attachments: Vec<AttachmentLink>,
    /// "62 %", or none before the first review.
    pub recall: Option<String>,
    pub choices: Vec<Choice>,
}

/// The Review page's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewView {
    pub card: Option<Card>,
    /// Reviews due today, the card included.
    pub due: usize,
    pub reviewed_today: i64,
    /// ("Thu 10 Dec", 3): the next days with reviews.
    pub upcoming: Vec<(String, i64)>,
    /// The last rating, while it can be undone: task id, title, rating label.
    pub undo: Option<(String, String, String)>,
    /// Average recall of the reviewed items, "87 %".
    pub average_recall: Option<String>,
    /// Items whose recall falls under 80 % this week: (task id, title, recall now).
    pub at_risk: Vec<(String, String, String)>,
}

/// "4 d", "3 mo", "1 y".
pub fn interval_label(days: i64) -> String {
    match days {
        d if d < 60 => format!("{d} d"),
        d if d < 365 => format!("{} mo", (d as f64 / 30.4).round() as i64),
        _ => "1 y".into(),
    }
}

/// A probability as a whole percentage.
pub fn percent(p: f64) -> String {
    format!("{} %", (p * 100.0).round() as i64)
}

#[cfg(feature = "ssr")]
mod backend {
    use spacedly_server::revision::{schedule::Intervals, DueReview, Rating};

    use super::{interval_label, percent, AttachmentLink, Card, Choice};

    pub fn choices(intervals: &Intervals) -> Vec<Choice> {
        Rating::FOUR
            .iter()
            .map(|r| Choice {
                rating: r.as_str().into(),
                label: r.label().into(),
                key: r.grade() as u8,
                interval: interval_label(intervals.of(*r)),
            })
            .collect()
    }

    pub fn card(d: &DueReview) -> Card {
        let t = &d.task.task;
        Card {
            task_id: t.id.to_string(),
            title: t.title.clone(),
            description: t.description.clone(),
            link: t.link.clone(),
            attachments: d
                .task
                .attachments
                .iter()
                .map(|a| AttachmentLink {
                    name: a.original_name.clone(),
                    url: spacedly_server::attachments::api::file_url(a.id),
                })
                .collect(),
            recall: d.recall.map(percent),
            choices: choices(&d.intervals),
        }
    }

    pub fn day(d: chrono::NaiveDate) -> String {
        d.format("%a %-d %b").to_string()
    }
}

/// The Review page's content for the signed-in user.
#[server(prefix = "/_sf", endpoint = "revision/view")]
pub async fn load_review() -> Result<ReviewView, ServerFnError> {
    use spacedly_server::revision;
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let now = state.now();
    let internal = crate::forms::internal;
    let (first, due) = revision::first_due(&state.pool, user.id, now)
        .await
        .map_err(internal)?;
    let progress = revision::progress(&state.pool, user.id, now)
        .await
        .map_err(internal)?;
    let undo = revision::last_undoable(&state.pool, user.id, now)
        .await
        .map_err(internal)?;
    let retention = revision::retention(&state.pool, user.id, now, None, false)
        .await
        .map_err(internal)?;
    Ok(ReviewView {
        card: first.as_ref().map(backend::card),
        due,
        reviewed_today: progress.reviewed_today,
        upcoming: progress
            .upcoming
            .into_iter()
            .map(|(d, n)| (backend::day(d), n))
            .collect(),
        undo: undo.map(|(id, title, rating)| (id.to_string(), title, rating.label().into())),
        average_recall: (!retention.items.is_empty()).then(|| percent(retention.average_recall)),
        at_risk: retention
            .at_risk
            .into_iter()
            .take(10)
            .map(|r| (r.task_id.to_string(), r.title, percent(r.recall)))
            .collect(),
    })
}

/// Rates the review of a task and comes back to the Review page, whose message says when the
/// next review is.
#[server(prefix = "/_sf", endpoint = "revision/rate")]
pub async fn rate_review(
    task_id: String,
    rating: String,
    nonce: Option<String>,
) -> Result<(), ServerFnError> {
    use spacedly_server::{revision, validate::Choice as _};
    let work = |state: spacedly_server::AppState, user: spacedly_server::auth::User| async move {
        let rating = revision::Rating::parse(&rating)
            .map_err(|m| spacedly_server::AppError::validation("rating", m))?;
        let id = spacedly_server::tasks::parse_id(&task_id)?;
        let rated = revision::rate(&state, user.id, id, rating).await?;
        let zone = spacedly_server::tasks::zone_of(&user.timezone);
        let next = rated.next_review_at.with_timezone(&zone).date_naive();
        Ok(format!(
            "{}: “{}” comes back on {}.",
            rating.label(),
            rated.task.task.title,
            backend::day(next)
        ))
    };
    crate::forms::act(nonce, ("/review".into(), form::REVIEW), &[], work, |m| m).await
}

/// Undoes the last rating of a task (within ten minutes of it).
#[server(prefix = "/_sf", endpoint = "revision/undo")]
pub async fn undo_review(task_id: String, nonce: Option<String>) -> Result<(), ServerFnError> {
    let work = |state: spacedly_server::AppState, user: spacedly_server::auth::User| async move {
        let id = spacedly_server::tasks::parse_id(&task_id)?;
        let undone = spacedly_server::revision::undo(&state, user.id, id).await?;
        Ok(format!(
            "Rating undone: “{}” is due again.",
            undone.task.task.title
        ))
    };
    crate::forms::act(nonce, ("/review".into(), form::REVIEW), &[], work, |m| m).await
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let data = Resource::new(|| (), |_| load_review());
    view! {
        <Title text="Review" />
        <SignedInLayout title="Review" me=me>
            <FormMessage state=FormState::of(form::REVIEW) />
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <Review v=v /> }.into_any(),
                        Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
fn Review(v: ReviewView) -> impl IntoView {
    let undo = v.undo.clone().map(|(id, title, rating)| {
        view! {
            <PostForm action=UndoReview::PATH class="form form--inline review__undo">
                <input type="hidden" name="task_id" value=id />
                <button class="button button--small" type="submit">
                    {format!("Undo “{rating}” on {title}")}
                </button>
            </PostForm>
        }
        .into_any()
    });
    let main = match v.card.clone() {
        Some(card) => {
            let more = v.due.saturating_sub(1);
            view! {
                <p class="muted">
                    {match more {
                        0 => "The last review due today.".to_string(),
                        1 => "1 more due today after this one.".to_string(),
                        n => format!("{n} more due today after this one."),
                    }}
                </p>
                <ReviewCard card=card />
            }
            .into_any()
        }
        None => view! { <Finished v=v.clone() /> }.into_any(),
    };
    let recall = v.average_recall.clone().map(|avg| {
        let risky = v
            .at_risk
            .iter()
            .map(|(id, title, recall)| {
                view! { <li><a href=format!("/tasks/{id}")>{title.clone()}</a>" · "{recall.clone()}</li> }.into_any()
            })
            .collect_view();
        let any_risk = !v.at_risk.is_empty();
        view! {
            <section class="panel" aria-labelledby="recall-title">
                <h2 id="recall-title">"Recall"</h2>
                <p>"Average recall of your reviewed topics now: "<strong>{avg}</strong></p>
                {if any_risk {
                    view! {
                        <h3>"At risk this week"</h3>
                        <p class="muted">"Below 80 % within 7 days unless reviewed:"</p>
                        <ul>{risky}</ul>
                    }.into_any()
                } else {
                    view! { <p class="muted">"Nothing falls below 80 % this week."</p> }.into_any()
                }}
                <p><a href="/analytics#chart-retention">"Recall forecast"</a></p>
            </section>
        }
    });
    view! {
        <div class="review" data-review>
            {main}
            {undo}
        </div>
        {recall}
    }
}

#[component]
fn ReviewCard(card: Card) -> impl IntoView {
    let buttons = card
        .choices
        .into_iter()
        .map(|c| {
            let id = card.task_id.clone();
            let label = format!("{} · {}", c.label, c.interval);
            view! {
                <PostForm action=RateReview::PATH class="form form--inline">
                    <input type="hidden" name="task_id" value=id />
                    <input type="hidden" name="rating" value=c.rating.clone() />
                    <button
                        class=format!("button review__rate review__rate--{}", c.rating)
                        type="submit"
                        data-rating=c.key.to_string()
                        aria-keyshortcuts=c.key.to_string()
                    >
                        <kbd aria-hidden="true">{c.key}</kbd>" "{label}
                    </button>
                </PostForm>
            }
            .into_any()
        })
        .collect_view();
    let attachments = card
        .attachments
        .iter()
        .map(|a| view! { <li><a href=a.url.clone()>{a.name.clone()}</a></li> }.into_any())
        .collect_view();
    let has_attachments = !card.attachments.is_empty();
    let link = (!card.link.is_empty()).then(|| {
        view! { <p><a href=card.link.clone() rel="noopener noreferrer nofollow" target="_blank">{card.link.clone()}</a></p> }
    });
    let description = (!card.description.is_empty())
        .then(|| view! { <p class="review__description">{card.description.clone()}</p> });
    view! {
        <article class="panel review__card" aria-labelledby="review-title">
            <h2 id="review-title">{card.title.clone()}</h2>
            <p class="muted">
                {match card.recall.clone() {
                    Some(r) => format!("Recall now about {r}. Try to remember it, then show the answer."),
                    None => "First review. Try to remember it, then show the answer.".to_string(),
                }}
            </p>
            <details class="review__answer">
                <summary class="button" aria-keyshortcuts="Space">"Show"<span class="muted">" (Space)"</span></summary>
                <div class="review__body">
                    {description}
                    {link}
                    {has_attachments.then(|| view! { <ul class="review__attachments" aria-label="Attachments">{attachments}</ul> })}
                    {(card.description.is_empty() && card.link.is_empty() && !has_attachments)
                        .then(|| view! { <p class="muted">"No notes on this topic."</p> })}
                    <h3 class="review__question">"How well did you remember it?"</h3>
                    <div class="review__buttons" role="group" aria-label="Rate your recall">{buttons}</div>
                    <p class="muted">"Keys 1 to 4. Each button shows when the topic would come back."</p>
                </div>
            </details>
            <p><a href=format!("/tasks/{}", card.task_id)>"Open the task"</a></p>
        </article>
    }
}

#[component]
fn Finished(v: ReviewView) -> impl IntoView {
    let upcoming = v
        .upcoming
        .iter()
        .map(|(day, n)| {
            let what = if *n == 1 {
                "1 review".to_string()
            } else {
                format!("{n} reviews")
            };
            view! { <li>{day.clone()}": "{what}</li> }.into_any()
        })
        .collect_view();
    let done = match v.reviewed_today {
        0 => "Nothing is due now.".to_string(),
        1 => "All done: you reviewed 1 topic today.".to_string(),
        n => format!("All done: you reviewed {n} topics today."),
    };
    let any_upcoming = !v.upcoming.is_empty();
    view! {
        <section class="panel" aria-labelledby="finished-title">
            <h2 id="finished-title">{done}</h2>
            {if any_upcoming {
                view! { <p>"Next reviews:"</p><ul class="review__upcoming">{upcoming}</ul> }.into_any()
            } else {
                view! {
                    <p>"No reviews are scheduled. Add a topic with “Review it with spaced repetition” ticked and its first review comes tomorrow."</p>
                    <p><a class="button" href="/tasks/new">"Add a topic"</a></p>
                }.into_any()
            }}
        </section>
    }
}

/// A memory item's recall for its task page: (recall now, stability in days, next review).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallFacts {
    pub recall: Option<String>,
    pub stability: Option<String>,
    pub next_review: Option<String>,
    pub reviews: i64,
}

#[server(prefix = "/_sf", endpoint = "revision/task")]
pub async fn task_recall(id: String) -> Result<Option<RecallFacts>, ServerFnError> {
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Ok(None);
    };
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let r =
        spacedly_server::revision::retention(&state.pool, user.id, state.now(), Some(id), false)
            .await
            .map_err(crate::forms::internal)?;
    let next = spacedly_server::revision::next_review(&state.pool, user.id, id)
        .await
        .map_err(crate::forms::internal)?;
    Ok(Some(RecallFacts {
        recall: r.items.first().map(|i| percent(i.recall)),
        stability: r.items.first().map(|i| format!("{:.1} d", i.stability)),
        next_review: next.0.map(|at| {
            at.with_timezone(&zone)
                .format("%a %-d %b %Y, %H:%M")
                .to_string()
        }),
        reviews: next.1,
    }))
}

/// The recall panel of a memory item's task page.
#[component]
pub fn TaskRecallPanel(id: String) -> impl IntoView {
    let data = Resource::new(move || id.clone(), task_recall);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().flatten().map(|r| view! {
                    <section class="panel" aria-labelledby="recall-title">
                        <h2 id="recall-title">"Spaced repetition"</h2>
                        <dl class="facts">
                            <dt>"Recall now"</dt>
                            <dd>{r.recall.clone().unwrap_or_else(|| "not reviewed yet".into())}</dd>
                            {r.stability.clone().map(|s| view! { <dt>"Stability"</dt><dd>{s}</dd> })}
                            <dt>"Next review"</dt>
                            <dd>{r.next_review.clone().unwrap_or_else(|| "none scheduled".into())}</dd>
                            <dt>"Reviews"</dt>
                            <dd>{r.reviews}</dd>
                        </dl>
                        <p><a href="/review">"Go to Review"</a></p>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// What settings says about the FSRS parameters in use.
#[server(prefix = "/_sf", endpoint = "revision/parameters")]
pub async fn parameters_in_use() -> Result<(String, Option<String>), ServerFnError> {
    use spacedly_server::revision::optimiser::{self, MIN_REVIEWS};
    let user = crate::forms::require_user().await?;
    let state = crate::forms::state()?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let p = optimiser::parameters_in_use(&state.pool, user.id)
        .await
        .map_err(|e| crate::forms::internal(e.into()))?;
    let day =
        |at: chrono::DateTime<chrono::Utc>| at.with_timezone(&zone).format("%-d %b %Y").to_string();
    let in_use = match &p.fitted {
        Some(f) => format!(
            "Your own, fitted on {} from {} reviews (log loss {:.3}, against {:.3} before).",
            day(f.fitted_at),
            f.reviews,
            f.log_loss,
            f.previous_log_loss
        ),
        None if p.reviews < MIN_REVIEWS => format!(
            "FSRS's defaults, fitted to many learners. Yours are fitted weekly once you have {MIN_REVIEWS} reviews (you have {}).",
            p.reviews
        ),
        None => "FSRS's defaults, until the weekly fit finds parameters that predict your reviews better.".into(),
    };
    let last = p.last_fit.filter(|f| !f.kept).map(|f| {
        format!(
            "Last fit on {}: not kept, it did not predict your reviews better ({:.3} against {:.3}).",
            day(f.fitted_at),
            f.log_loss,
            f.previous_log_loss
        )
    });
    Ok((in_use, last))
}

/// The settings section on spaced repetition.
#[component]
pub fn RevisionSettings() -> impl IntoView {
    let data = Resource::new(|| (), |_| parameters_in_use());
    view! {
        <section class="panel" aria-labelledby="revision-settings-title">
            <h2 id="revision-settings-title">"Spaced repetition"</h2>
            <p class="muted">"Reviews come due at your morning hour (the digest's, below)."</p>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    data.await.ok().map(|(in_use, last)| view! {
                        <p><strong>"Parameters in use: "</strong>{in_use}</p>
                        {last.map(|l| view! { <p class="muted">{l}</p> })}
                    })
                })}
            </Suspense>
        </section>
    }
}
