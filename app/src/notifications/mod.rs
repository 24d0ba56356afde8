//! The notification centre's page and the bell in the app header (an island that follows the
//! unread count live through server-sent events).

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use spacedly_server::{auth::User, AppState};

use crate::{components::layout::SignedInLayout, forms::PostForm, page::require_me};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub message: String,
    pub read: bool,
    pub at: String,
    pub task: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationPageData {
    pub items: Vec<NotificationView>,
    pub page: i64,
    pub pages: i64,
    pub unread: i64,
}

#[cfg(feature = "ssr")]
const PAGE_SIZE: i64 = 50;

#[server(prefix = "/_sf", endpoint = "notifications/list")]
pub async fn notification_page(page: i64) -> Result<NotificationPageData, ServerFnError> {
    use spacedly_server::notifications;
    let state = crate::forms::state()?;
    let user = crate::forms::require_user().await?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let (items, total) = notifications::list(&state.pool, user.id, page, PAGE_SIZE)
        .await
        .map_err(crate::forms::internal)?;
    let unread = notifications::unread_count(&state.pool, user.id)
        .await
        .map_err(crate::forms::internal)?;
    Ok(NotificationPageData {
        items: items
            .into_iter()
            .map(|n| NotificationView {
                id: n.id.to_string(),
                kind: n.kind.as_str().to_string(),
                title: n.title,
                message: n.message,
                read: n.read_at.is_some(),
                at: n
                    .created_at
                    .with_timezone(&zone)
                    .format("%a %-d %b, %H:%M")
                    .to_string(),
                task: n.related_task_id.map(|id| id.to_string()),
            })
            .collect(),
        page: page.max(1),
        pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
        unread,
    })
}

/// The unread count for the bell, rendered with the page.
pub fn unread_count_now() -> i64 {
    crate::page::page().unread
}

#[server(prefix = "/_sf", endpoint = "notifications/read")]
pub async fn mark_notification_read(id: String) -> Result<(), ServerFnError> {
    use spacedly_server::notifications::{mark_read, parse_id};
    let back = crate::forms::referer_path()
        .filter(|p| p.starts_with("/notifications"))
        .unwrap_or_else(|| "/notifications".into());
    let work = |state: AppState, user: User| async move {
        mark_read(&state.pool, user.id, parse_id(&id)?, state.now()).await
    };
    crate::forms::act(None, (back, ""), &[], work, |()| String::new()).await
}

#[server(prefix = "/_sf", endpoint = "notifications/read-all")]
pub async fn mark_all_notifications_read() -> Result<(), ServerFnError> {
    use spacedly_server::notifications;
    let work = |state: AppState, user: User| async move {
        notifications::mark_all_read(&state.pool, user.id, state.now()).await
    };
    let done = |_| "All notifications are marked as read.".to_string();
    crate::forms::act(None, ("/notifications".into(), ""), &[], work, done).await
}

