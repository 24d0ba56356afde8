//! Outgoing email: lettre over SMTP when SMTP_URL is set, otherwise a development outbox of
//! files under `.data/mail` that the /dev/mailbox page lists.
//!
//! Bodies come from the template files in `server/templates/email`: an `.html` and a `.txt`
//! for each message. HTML templates escape every value automatically, so user text (a task
//! title, a name) can never inject markup.

pub mod outbox;

use std::sync::Arc;

use anyhow::Context;
use lettre::{
    message::{
        header::{ContentType, HeaderName, HeaderValue},
        Mailbox, MultiPart, SinglePart,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use minijinja::Environment;
use serde::Serialize;

use crate::config::Config;
pub use outbox::{Outbox, StoredEmail};

/// A message ready to send: rendered, addressed.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The Message-ID (without angle brackets); none: lettre makes a random one. Set it from
    /// what the message is about, so that a repeat of the same message is recognisable.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Further headers, by name (e.g. `List-Unsubscribe`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl OutgoingEmail {
    pub fn with_message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(Outbox),
}

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Arc<Transport>,
    templates: Arc<Environment<'static>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match *self.transport {
            Transport::Smtp(_) => "smtp",
            Transport::Outbox(_) => "dev-outbox",
        };
        f.debug_struct("Mailer").field("transport", &kind).finish()
    }
}

/// Every template, embedded at compile time so the binary is self-contained.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/email/layout.html"),
    ),
    ("test.html", include_str!("../../templates/email/test.html")),
    ("test.txt", include_str!("../../templates/email/test.txt")),
    (
        "verify_email.html",
        include_str!("../../templates/email/verify_email.html"),
    ),
    (
        "verify_email.txt",
        include_str!("../../templates/email/verify_email.txt"),
    ),
    (
        "login_code.html",
        include_str!("../../templates/email/login_code.html"),
    ),
    (
        "login_code.txt",
        include_str!("../../templates/email/login_code.txt"),
    ),
    (
        "password_reset.html",
        include_str!("../../templates/email/password_reset.html"),
    ),
    (
        "password_reset.txt",
        include_str!("../../templates/email/password_reset.txt"),
    ),
    (
        "password_changed.html",
        include_str!("../../templates/email/password_changed.html"),
    ),
    (
        "password_changed.txt",
        include_str!("../../templates/email/password_changed.txt"),
    ),
    (
        "account_secured.html",
        include_str!("../../templates/email/account_secured.html"),
    ),
    (
        "account_secured.txt",
        include_str!("../../templates/email/account_secured.txt"),
    ),
    (
        "digest.html",
        include_str!("../../templates/email/digest.html"),
    ),
    (
        "digest.txt",
        include_str!("../../templates/email/digest.txt"),
    ),
    (
        "reminder.html",
        include_str!("../../templates/email/reminder.html"),
    ),
    (
        "reminder.txt",
        include_str!("../../templates/email/reminder.txt"),
    ),
];

fn template_env() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    // Unknown variables are bugs in our code, not blanks to paper over.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .with_context(|| format!("parsing email template {name}"))?;
    }
    Ok(env)
}

