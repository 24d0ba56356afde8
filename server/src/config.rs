//! Settings, read once at start-up from the environment (and an optional `.env` file).
//!
//! Every variable is listed in `.env.example` and the README. Development fills in what it can
//! (a generated secret kept under `.data/`, the dev mailbox); production refuses to start
//! without real values, because a weak secret or a mailbox nobody reads is a silent failure.
//!
//! [`Vars`] declares each variable for clap: its name, default and parser (whose error is the
//! message start-up prints). [`Config::from_lookup`] then applies the rules that involve several
//! of them (production's demands, the Google pair, the storage backend).

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use anyhow::{bail, Context};
use clap::{builder::Resettable, ArgAction, CommandFactory, FromArgMatches};
use ipnet::IpNet;
use rand::RngCore;
use secrecy::{SecretBox, SecretString};

use crate::storage::{S3Config, StorageConfig};

/// Where the program runs. Only `Production` enforces the strict rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl FromStr for AppEnv {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "development" | "dev" | "" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => bail!("APP_ENV must be development, test or production (got {other:?})"),
        }
    }
}

/// `Debug` shows every setting except the secrets (secrecy prints them as `[REDACTED]`).
#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    /// The address the HTTP server binds to.
    pub bind_addr: SocketAddr,
    /// The public origin of the site (scheme://host[:port]), used in links and the origin check.
    pub public_url: url::Url,
    /// May hold the database password: redacted in `Debug`.
    pub database_url: SecretString,
    pub database_max_connections: u32,
    /// At least 32 bytes; signs the session cookie.
    pub secret_key: SecretBox<[u8]>,
    /// Where the generated development secret is kept, when SECRET_KEY is not set: sessions
    /// signed with it are refused by any instance with another DATA_DIR.
    pub dev_secret_file: Option<PathBuf>,
    /// `None`: the dev outbox under `data_dir/mail`.
    /// May hold the SMTP password: redacted in `Debug`.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub data_dir: PathBuf,
    pub cookie_secure: bool,
    /// Other origins allowed to call the API from a browser (CORS + origin check).
    pub allowed_origins: Vec<String>,
    /// Addresses of our reverse proxies (CIDR ranges): X-Forwarded-For is believed only from them.
    pub trusted_proxies: Vec<IpNet>,
    /// Development on a non-loopback address was asked for explicitly (ALLOW_DEV_ON_NETWORK).
    pub allow_dev_on_network: bool,
    /// Bearer token for GET /metrics; without it the endpoint is not served.
    pub metrics_token: Option<SecretString>,
    pub request_timeout: Duration,
    /// Sustained requests per second allowed per client IP, and the burst above it.
    pub global_rate_per_second: u64,
    pub global_rate_burst: u32,
    /// Run the job workers inside `serve` (a `worker` process can take them instead).
    pub run_workers_in_serve: bool,
    pub log_format: LogFormat,
    /// Sign-in with Google (or any OpenID Connect provider); `None` when not configured.
    pub google: Option<OidcConfig>,
    /// Where attachments are stored: `<DATA_DIR>/uploads` or an S3-compatible bucket.
    pub storage: StorageConfig,
    /// Bytes of files each user may keep (STORAGE_QUOTA_MB, default 500).
    pub storage_quota_bytes: u64,
    /// Bytes of upload bodies held in memory at once, all requests together (UPLOAD_MEMORY_MB,
    /// default 256; never less than one largest upload).
    pub upload_memory_bytes: u64,
}

/// An OpenID Connect provider used for "Sign in with Google". Google is the preset; tests point
/// the same settings at a local provider.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    pub issuer: String,
    pub auth_url: String,
    pub token_url: String,
    pub redirect_url: String,
}

