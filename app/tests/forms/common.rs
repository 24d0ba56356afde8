//! The harness of the form tests: the whole site (the router `serve` mounts) over a fresh,
//! migrated database, a manual clock, and a browser that keeps its cookies, posts
//! `application/x-www-form-urlencoded` bodies to the server functions as a page without
//! JavaScript does, and follows the `303 See Other` to read the message the page shows.
#![allow(dead_code)]

use std::{collections::BTreeMap, sync::Mutex};

use axum::{
    body::Body,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use spacedly_server::{clock::Clock, db, AppState, Config};
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

/// The address the test site believes it is served at (`Config::for_tests`).
pub const ORIGIN: &str = "http://127.0.0.1:3000";
const HOST: &str = "127.0.0.1:3000";

pub const PASSWORD: &str = "a long $ecret <script>";

pub struct Site {
    pub state: AppState,
    pub router: Router,
    _data_dir: tempfile::TempDir,
}

/// The site over `pool` (a fresh database from `#[sqlx::test(migrations = false)]`).
pub async fn site(pool: PgPool) -> Site {
    db::migrate(&pool).await.expect("migrations apply");
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::for_tests("postgres://from-sqlx-test", data_dir.path().to_path_buf());
    // In-process requests have no peer address (0.0.0.0): made the trusted proxy, so each
    // browser speaks for itself through X-Forwarded-For.
    config.trusted_proxies = vec!["0.0.0.0/32".parse().unwrap()];
    let mut state = AppState::new(pool, config).expect("state");
    // A clock the test moves; it starts at the real time (sessions expire by the real one).
    state.services.clock = Clock::manual(chrono::Utc::now());
    // No built site is needed: the pages link to assets they are not asked for.
    let options = LeptosOptions::builder()
        .output_name("spacedly")
        .site_root(data_dir.path().join("site").to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .hash_files(false)
        .build();
    let router = spacedly_app::site::router(state.clone(), options);
    Site {
        state,
        router,
        _data_dir: data_dir,
    }
}

impl Site {
    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    pub fn clock(&self) -> &Clock {
        &self.state.services.clock
    }

    pub fn browser(&self) -> Browser<'_> {
        Browser::new(self)
    }

    /// A scalar from the database (`SELECT count(*) …`).
    pub async fn scalar<T>(&self, sql: &'static str) -> T
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        sqlx::query_scalar(sql)
            .fetch_one(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        self.scalar::<i64>(sql).await
    }

    pub async fn user_id(&self, email: &str) -> Uuid {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.pool())
            .await
            .expect("the user exists")
    }
}

/// One answer, its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no Location ({}): {}", self.status, self.body))
    }

    /// Asserts `303 See Other` to `to` and returns self.
    #[track_caller]
    pub fn see_other(&self, to: &str) -> &Self {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.body);
        assert_eq!(self.location(), to);
        self
    }

    /// The form messages on this page: (ok, text) of each `notice`.
    pub fn notices(&self) -> Vec<(bool, String)> {
        let mut found = Vec::new();
        for (class, ok) in [("notice notice--ok", true), ("notice notice--error", false)] {
            for text in elements_text(&self.body, "p", &format!("class=\"{class}\"")) {
                found.push((ok, text));
            }
        }
        found
    }

    /// The success messages shown.
    pub fn ok_messages(&self) -> Vec<String> {
        self.notices()
            .into_iter()
            .filter(|(ok, _)| *ok)
            .map(|(_, t)| t)
            .collect()
    }

    /// The error messages shown (form-level).
    pub fn error_messages(&self) -> Vec<String> {
        self.notices()
            .into_iter()
            .filter(|(ok, _)| !ok)
            .map(|(_, t)| t)
            .collect()
    }

    /// The messages under fields.
    pub fn field_errors(&self) -> Vec<String> {
        elements_text(&self.body, "p", "class=\"field__error\"")
    }

    /// Asserts the page shows `message` as a success, and no error.
    #[track_caller]
    pub fn shows_ok(&self, message: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(
            self.ok_messages(),
            vec![message.to_string()],
            "notices: {:?}",
            self.notices()
        );
        assert!(self.error_messages().is_empty(), "{:?}", self.notices());
    }

    /// Asserts the page shows `message` as an error, with `fields` under their fields.
    #[track_caller]
    pub fn shows_error(&self, message: &str, fields: &[&str]) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(
            self.error_messages(),
            vec![message.to_string()],
            "notices: {:?}",
            self.notices()
        );
        assert_eq!(self.field_errors(), fields, "field errors");
    }

    /// Asserts the page shows no form message at all.
    #[track_caller]
    pub fn shows_nothing(&self) {
        assert!(self.notices().is_empty(), "{:?}", self.notices());
        assert!(self.field_errors().is_empty(), "{:?}", self.field_errors());
    }

    /// The `value` of the hidden `name` input of the form posting to `action` (the first one).
    pub fn form_value(&self, action: &str, name: &str) -> Option<String> {
        let start = self.body.find(&format!("action=\"{action}\""))?;
        let form = &self.body[start..];
        let form = &form[..form.find("</form>")?];
        let at = form.find(&format!("name=\"{name}\""))?;
        let input = &form[form[..at].rfind('<')?..];
        let input = &input[..input.find('>')?];
        let value = input.split("value=\"").nth(1)?.split('"').next()?;
        Some(html_escape::decode_html_entities(value).into_owned())
    }

    /// Whether the page's text holds `text` (tags left out, entities decoded).
    pub fn contains(&self, text: &str) -> bool {
        strip_tags(&self.body).contains(text)
    }
}