#[server(prefix = "/_sf", endpoint = "notifications/delete")]
pub async fn delete_notification(id: String) -> Result<(), ServerFnError> {
    use spacedly_server::notifications;
    let work = |state: AppState, user: User| async move {
        notifications::delete(&state.pool, user.id, notifications::parse_id(&id)?).await
    };
    let done = |()| "Notification deleted.".to_string();
    crate::forms::act(None, ("/notifications".into(), ""), &[], work, done).await
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let Some(me) = require_me() else {
        return ().into_any();
    };
    let page = use_query_map().with_untracked(|q| {
        q.get("page")
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(1)
            .max(1)
    });
    let data = Resource::new(move || page, notification_page);
    view! {
        <Title text="Notifications" />
        <SignedInLayout title="Notifications" me=me>
            <section class="panel">
                <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match data.await {
                            Ok(data) => view! { <NotificationList data /> }.into_any(),
                            Err(e) => view! { <p role="alert">{crate::forms::server_error_message(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </SignedInLayout>
    }
    .into_any()
}

#[component]
fn NotificationList(data: NotificationPageData) -> impl IntoView {
    if data.items.is_empty() && data.page == 1 {
        return view! {
            <div class="empty">
                <p><strong>"Nothing here yet."</strong></p>
                <p>"Completed tasks, reminders and overdue work will show up here."</p>
            </div>
        }
        .into_any();
    }
    let items = data
        .items
        .into_iter()
        .map(|n| {
            let read_label = format!("Mark “{}” as read", n.title);
            let (read_id, delete_id) = (n.id.clone(), n.id.clone());
            let delete_label = format!("Delete “{}”", n.title);
            view! {
                <li class="notification" class:notification--unread=!n.read>
                    <div class="notification__body">
                        <strong>{n.title.clone()}</strong>
                        {(!n.read).then(|| view! { <span class="badge badge--new">"New"</span> })}
                        <p>{n.message.clone()}</p>
                        <small class="muted">{n.at.clone()}
                            {n.task.clone().map(|id| view! { " · " <a href=format!("/tasks/{id}")>"Open the task"</a> })}
                        </small>
                    </div>
                    <div class="notification__actions">
                        {(!n.read).then(|| view! {
                            <PostForm action=MarkNotificationRead::PATH class="form form--inline">
                                <input type="hidden" name="id" value=read_id />
                                <button class="button button--small" type="submit" aria-label=read_label>"Mark read"</button>
                            </PostForm>
                        })}
                        <PostForm action=DeleteNotification::PATH class="form form--inline">
                            <input type="hidden" name="id" value=delete_id />
                            <button class="button button--small button--danger" type="submit" aria-label=delete_label>"Delete"</button>
                        </PostForm>
                    </div>
                </li>
            }
        })
        .collect_view();
    let paging = (data.pages > 1).then(|| {
        view! {
            <nav class="paging" aria-label="Pages">
                {(data.page > 1).then(|| view! { <a href=format!("/notifications?page={}", data.page - 1) rel="prev">"← Newer"</a> })}
                <span>{format!("Page {} of {}", data.page, data.pages)}</span>
                {(data.page < data.pages).then(|| view! { <a href=format!("/notifications?page={}", data.page + 1) rel="next">"Older →"</a> })}
            </nav>
        }
    });
    view! {
        <div class="notifications__head">
            <p class="muted">{format!("{} unread", data.unread)}</p>
            {(data.unread > 0).then(|| view! {
                <PostForm action=MarkAllNotificationsRead::PATH class="form form--inline">
                    <button class="button button--small" type="submit">"Mark all as read"</button>
                </PostForm>
            })}
        </div>
        <ul class="notifications">{items}</ul>
        {paging}
    }
    .into_any()
}

/// The bell: a link to the notification centre with the unread count, kept up to date by the
/// server's event stream (`/api/notifications/stream`) once the island runs.
#[island]
pub fn NotificationBell(count: i64) -> impl IntoView {
    let (unread, set_unread) = signal(count);
    Effect::new(move |_| {
        #[cfg(not(feature = "ssr"))]
        {
            use wasm_bindgen::{closure::Closure, JsCast};
            if let Ok(source) = web_sys::EventSource::new("/api/notifications/stream") {
                let on_count =
                    Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                        move |event: web_sys::MessageEvent| {
                            let data = event.data().as_string().unwrap_or_default();
                            if let Some(n) = data.split("\"count\":").nth(1).and_then(|rest| {
                                rest.trim_end_matches('}').trim().parse::<i64>().ok()
                            }) {
                                set_unread.set(n);
                            }
                        },
                    );
                let _ = source
                    .add_event_listener_with_callback("count", on_count.as_ref().unchecked_ref());
                // The page lives as long as the stream: keep the handler.
                on_count.forget();
            }
        }
        let _ = set_unread;
    });
    let label = move || match unread.get() {
        0 => "Notifications, none unread".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <a href="/notifications" class="bell" aria-label=label title=label>
            <svg class="bell__icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
            </svg>
            <span class="bell__count" data-count=move || unread.get().to_string() hidden=move || unread.get() == 0>
                {move || unread.get().to_string()}
            </span>
        </a>
    }
}