/// The token endpoint is trusted through TLS (we read the ID token straight from it), so it
/// must be https, or plain http on this machine only (a local test provider).
fn check_token_url(url: &str) -> anyhow::Result<()> {
    let parsed =
        url::Url::parse(url).with_context(|| format!("OIDC_TOKEN_URL={url:?} is not a URL"))?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
        Ok(())
    } else {
        bail!("OIDC_TOKEN_URL must use https (plain http is accepted for 127.0.0.1 only)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The variables, as clap reads them (see [`Vars::read`]). Defaults that depend on other
/// variables are `None` here and filled in by [`Config::from_lookup`].
#[derive(clap::Parser)]
#[command(name = "spacedly")]
struct Vars {
    #[arg(long, env = "APP_ENV", default_value = "development",
          value_parser = parsed::<AppEnv>("APP_ENV"))]
    app_env: AppEnv,
    #[arg(long, env = "DATA_DIR", default_value = ".data")]
    data_dir: PathBuf,
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    host: String,
    #[arg(long, env = "PORT", default_value = "3000", value_parser = parsed::<u16>("PORT"))]
    port: u16,
    /// Default: `http://HOST:PORT`.
    #[arg(long, env = "PUBLIC_URL")]
    public_url: Option<String>,
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", default_value = "20",
          value_parser = parsed::<u32>("DATABASE_MAX_CONNECTIONS"))]
    database_max_connections: u32,
    /// Default: generated into `DATA_DIR/dev-secret`, outside production.
    #[arg(long, env = "SECRET_KEY")]
    secret_key: Option<String>,
    #[arg(long, env = "SMTP_URL")]
    smtp_url: Option<String>,
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Spacedly <no-reply@spacedly.local>"
    )]
    mail_from: String,
    /// Default: true when PUBLIC_URL is https.
    #[arg(long, env = "COOKIE_SECURE", value_parser = flag("COOKIE_SECURE"))]
    cookie_secure: Option<bool>,
    #[arg(long, env = "ALLOWED_ORIGINS", default_value = "")]
    allowed_origins: String,
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    #[arg(long, env = "ALLOW_DEV_ON_NETWORK", default_value = "false", action = ArgAction::Set,
          value_parser = flag("ALLOW_DEV_ON_NETWORK"))]
    allow_dev_on_network: bool,
    #[arg(long, env = "METRICS_TOKEN")]
    metrics_token: Option<String>,
    #[arg(long, env = "REQUEST_TIMEOUT_SECS", default_value = "30",
          value_parser = parsed::<u64>("REQUEST_TIMEOUT_SECS"))]
    request_timeout_secs: u64,
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", default_value = "50",
          value_parser = parsed::<u64>("RATE_LIMIT_PER_SECOND"))]
    rate_limit_per_second: u64,
    #[arg(long, env = "RATE_LIMIT_BURST", default_value = "200",
          value_parser = parsed::<u32>("RATE_LIMIT_BURST"))]
    rate_limit_burst: u32,
    #[arg(long, env = "RUN_WORKERS", default_value = "true", action = ArgAction::Set,
          value_parser = flag("RUN_WORKERS"))]
    run_workers: bool,
    /// Default: json in production, pretty otherwise.
    #[arg(long, env = "LOG_FORMAT")]
    log_format: Option<String>,
    #[arg(long, env = "GOOGLE_CLIENT_ID")]
    google_client_id: Option<String>,
    #[arg(long, env = "GOOGLE_CLIENT_SECRET")]
    google_client_secret: Option<String>,
    #[arg(
        long,
        env = "OIDC_ISSUER",
        default_value = "https://accounts.google.com"
    )]
    oidc_issuer: String,
    #[arg(
        long,
        env = "OIDC_AUTH_URL",
        default_value = "https://accounts.google.com/o/oauth2/v2/auth"
    )]
    oidc_auth_url: String,
    #[arg(
        long,
        env = "OIDC_TOKEN_URL",
        default_value = "https://oauth2.googleapis.com/token"
    )]
    oidc_token_url: String,
    /// Default: `PUBLIC_URL/api/auth/google/callback`.
    #[arg(long, env = "OIDC_REDIRECT_URL")]
    oidc_redirect_url: Option<String>,
    #[arg(long, env = "STORAGE_BACKEND", default_value = "local")]
    storage_backend: String,
    /// Default: `DATA_DIR/uploads`.
    #[arg(long, env = "UPLOADS_DIR")]
    uploads_dir: Option<PathBuf>,
    #[arg(long, env = "S3_BUCKET")]
    s3_bucket: Option<String>,
    #[arg(long, env = "S3_REGION", default_value = "us-east-1")]
    s3_region: String,
    #[arg(long, env = "S3_ENDPOINT")]
    s3_endpoint: Option<String>,
    #[arg(long, env = "S3_ACCESS_KEY_ID")]
    s3_access_key_id: Option<String>,
    #[arg(long, env = "S3_SECRET_ACCESS_KEY")]
    s3_secret_access_key: Option<String>,
    #[arg(long, env = "STORAGE_QUOTA_MB", default_value = "500",
          value_parser = megabytes("STORAGE_QUOTA_MB"))]
    storage_quota_bytes: u64,
    #[arg(long, env = "UPLOAD_MEMORY_MB", default_value = "256",
          value_parser = megabytes("UPLOAD_MEMORY_MB"))]
    upload_memory_bytes: u64,
}

