//! /dev/mailbox: the emails the app "sent" while no SMTP server is configured. It exists only in
//! development; elsewhere these routes are a plain 404.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::layout::{app_nav_items, AppLayout},
    pages::not_found::NotFound,
};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MailSummary {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub sent_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MailMessage {
    pub summary: MailSummary,
    pub from: String,
    pub html: String,
    pub text: String,
}

#[cfg(feature = "ssr")]
mod backend {
    use leptos::prelude::*;
    use spacedly_server::{email::Outbox, AppState};

    /// The outbox when the dev mailbox is on: development, and no SMTP server configured.
    pub fn dev_outbox() -> Option<Outbox> {
        let state = use_context::<AppState>()?;
        if !state.config.is_development() {
            return None;
        }
        state.mailer.outbox().cloned()
    }

    /// Outside development (or with SMTP configured) the mailbox does not exist: 404.
    pub fn unavailable() -> ServerFnError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
        ServerFnError::new("not found")
    }

    pub fn internal(e: anyhow::Error) -> ServerFnError {
        tracing::error!(error = ?e, "dev mailbox");
        ServerFnError::new("the mailbox could not be read")
    }

    pub fn summary(m: &spacedly_server::email::StoredEmail) -> super::MailSummary {
        super::MailSummary {
            id: m.id.to_string(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            sent_at: m.sent_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        }
    }
}

/// Whether this server shows the dev mailbox (decided on the server, known at render time).
fn mailbox_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        backend::dev_outbox().is_some()
    }
    #[cfg(not(feature = "ssr"))]
    {
        true
    }
}

#[server(prefix = "/_sf", endpoint = "dev/mailbox")]
pub async fn list_dev_mail() -> Result<Vec<MailSummary>, ServerFnError> {
    let outbox = backend::dev_outbox().ok_or_else(backend::unavailable)?;
    let list = outbox.list(200).await.map_err(backend::internal)?;
    Ok(list.iter().map(backend::summary).collect())
}

#[server(prefix = "/_sf", endpoint = "dev/mailbox/message")]
pub async fn get_dev_mail(id: String) -> Result<Option<MailMessage>, ServerFnError> {
    let outbox = backend::dev_outbox().ok_or_else(backend::unavailable)?;
    let Ok(id) = id.parse() else {
        return Ok(None);
    };
    let message = outbox.get(&id).await.map_err(backend::internal)?;
    Ok(message.map(|m| MailMessage {
        summary: backend::summary(&m),
        from: m.from,
        html: m.html,
        text: m.text,
    }))
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    if !mailbox_enabled() {
        return NotFound().into_any();
    }
    let mail = Resource::new(|| (), |_| list_dev_mail());
    view! {
        <Title text="Dev mailbox" />
        <AppLayout title="Dev mailbox" items=app_nav_items(true)>
            <p class="muted">
                "Emails sent while no SMTP server is configured land here (files under .data/mail)."
            </p>
            <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match mail.await {
                        Ok(list) if list.is_empty() => {
                            view! { <p class="empty">"No email has been sent yet."</p> }.into_any()
                        }
                        Ok(list) => {
                            let rows = list
                                .into_iter()
                                .map(|m| {
                                    view! {
                                        <tr>
                                            <td>
                                                <a href=format!("/dev/mailbox/{}", m.id)>{m.subject}</a>
                                            </td>
                                            <td>{m.to}</td>
                                            <td>
                                                <time>{m.sent_at}</time>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view();
                            view! {
                                <table class="table mail-list">
                                    <caption class="visually-hidden">"Sent emails, newest first"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"Subject"</th>
                                            <th scope="col">"To"</th>
                                            <th scope="col">"Sent"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }
                                .into_any()
                        }
                        Err(_) => {
                            view! { <p role="alert">"The mailbox could not be read."</p> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </AppLayout>
    }
    .into_any()
}

#[component]
pub fn MailPage() -> impl IntoView {
    if !mailbox_enabled() {
        return NotFound().into_any();
    }
    let params = use_params_map();
    let message = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_dev_mail,
    );
    view! {
        <Suspense fallback=|| view! { <p aria-busy="true">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match message.await {
                    Ok(Some(m)) => {
                        view! {
                            <Title text=m.summary.subject.clone() />
                            <AppLayout title=m.summary.subject.clone() items=app_nav_items(true)>
                                <p>
                                    <a href="/dev/mailbox">"← All emails"</a>
                                </p>
                                <dl class="mail-meta">
                                    <dt>"From"</dt>
                                    <dd>{m.from}</dd>
                                    <dt>"To"</dt>
                                    <dd>{m.summary.to}</dd>
                                    <dt>"Sent"</dt>
                                    <dd>{m.summary.sent_at}</dd>
                                </dl>
                                <h2>"HTML"</h2>
                                // A sandboxed frame: the email's markup cannot run script or reach the app.
                                <iframe
                                    class="mail-frame"
                                    title="HTML body of the email"
                                    sandbox=""
                                    srcdoc=m.html
                                ></iframe>
                                <h2>"Plain text"</h2>
                                <pre class="mail-text">{m.text}</pre>
                            </AppLayout>
                        }
                            .into_any()
                    }
                    Ok(None) => NotFound().into_any(),
                    Err(_) => {
                        view! { <p role="alert">"The mailbox could not be read."</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
    .into_any()
}