/// The text of every `<tag …marker…>…</tag>`, tags inside removed and entities decoded.
fn elements_text(html: &str, tag: &str, marker: &str) -> Vec<String> {
    let open = format!("<{tag} ");
    let close = format!("</{tag}>");
    let mut texts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let element = &rest[start..];
        let Some(head_end) = element.find('>') else {
            break;
        };
        let head = &element[..head_end];
        let Some(end) = element.find(&close) else {
            break;
        };
        if head.contains(marker) {
            texts.push(strip_tags(&element[head_end + 1..end]).trim().to_string());
        }
        rest = &element[head_end..];
    }
    texts
}

/// The text of some HTML: tags (and comments) left out, entities decoded.
fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&text).into_owned()
}

/// A browser without JavaScript: keeps its cookies, sends what a browser sends with a form.
pub struct Browser<'a> {
    pub site: &'a Site,
    cookies: Mutex<BTreeMap<String, String>>,
    pub ip: String,
    pub user_agent: String,
}

impl<'a> Browser<'a> {
    pub fn new(site: &'a Site) -> Self {
        Self {
            site,
            cookies: Mutex::new(BTreeMap::new()),
            ip: "203.0.113.7".into(),
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into(),
        }
    }

    /// The same browser from another address and device name.
    pub fn at(mut self, ip: &str, user_agent: &str) -> Self {
        self.ip = ip.into();
        self.user_agent = user_agent.into();
        self
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn forget_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    async fn send(&self, builder: axum::http::request::Builder, body: Body) -> Answer {
        let cookie = {
            let jar = self.cookies.lock().unwrap();
            jar.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let mut builder = builder
            .header(header::HOST, HOST)
            .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
            .header(header::USER_AGENT, &self.user_agent)
            .header("x-forwarded-for", &self.ip);
        if !cookie.is_empty() {
            builder = builder.header(header::COOKIE, cookie);
        }
        let response = self
            .site
            .router
            .clone()
            .oneshot(builder.body(body).unwrap())
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        {
            let mut jar = self.cookies.lock().unwrap();
            for set in headers
                .get_all(header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
            {
                let pair = set.split(';').next().unwrap_or_default();
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let expired = set.to_ascii_lowercase().contains("max-age=0");
                if expired || value.is_empty() {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_string(), value.to_string());
                }
            }
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// `GET path`, as a page load (a `#fragment` stays in the browser).
    pub async fn get(&self, path: &str) -> Answer {
        let path = path.split('#').next().unwrap_or(path);
        self.send(
            Request::get(path)
                .header("sec-fetch-site", "same-origin")
                .header("sec-fetch-mode", "navigate"),
            Body::empty(),
        )
        .await
    }

    /// Posts `fields` as a form on a page of this site, the way a browser sends it (Origin,
    /// Sec-Fetch-Site, urlencoded). A form without `nonce` gets a fresh one, as a rendered
    /// form has.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        self.post_form_from(None, path, fields).await
    }

    /// Like [`post_form`](Self::post_form), from the page `referer` (a path).
    pub async fn post_form_from(
        &self,
        referer: Option<&str>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Answer {
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.extend_pairs(fields.iter().copied());
        if !fields.iter().any(|(k, _)| *k == "nonce") {
            body.append_pair("nonce", &new_nonce());
        }
        let mut builder = Request::post(path)
            .header(header::ORIGIN, ORIGIN)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(referer) = referer {
            builder = builder.header(header::REFERER, format!("{ORIGIN}{referer}"));
        }
        self.send(builder, Body::from(body.finish())).await
    }

    /// Posts the form, expects `303 See Other` to `to`, and loads that page.
    #[track_caller]
    pub fn submit<'s>(
        &'s self,
        path: &'s str,
        fields: &'s [(&'s str, &'s str)],
        to: &'s str,
    ) -> impl std::future::Future<Output = Answer> + 's {
        let caller = std::panic::Location::caller();
        async move {
            let answer = self.post_form(path, fields).await;
            assert_eq!(
                answer.status,
                StatusCode::SEE_OTHER,
                "{path} from {caller}: {}",
                answer.body
            );
            if answer.location() != to {
                let page = self.follow(&answer).await;
                panic!(
                    "{path} from {caller}: went to {} instead of {to}, which shows {:?} {:?}",
                    answer.location(),
                    page.notices(),
                    page.field_errors()
                );
            }
            self.get(to).await
        }
    }

    /// Follows the redirect of `answer` (GET its Location).
    pub async fn follow(&self, answer: &Answer) -> Answer {
        self.get(answer.location()).await
    }

    /// Signs up through the form, signed in afterwards.
    pub async fn register(&self, name: &str, email: &str) {
        let page = self
            .submit(
                "/_sf/account/register",
                &[
                    ("name", name),
                    ("email", email),
                    ("password", PASSWORD),
                    ("timezone", "Europe/London"),
                ],
                "/dashboard",
            )
            .await;
        page.shows_ok("Welcome to Spacedly! Your account is ready.");
    }

    /// Signs in through the form (no second factor).
    pub async fn login(&self, email: &str, password: &str) -> Answer {
        self.post_form(
            "/_sf/account/login",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

/// A nonce as a rendered form carries.
pub fn new_nonce() -> String {
    Uuid::new_v4().simple().to_string()
}

/// Runs the queued email jobs as the worker would (each rendered into the dev outbox), oldest
/// first, and marks them done.
pub async fn run_email_jobs(site: &Site) -> usize {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, job FROM apalis.jobs WHERE job_type = 'email' AND status = 'Pending'
         ORDER BY run_at, id",
    )
    .fetch_all(site.pool())
    .await
    .unwrap();
    let mut sent = 0;
    for (id, bytes) in rows {
        let job: spacedly_server::auth::emails::SendEmail = serde_json::from_slice(&bytes).unwrap();
        if spacedly_server::auth::emails::deliver(&site.state, job.user_id, &job.email)
            .await
            .unwrap()
        {
            sent += 1;
        }
        sqlx::query("UPDATE apalis.jobs SET status = 'Done', done_at = now() WHERE id = $1")
            .bind(id)
            .execute(site.pool())
            .await
            .unwrap();
    }
    sent
}

/// Every email sent so far (after running the queued jobs), oldest first: (to, subject, text).
pub async fn sent_emails(site: &Site) -> Vec<(String, String, String)> {
    run_email_jobs(site).await;
    let outbox = site
        .state
        .mailer
        .outbox()
        .expect("tests use the dev outbox");
    let mut all = outbox.list(usize::MAX).await.unwrap();
    all.reverse();
    all.into_iter().map(|m| (m.to, m.subject, m.text)).collect()
}

/// The `token=` of the last link sent to `to` whose subject contains `subject`.
pub async fn last_link_token(site: &Site, to: &str, subject: &str) -> String {
    let (_, _, text) = sent_emails(site)
        .await
        .into_iter()
        .rev()
        .find(|(t, s, _)| t == to && s.contains(subject))
        .unwrap_or_else(|| panic!("no email {subject:?} to {to}"));
    let start = text.find("token=").expect("a link with a token") + 6;
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_string()
}

/// The 6-digit code of the last sign-in code email sent to `to`.
pub async fn last_sign_in_code(site: &Site, to: &str) -> String {
    let (_, _, text) = sent_emails(site)
        .await
        .into_iter()
        .rev()
        .find(|(t, s, _)| t == to && s.contains("sign-in code"))
        .unwrap_or_else(|| panic!("no sign-in code sent to {to}"));
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}