impl Vars {
    /// Reads each variable through `lookup` (the environment, or a map in tests). A value is
    /// trimmed and a blank one counts as unset, so `TRUSTED_PROXIES=` (as `.env.example` has
    /// it) takes the default, where clap's own reading of the environment would hand "" to the
    /// parser. So clap gets each value as a `--name=value` option, its `env` reading switched
    /// off; it never sees the program's command line (the sub-commands, parsed in src/main.rs).
    fn read(lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut args = vec!["spacedly".to_owned()];
        let command = Self::command().mut_args(|arg| {
            let value = arg
                .get_env()
                .and_then(|name| lookup(name.to_str()?))
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty());
            if let (Some(long), Some(value)) = (arg.get_long(), value) {
                args.push(format!("--{long}={value}"));
            }
            arg.env(Resettable::Reset)
        });
        command
            .try_get_matches_from(args)
            .and_then(|matches| Self::from_arg_matches(&matches))
            // A parser's own message, not clap's "invalid value … for '--port <PORT>'".
            .map_err(|e| match std::error::Error::source(&e) {
                Some(cause) => anyhow::anyhow!("{cause}"),
                None => anyhow::anyhow!("{}", e.render()),
            })
    }
}

/// A parser for any `FromStr` value, naming the variable in its error.
fn parsed<T>(name: &'static str) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    move |v| {
        v.parse()
            .map_err(|e| format!("{name}={v:?} is not valid: {e}"))
    }
}

fn flag(name: &'static str) -> impl Fn(&str) -> Result<bool, String> + Clone + Send + Sync {
    move |v| match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        v => Err(format!("{name}={v:?} must be true or false")),
    }
}

/// A positive whole number of megabytes, in bytes.
fn megabytes(name: &'static str) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync {
    move |v| match v.parse::<u64>() {
        Ok(mb) if mb > 0 => Ok(mb.saturating_mul(1024 * 1024)),
        _ => Err(format!(
            "{name} must be a positive whole number of megabytes"
        )),
    }
}

/// Proxies on this machine: what the old numeric TRUSTED_PROXIES form now means.
pub const LOOPBACK_PROXIES: &str = "127.0.0.0/8,::1/128";

/// Parses TRUSTED_PROXIES: comma- or space-separated addresses or CIDR ranges. An empty value
/// or `0` trusts none. The old count form (`1`, `2`…) trusted whoever connected; it is read as
/// "proxies on this machine" (loopback) so old settings stay safe, with a warning at start-up.
pub fn parse_trusted_proxies(value: &str) -> anyhow::Result<Vec<IpNet>> {
    let value = value.trim();
    if value.is_empty() || value == "0" {
        return Ok(vec![]);
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        eprintln!(
            "warning: TRUSTED_PROXIES={value} (a count) is deprecated: it now trusts proxies on \
             loopback only ({LOOPBACK_PROXIES}); list your proxies' addresses or CIDR ranges instead"
        );
        return parse_trusted_proxies(LOOPBACK_PROXIES);
    }
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    anyhow::anyhow!("TRUSTED_PROXIES: {item:?} is not an IP address or CIDR range")
                })
        })
        .collect()
}

const PLACEHOLDER_SECRETS: &[&str] = &[
    "changeme",
    "change-me",
    "secret",
    "replace-me-with-64-random-characters",
    "development",
];