impl Mailer {
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let transport = match &config.smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(
                    secrecy::ExposeSecret::expose_secret(url),
                )
                .context("SMTP_URL is not a valid smtp:// or smtps:// URL")?
                .build(),
            ),
            None => Transport::Outbox(Outbox::new(config.mail_dir())),
        };
        Ok(Self {
            from: config
                .mail_from
                .parse()
                .with_context(|| format!("MAIL_FROM={:?} is not an address", config.mail_from))?,
            transport: Arc::new(transport),
            templates: Arc::new(template_env()?),
        })
    }

    /// The dev outbox, when that is where mail goes.
    pub fn outbox(&self) -> Option<&Outbox> {
        match &*self.transport {
            Transport::Outbox(outbox) => Some(outbox),
            Transport::Smtp(_) => None,
        }
    }

    /// Renders `<template>.html` and `<template>.txt` with the same values.
    pub fn render(
        &self,
        template: &str,
        to: &str,
        subject: &str,
        values: impl Serialize,
    ) -> anyhow::Result<OutgoingEmail> {
        let ctx =
            minijinja::context! { subject => subject, ..minijinja::Value::from_serialize(&values) };
        let html = self
            .templates
            .get_template(&format!("{template}.html"))?
            .render(&ctx)
            .with_context(|| format!("rendering {template}.html"))?;
        let text = self
            .templates
            .get_template(&format!("{template}.txt"))?
            .render(&ctx)
            .with_context(|| format!("rendering {template}.txt"))?;
        Ok(OutgoingEmail {
            to: to.to_string(),
            subject: subject.to_string(),
            html,
            text,
            message_id: None,
            headers: vec![],
        })
    }

    fn build(&self, email: &OutgoingEmail) -> anyhow::Result<Message> {
        let to: Mailbox = email
            .to
            .parse()
            .with_context(|| format!("{:?} is not an email address", email.to))?;
        let mut message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject);
        if let Some(id) = &email.message_id {
            message = message.message_id(Some(format!("<{id}>")));
        }
        for (name, value) in &email.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .with_context(|| format!("{name:?} is not a header name"))?;
            message = message.raw_header(HeaderValue::new(name, value.clone()));
        }
        message
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html.clone()),
                    ),
            )
            .context("building the email")
    }

    pub async fn send(&self, email: &OutgoingEmail) -> anyhow::Result<()> {
        let message = self.build(email)?;
        match &*self.transport {
            Transport::Smtp(smtp) => {
                smtp.send(message)
                    .await
                    .context("sending email over SMTP")?;
            }
            Transport::Outbox(outbox) => {
                outbox
                    .store(&self.from.to_string(), email, &message.formatted())
                    .await?;
            }
        }
        tracing::info!(subject = %email.subject, "email sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer(dir: &std::path::Path) -> Mailer {
        let config = Config::for_tests("postgres://unused", dir.to_path_buf());
        Mailer::from_config(&config).unwrap()
    }

    #[test]
    fn html_body_escapes_user_text_and_text_body_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let email = mailer(dir.path())
            .render(
                "test",
                "ada@example.com",
                "Test",
                serde_json::json!({"name": "<script>alert(1)</script>", "sent_at": "now", "note": "a & b"}),
            )
            .unwrap();
        assert!(!email.html.contains("<script>alert"));
        assert!(email.html.contains("&lt;script&gt;"));
        assert!(email.html.contains("a &amp; b"));
        assert!(email.text.contains("<script>alert(1)</script>"));
    }

    #[tokio::test]
    async fn dev_outbox_keeps_sent_mail_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = mailer(dir.path());
        for name in ["first", "second"] {
            let email = mailer
                .render(
                    "test",
                    "ada@example.com",
                    name,
                    serde_json::json!({"name": name, "sent_at": "now", "note": null}),
                )
                .unwrap();
            mailer.send(&email).await.unwrap();
        }
        let outbox = mailer.outbox().expect("tests use the outbox");
        let list = outbox.list(50).await.unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].subject, "second");
        let one = outbox.get(&list[1].id).await.unwrap().expect("stored");
        assert_eq!(one.subject, "first");
        assert!(one.raw.contains("Content-Type: multipart/alternative"));
    }

    #[tokio::test]
    async fn invalid_recipient_is_refused_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let mailer = mailer(dir.path());
        let email = OutgoingEmail {
            to: "not an address".into(),
            subject: "x".into(),
            html: String::new(),
            text: String::new(),
            message_id: None,
            headers: vec![],
        };
        assert!(mailer.send(&email).await.is_err());
        assert!(mailer.outbox().unwrap().list(10).await.unwrap().is_empty());
    }
}
