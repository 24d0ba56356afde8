//! The development outbox: each sent message is a JSON file (plus its raw MIME form) under
//! `.data/mail`, so developers can read what the app sent without an SMTP server.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::OutgoingEmail;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredEmail {
    pub id: Uuid,
    pub sent_at: DateTime<Utc>,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The message exactly as it would have gone over SMTP.
    pub raw: String,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub async fn store(
        &self,
        from: &str,
        email: &OutgoingEmail,
        raw: &[u8],
    ) -> anyhow::Result<Uuid> {
        tokio::fs::create_dir_all(&self.dir)
            .await
            .with_context(|| format!("creating {}", self.dir.display()))?;
        let stored = StoredEmail {
            id: Uuid::new_v4(),
            sent_at: Utc::now(),
            from: from.to_string(),
            to: email.to.clone(),
            subject: email.subject.clone(),
            html: email.html.clone(),
            text: email.text.clone(),
            raw: String::from_utf8_lossy(raw).into_owned(),
        };
        let path = self.dir.join(format!("{}.json", stored.id));
        let json = serde_json::to_vec_pretty(&stored)?;
        tokio::fs::write(&path, json)
            .await
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(stored.id)
    }

    /// The newest `limit` messages, newest first.
    pub async fn list(&self, limit: usize) -> anyhow::Result<Vec<StoredEmail>> {
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e).context("reading the dev outbox"),
        };
        let mut all = Vec::new();
        while let Some(entry) = entries.next_entry().await? {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match tokio::fs::read(&path)
                .await
                .map(|b| serde_json::from_slice::<StoredEmail>(&b))
            {
                Ok(Ok(email)) => all.push(email),
                _ => tracing::warn!(path = %path.display(), "skipping unreadable outbox file"),
            }
        }
        all.sort_by_key(|m| std::cmp::Reverse(m.sent_at));
        all.truncate(limit);
        Ok(all)
    }

    /// One message by id. The id is a UUID, so it can never name a path outside the outbox.
    pub async fn get(&self, id: &Uuid) -> anyhow::Result<Option<StoredEmail>> {
        let path = self.dir.join(format!("{id}.json"));
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context("reading an outbox message"),
        }
    }
}