/// A secret is weak when it is short, a known placeholder, or made of very few distinct bytes.
pub fn secret_is_weak(secret: &str) -> bool {
    let distinct = secret
        .bytes()
        .collect::<std::collections::HashSet<_>>()
        .len();
    secret.len() < 32
        || distinct < 10
        || PLACEHOLDER_SECRETS
            .iter()
            .any(|p| secret.eq_ignore_ascii_case(p))
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        // A missing .env is normal; a malformed one is an error worth stopping for.
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => return Err(e).context("reading .env"),
        }
        Self::from_current_env()
    }

    /// Reads the process environment only.
    pub fn from_current_env() -> anyhow::Result<Self> {
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let vars = Vars::read(lookup)?;
        let production = vars.app_env == AppEnv::Production;
        let data_dir = vars.data_dir;

        let (host, port) = (vars.host, vars.port);
        let bind_addr: SocketAddr = format!("{host}:{port}")
            .parse()
            .or_else(|_| format!("[{host}]:{port}").parse())
            .with_context(|| format!("HOST={host:?} is not an IP address"))?;

        let public_url = vars
            .public_url
            // SocketAddr writes IPv6 hosts in brackets, as a URL needs them.
            .unwrap_or_else(|| format!("http://{bind_addr}"));
        let public_url = url::Url::parse(&public_url)
            .with_context(|| format!("PUBLIC_URL={public_url:?} is not a URL"))?;

        let database_url: SecretString = vars
            .database_url
            .context(
                "DATABASE_URL is not set (`make run` starts a local PostgreSQL and sets it for you)",
            )?
            .into();

        let dev_secret_file = vars
            .secret_key
            .is_none()
            .then(|| data_dir.join("dev-secret"));
        let secret_key = match vars.secret_key {
            Some(s) if production && secret_is_weak(&s) => bail!(
                "SECRET_KEY is too weak for production: use at least 32 random characters \
                 (e.g. `openssl rand -hex 32`)"
            ),
            Some(s) if s.len() < 32 => bail!("SECRET_KEY must be at least 32 characters"),
            Some(s) => s.into_bytes(),
            None if production => bail!("SECRET_KEY must be set in production"),
            None => dev_secret(&data_dir)?,
        };
        let secret_key = SecretBox::from(secret_key.into_boxed_slice());

        let smtp_url = vars.smtp_url.map(SecretString::from);
        if production && smtp_url.is_none() {
            bail!("SMTP_URL must be set in production (the dev mailbox is for development only)");
        }

        let cookie_secure = vars.cookie_secure.unwrap_or(public_url.scheme() == "https");
        if production && (!cookie_secure || public_url.scheme() != "https") {
            bail!("production needs an https PUBLIC_URL and secure cookies (COOKIE_SECURE=true)");
        }

        let allowed_origins = vars
            .allowed_origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();

        let log_format = match vars.log_format.as_deref() {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => bail!("LOG_FORMAT must be json or pretty (got {other:?})"),
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
        };

        let google = match (vars.google_client_id, vars.google_client_secret) {
            (Some(client_id), Some(client_secret)) => {
                check_token_url(&vars.oidc_token_url)?;
                let mut callback = public_url.clone();
                callback.set_path("/api/auth/google/callback");
                Some(OidcConfig {
                    client_id,
                    client_secret: client_secret.into(),
                    issuer: vars.oidc_issuer,
                    auth_url: vars.oidc_auth_url,
                    token_url: vars.oidc_token_url,
                    redirect_url: vars
                        .oidc_redirect_url
                        .unwrap_or_else(|| callback.to_string()),
                })
            }
            (None, None) => None,
            _ => bail!("set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither"),
        };

        let storage = match vars.storage_backend.to_ascii_lowercase().as_str() {
            "local" => StorageConfig::Local {
                root: vars.uploads_dir.unwrap_or_else(|| data_dir.join("uploads")),
            },
            "s3" => {
                let (access_key_id, secret_access_key) =
                    (vars.s3_access_key_id, vars.s3_secret_access_key);
                if access_key_id.is_some() != secret_access_key.is_some() {
                    bail!("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither");
                }
                StorageConfig::S3(S3Config {
                    bucket: vars
                        .s3_bucket
                        .context("S3_BUCKET must be set when STORAGE_BACKEND=s3")?,
                    region: vars.s3_region,
                    endpoint: vars.s3_endpoint,
                    access_key_id,
                    secret_access_key,
                })
            }
            other => bail!("STORAGE_BACKEND must be local or s3 (got {other:?})"),
        };

        Ok(Self {
            google,
            storage,
            storage_quota_bytes: vars.storage_quota_bytes,
            upload_memory_bytes: vars.upload_memory_bytes,
            app_env: vars.app_env,
            bind_addr,
            public_url,
            database_url,
            database_max_connections: vars.database_max_connections,
            secret_key,
            dev_secret_file,
            smtp_url,
            mail_from: vars.mail_from,
            data_dir,
            cookie_secure,
            allowed_origins,
            trusted_proxies: parse_trusted_proxies(&vars.trusted_proxies)?,
            allow_dev_on_network: vars.allow_dev_on_network,
            metrics_token: vars.metrics_token.map(SecretString::from),
            request_timeout: Duration::from_secs(vars.request_timeout_secs),
            global_rate_per_second: vars.rate_limit_per_second,
            global_rate_burst: vars.rate_limit_burst,
            run_workers_in_serve: vars.run_workers,
            log_format,
        })
    }
    pub fn is_development(&self) -> bool {
        self.app_env == AppEnv::Development
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }

    /// `serve` in development exposes the dev mailbox (every reset link): it binds to a
    /// loopback address unless ALLOW_DEV_ON_NETWORK=true says otherwise.
    pub fn check_serve_binding(&self) -> anyhow::Result<()> {
        if self.is_development() && !self.bind_addr.ip().is_loopback() && !self.allow_dev_on_network
        {
            bail!(
                "refusing to serve development mode on {} (not a loopback address): the dev \
                 mailbox would show every reset link to the network. Use HOST=127.0.0.1, set \
                 APP_ENV=production, or set ALLOW_DEV_ON_NETWORK=true if you really mean it",
                self.bind_addr
            );
        }
        Ok(())
    }

    /// The dev outbox is used exactly when no SMTP server is configured.
    pub fn uses_dev_mailbox(&self) -> bool {
        self.smtp_url.is_none()
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }

    /// The page at `path` on this site, as links in emails name it.
    pub fn page_url(&self, path: &str) -> url::Url {
        let mut url = self.public_url.clone();
        url.set_path(path);
        url
    }

    /// A Message-ID (without angle brackets) for the message `local`, in PUBLIC_URL's domain.
    pub fn message_id(&self, local: &str) -> String {
        let host = self.public_url.host_str().unwrap_or("spacedly.local");
        format!("{local}@{host}")
    }

    /// `scheme://host[:port]` of PUBLIC_URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url
            .origin()
            .ascii_serialization()
            .trim_end_matches('/')
            .to_string()
    }

    /// A configuration for tests: no file, no environment, everything explicit.
    #[allow(clippy::expect_used, reason = "tests only: a constant URL")]
    pub fn for_tests(database_url: &str, data_dir: PathBuf) -> Self {
        Self {
            app_env: AppEnv::Test,
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: url::Url::parse("http://127.0.0.1:3000").expect("static url"),
            database_url: database_url.into(),
            database_max_connections: 5,
            secret_key: SecretBox::from(
                b"test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
                    .to_vec()
                    .into_boxed_slice(),
            ),
            dev_secret_file: None,
            smtp_url: None,
            mail_from: "Spacedly <no-reply@spacedly.test>".into(),
            data_dir: data_dir.clone(),
            cookie_secure: false,
            allowed_origins: vec![],
            trusted_proxies: vec![],
            allow_dev_on_network: false,
            metrics_token: Some(SecretString::from("test-metrics-token")),
            request_timeout: Duration::from_secs(30),
            global_rate_per_second: 1000,
            global_rate_burst: 10_000,
            run_workers_in_serve: false,
            log_format: LogFormat::Pretty,
            google: None,
            storage: StorageConfig::Local {
                root: data_dir.join("uploads"),
            },
            storage_quota_bytes: 500 * 1024 * 1024,
            upload_memory_bytes: 256 * 1024 * 1024,
        }
    }
}

/// Development keeps one generated secret under the data folder so sessions survive restarts.
fn dev_secret(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("dev-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 64 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    std::fs::write(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn short_or_placeholder_secrets_are_weak() {
        assert!(secret_is_weak("short"));
        assert!(secret_is_weak("replace-me-with-64-random-characters"));
        assert!(secret_is_weak(&"a".repeat(64)));
        assert!(!secret_is_weak(
            "8f2b1c9e4d7a6b3f0e5c2a9d8b7f6e1c4a3b2d9e8f7c6b5a"
        ));
    }

    fn production(extra: &[(&str, &str)]) -> anyhow::Result<Config> {
        let mut vars: std::collections::HashMap<String, String> = [
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://localhost/spacedly"),
            ("PUBLIC_URL", "https://spacedly.example"),
            (
                "SECRET_KEY",
                "8f2b1c9e4d7a6b3f0e5c2a9d8b7f6e1c4a3b2d9e8f7c6b5a",
            ),
            ("SMTP_URL", "smtps://user:pass@smtp.example:465"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(&|name| vars.get(name).cloned())
    }

    #[test]
    fn production_starts_with_strong_settings() {
        let config = production(&[]).expect("valid production config");
        assert!(config.cookie_secure);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.public_origin(), "https://spacedly.example");
    }

    #[test]
    fn sizes_are_whole_megabytes_with_defaults() {
        let config = production(&[]).unwrap();
        assert_eq!(config.storage_quota_bytes, 500 * 1024 * 1024);
        assert_eq!(config.upload_memory_bytes, 256 * 1024 * 1024);
        let config =
            production(&[("STORAGE_QUOTA_MB", "2"), ("UPLOAD_MEMORY_MB", " 512 ")]).unwrap();
        assert_eq!(config.storage_quota_bytes, 2 * 1024 * 1024);
        assert_eq!(config.upload_memory_bytes, 512 * 1024 * 1024);
        for bad in ["0", "-1", "1.5", "lots"] {
            let err = production(&[("UPLOAD_MEMORY_MB", bad)]).unwrap_err();
            assert!(err.to_string().contains("UPLOAD_MEMORY_MB"), "{bad}: {err}");
        }
    }

    #[test]
    fn production_refuses_missing_or_weak_secret() {
        assert!(production(&[("SECRET_KEY", "")]).is_err());
        assert!(production(&[("SECRET_KEY", "changeme")]).is_err());
        assert!(production(&[("SECRET_KEY", &"ab".repeat(32))]).is_err());
    }

    #[test]
    fn production_refuses_dev_mailbox_and_plain_http_cookies() {
        assert!(production(&[("SMTP_URL", "")]).is_err());
        assert!(production(&[("COOKIE_SECURE", "false")]).is_err());
        assert!(production(&[("PUBLIC_URL", "http://spacedly.example")]).is_err());
    }

    #[test]
    fn development_generates_and_keeps_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap().to_string();
        let lookup = |name: &str| match name {
            "DATABASE_URL" => Some("postgres://localhost/x".to_string()),
            "DATA_DIR" => Some(data_dir.clone()),
            _ => None,
        };
        let first = Config::from_lookup(&lookup).unwrap();
        let second = Config::from_lookup(&lookup).unwrap();
        assert!(first.secret_key.expose_secret().len() >= 64);
        assert_eq!(
            first.secret_key.expose_secret(),
            second.secret_key.expose_secret()
        );
        assert!(first.uses_dev_mailbox());
        assert!(!first.cookie_secure);
    }

    #[test]
    fn google_needs_both_credentials_and_a_trusted_token_url() {
        let with = |extra: &[(&str, &str)]| production(extra);
        assert!(with(&[("GOOGLE_CLIENT_ID", "id")]).is_err());
        let google = with(&[("GOOGLE_CLIENT_ID", "id"), ("GOOGLE_CLIENT_SECRET", "s")])
            .unwrap()
            .google
            .unwrap();
        assert_eq!(google.issuer, "https://accounts.google.com");
        assert_eq!(
            google.redirect_url,
            "https://spacedly.example/api/auth/google/callback"
        );
        assert!(with(&[
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "s"),
            ("OIDC_TOKEN_URL", "http://idp.example/token")
        ])
        .is_err());
        assert!(with(&[
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "s"),
            ("OIDC_TOKEN_URL", "http://127.0.0.1:3300/token")
        ])
        .is_ok());
    }

    fn development(extra: &[(&str, &str)]) -> anyhow::Result<Config> {
        let dir = tempfile::tempdir().unwrap();
        let mut vars: std::collections::HashMap<String, String> = [
            ("DATABASE_URL", "postgres://localhost/x"),
            ("DATA_DIR", dir.path().to_str().unwrap()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        Config::from_lookup(&|name| vars.get(name).cloned())
    }

    #[test]
    fn development_serves_on_the_network_only_when_told_explicitly() {
        assert!(development(&[]).unwrap().check_serve_binding().is_ok());
        assert!(development(&[("HOST", "::1")])
            .unwrap()
            .check_serve_binding()
            .is_ok());
        let open = development(&[("HOST", "0.0.0.0")]).unwrap();
        assert!(open.check_serve_binding().is_err());
        let allowed = development(&[("HOST", "0.0.0.0"), ("ALLOW_DEV_ON_NETWORK", "true")]);
        assert!(allowed.unwrap().check_serve_binding().is_ok());
        let production = production(&[("HOST", "0.0.0.0")]).unwrap();
        assert!(production.check_serve_binding().is_ok());
    }

    #[test]
    fn trusted_proxies_are_a_cidr_list() {
        let config = production(&[("TRUSTED_PROXIES", "127.0.0.1/32, 10.0.0.0/8")]).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(production(&[("TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let config = production(&[
            (
                "DATABASE_URL",
                "postgres://app:db-pass-4711@localhost/spacedly",
            ),
            ("SMTP_URL", "smtps://user:smtp-pass-4711@smtp.example:465"),
            ("METRICS_TOKEN", "metrics-token-4711"),
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "client-secret-4711"),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        for secret in [
            "db-pass-4711",
            "smtp-pass-4711",
            "metrics-token-4711",
            "client-secret-4711",
            "8f2b1c9e4d7a6b3f",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
        assert!(shown.contains("REDACTED"));
        // Secret bytes as a number list would leak too.
        assert!(!shown.contains("56, 102, 50"));
    }

    #[test]
    fn storage_defaults_to_the_uploads_folder_and_s3_needs_a_bucket() {
        let config = production(&[]).unwrap();
        assert_eq!(
            config.storage,
            StorageConfig::Local {
                root: PathBuf::from(".data/uploads")
            }
        );
        assert!(production(&[("STORAGE_BACKEND", "s3")]).is_err());
        assert!(production(&[("STORAGE_BACKEND", "ftp")]).is_err());
        assert!(production(&[
            ("STORAGE_BACKEND", "s3"),
            ("S3_BUCKET", "b"),
            ("S3_ACCESS_KEY_ID", "id")
        ])
        .is_err());
        let s3 = production(&[
            ("STORAGE_BACKEND", "S3"),
            ("S3_BUCKET", "spacedly"),
            ("S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("S3_ACCESS_KEY_ID", "id"),
            ("S3_SECRET_ACCESS_KEY", "secret"),
        ])
        .unwrap();
        match s3.storage {
            StorageConfig::S3(s3) => {
                assert_eq!(s3.bucket, "spacedly");
                assert_eq!(s3.region, "us-east-1");
                assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            }
            other => panic!("expected s3, got {other:?}"),
        }
    }

    /// What start-up prints for a bad setting, word for word (causes joined by ": ").
    #[test]
    fn bad_settings_are_refused_with_their_message() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("APP_ENV", " Staging ")],
                r#"APP_ENV="Staging" is not valid: APP_ENV must be development, test or production (got "staging")"#,
            ),
            (
                &[("PORT", "http")],
                r#"PORT="http" is not valid: invalid digit found in string"#,
            ),
            (
                &[("PORT", "70000")],
                r#"PORT="70000" is not valid: number too large to fit in target type"#,
            ),
            (
                &[("HOST", "localhost")],
                r#"HOST="localhost" is not an IP address: invalid socket address syntax"#,
            ),
            (
                &[("PUBLIC_URL", "spacedly.example")],
                r#"PUBLIC_URL="spacedly.example" is not a URL: relative URL without a base"#,
            ),
            (
                &[("DATABASE_URL", " ")],
                "DATABASE_URL is not set (`make run` starts a local PostgreSQL and sets it for you)",
            ),
            (
                &[("DATABASE_MAX_CONNECTIONS", "-1")],
                r#"DATABASE_MAX_CONNECTIONS="-1" is not valid: invalid digit found in string"#,
            ),
            (
                &[("SECRET_KEY", "changeme")],
                "SECRET_KEY is too weak for production: use at least 32 random characters \
                 (e.g. `openssl rand -hex 32`)",
            ),
            (&[("SECRET_KEY", "")], "SECRET_KEY must be set in production"),
            (
                &[("APP_ENV", "test"), ("SECRET_KEY", "short")],
                "SECRET_KEY must be at least 32 characters",
            ),
            (
                &[("SMTP_URL", "")],
                "SMTP_URL must be set in production (the dev mailbox is for development only)",
            ),
            (
                &[("COOKIE_SECURE", "Maybe")],
                r#"COOKIE_SECURE="maybe" must be true or false"#,
            ),
            (
                &[("COOKIE_SECURE", "off")],
                "production needs an https PUBLIC_URL and secure cookies (COOKIE_SECURE=true)",
            ),
            (
                &[("LOG_FORMAT", "xml")],
                r#"LOG_FORMAT must be json or pretty (got "xml")"#,
            ),
            (
                &[("GOOGLE_CLIENT_SECRET", "s")],
                "set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither",
            ),
            (
                &[
                    ("GOOGLE_CLIENT_ID", "id"),
                    ("GOOGLE_CLIENT_SECRET", "s"),
                    ("OIDC_TOKEN_URL", "http://idp.example/token"),
                ],
                "OIDC_TOKEN_URL must use https (plain http is accepted for 127.0.0.1 only)",
            ),
            (
                &[
                    ("GOOGLE_CLIENT_ID", "id"),
                    ("GOOGLE_CLIENT_SECRET", "s"),
                    ("OIDC_TOKEN_URL", "token"),
                ],
                r#"OIDC_TOKEN_URL="token" is not a URL: relative URL without a base"#,
            ),
            (
                &[("STORAGE_BACKEND", "FTP")],
                r#"STORAGE_BACKEND must be local or s3 (got "ftp")"#,
            ),
            (
                &[("STORAGE_BACKEND", "s3")],
                "S3_BUCKET must be set when STORAGE_BACKEND=s3",
            ),
            (
                &[
                    ("STORAGE_BACKEND", "s3"),
                    ("S3_BUCKET", "b"),
                    ("S3_SECRET_ACCESS_KEY", "k"),
                ],
                "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither",
            ),
            (
                &[("STORAGE_QUOTA_MB", "1.5")],
                "STORAGE_QUOTA_MB must be a positive whole number of megabytes",
            ),
            (
                &[("UPLOAD_MEMORY_MB", "0")],
                "UPLOAD_MEMORY_MB must be a positive whole number of megabytes",
            ),
            (
                &[("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")],
                r#"TRUSTED_PROXIES: "proxy.example" is not an IP address or CIDR range"#,
            ),
            (
                &[("ALLOW_DEV_ON_NETWORK", "Sure")],
                r#"ALLOW_DEV_ON_NETWORK="sure" must be true or false"#,
            ),
            (
                &[("REQUEST_TIMEOUT_SECS", "30s")],
                r#"REQUEST_TIMEOUT_SECS="30s" is not valid: invalid digit found in string"#,
            ),
            (
                &[("RATE_LIMIT_PER_SECOND", "1e3")],
                r#"RATE_LIMIT_PER_SECOND="1e3" is not valid: invalid digit found in string"#,
            ),
            (
                &[("RATE_LIMIT_BURST", "5000000000")],
                r#"RATE_LIMIT_BURST="5000000000" is not valid: number too large to fit in target type"#,
            ),
            (
                &[("RUN_WORKERS", "2")],
                r#"RUN_WORKERS="2" must be true or false"#,
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(vars, message)| match production(vars) {
                Err(err) if format!("{err:#}") == *message => None,
                Err(err) => Some(format!("{vars:?}: {err:#}")),
                Ok(_) => Some(format!("{vars:?}: accepted")),
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn blank_values_count_as_unset_and_values_are_trimmed() {
        let config = production(&[
            ("ALLOWED_ORIGINS", ""),
            ("TRUSTED_PROXIES", "  "),
            ("STORAGE_BACKEND", ""),
            ("LOG_FORMAT", " "),
            ("PORT", " 8080 "),
            ("MAIL_FROM", "  Team <team@spacedly.example>  "),
            ("METRICS_TOKEN", ""),
        ])
        .unwrap();
        assert!(config.allowed_origins.is_empty());
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.bind_addr.port(), 8080);
        assert_eq!(config.mail_from, "Team <team@spacedly.example>");
        assert!(config.metrics_token.is_none());
        assert_eq!(
            config.storage,
            StorageConfig::Local {
                root: PathBuf::from(".data/uploads")
            }
        );
    }

    #[test]
    fn unset_variables_take_the_documented_defaults() {
        let config = development(&[]).unwrap();
        assert_eq!(config.app_env, AppEnv::Development);
        assert_eq!(config.bind_addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(config.database_max_connections, 20);
        assert_eq!(config.mail_from, "Spacedly <no-reply@spacedly.local>");
        assert!(!config.cookie_secure && !config.allow_dev_on_network);
        assert!(config.run_workers_in_serve);
        assert!(config.allowed_origins.is_empty() && config.trusted_proxies.is_empty());
        assert!(config.metrics_token.is_none() && config.google.is_none());
        assert_eq!(config.request_timeout, Duration::from_secs(30));
        assert_eq!(config.global_rate_per_second, 50);
        assert_eq!(config.global_rate_burst, 200);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(production(&[]).unwrap().data_dir, PathBuf::from(".data"));
        let ipv6 = development(&[("HOST", "::1"), ("PORT", "8080")]).unwrap();
        assert_eq!(ipv6.public_url.as_str(), "http://[::1]:8080/");

        let google = production(&[("GOOGLE_CLIENT_ID", "id"), ("GOOGLE_CLIENT_SECRET", "s")])
            .unwrap()
            .google
            .unwrap();
        assert_eq!(
            google.auth_url,
            "https://accounts.google.com/o/oauth2/v2/auth"
        );
        assert_eq!(google.token_url, "https://oauth2.googleapis.com/token");

        let s3 = production(&[("STORAGE_BACKEND", "s3"), ("S3_BUCKET", "b")]).unwrap();
        assert_eq!(
            s3.storage,
            StorageConfig::S3(S3Config {
                bucket: "b".into(),
                region: "us-east-1".into(),
                endpoint: None,
                access_key_id: None,
                secret_access_key: None,
            })
        );
    }

    #[test]
    fn every_variable_is_documented_in_the_readme() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap();
        let names: Vec<String> = Vars::command()
            .get_arguments()
            .filter_map(|arg| arg.get_env())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 35);
        for name in names {
            assert!(section.contains(&format!("`{name}`")), "{name}");
        }
    }

    #[test]
    fn app_env_parses_common_spellings() {
        assert_eq!("production".parse::<AppEnv>().unwrap(), AppEnv::Production);
        assert_eq!("DEV".parse::<AppEnv>().unwrap(), AppEnv::Development);
        assert!("staging".parse::<AppEnv>().is_err());
    }
}
