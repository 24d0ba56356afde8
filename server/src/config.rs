//! Settings, read once at start-up from the environment (and an optional `.env` file).
//!
//! Every variable is listed in `.env.example` and the README. Development fills in what it can
//! (a generated secret kept under `.data/`, the dev mailbox); production refuses to start
//! without real values, because a weak secret or a mailbox nobody reads is a silent failure.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use anyhow::{bail, Context};
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
    pub trusted_proxies: Vec<ipnet::IpNet>,
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

const PLACEHOLDER_SECRETS: &[&str] = &[
    "changeme",
    "change-me",
    "secret",
    "replace-me-with-64-random-characters",
    "development",
];

/// A source of settings: the process environment, or a map in tests.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    fn parse<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        parse_value(name, self.get(name), default)
    }

    fn flag(&self, name: &str, default: bool) -> anyhow::Result<bool> {
        parse_bool(name, self.get(name), default)
    }

    /// A positive whole number of megabytes, in bytes.
    fn megabytes(&self, name: &str, default_mb: u64) -> anyhow::Result<u64> {
        let mb = match self.get(name) {
            None => default_mb,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|mb| *mb > 0)
                .with_context(|| format!("{name} must be a positive whole number of megabytes"))?,
        };
        Ok(mb.saturating_mul(1024 * 1024))
    }
}

fn parse_value<T: FromStr>(name: &str, value: Option<String>, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match value {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
    }
}

fn parse_bool(name: &str, value: Option<String>, default: bool) -> anyhow::Result<bool> {
    match value.map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(v) => bail!("{name}={v:?} must be true or false"),
    }
}

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
        let env = Vars(lookup);
        let app_env: AppEnv = env.parse("APP_ENV", AppEnv::Development)?;
        let production = app_env == AppEnv::Production;
        let data_dir = PathBuf::from(env.get("DATA_DIR").unwrap_or_else(|| ".data".into()));

        let host = env.get("HOST").unwrap_or_else(|| "127.0.0.1".into());
        let port: u16 = env.parse("PORT", 3000)?;
        let bind_addr: SocketAddr = format!("{host}:{port}")
            .parse()
            .or_else(|_| format!("[{host}]:{port}").parse())
            .with_context(|| format!("HOST={host:?} is not an IP address"))?;

        let public_url = env
            .get("PUBLIC_URL")
            // SocketAddr writes IPv6 hosts in brackets, as a URL needs them.
            .unwrap_or_else(|| format!("http://{bind_addr}"));
        let public_url = url::Url::parse(&public_url)
            .with_context(|| format!("PUBLIC_URL={public_url:?} is not a URL"))?;

        let database_url: SecretString = env
            .get("DATABASE_URL")
            .context(
                "DATABASE_URL is not set (`make run` starts a local PostgreSQL and sets it for you)",
            )?
            .into();

        let dev_secret_file = env
            .get("SECRET_KEY")
            .is_none()
            .then(|| data_dir.join("dev-secret"));
        let secret_key = match env.get("SECRET_KEY") {
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

        let smtp_url = env.get("SMTP_URL").map(SecretString::from);
        if production && smtp_url.is_none() {
            bail!("SMTP_URL must be set in production (the dev mailbox is for development only)");
        }

        let cookie_secure = env.flag("COOKIE_SECURE", public_url.scheme() == "https")?;
        if production && (!cookie_secure || public_url.scheme() != "https") {
            bail!("production needs an https PUBLIC_URL and secure cookies (COOKIE_SECURE=true)");
        }

        let allowed_origins = env
            .get("ALLOWED_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_string())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();

        let log_format = match env.get("LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => bail!("LOG_FORMAT must be json or pretty (got {other:?})"),
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
        };

        let google = match (env.get("GOOGLE_CLIENT_ID"), env.get("GOOGLE_CLIENT_SECRET")) {
            (Some(client_id), Some(client_secret)) => {
                let token_url = env
                    .get("OIDC_TOKEN_URL")
                    .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
                check_token_url(&token_url)?;
                let mut callback = public_url.clone();
                callback.set_path("/api/auth/google/callback");
                Some(OidcConfig {
                    client_id,
                    client_secret: client_secret.into(),
                    issuer: env
                        .get("OIDC_ISSUER")
                        .unwrap_or_else(|| "https://accounts.google.com".into()),
                    auth_url: env
                        .get("OIDC_AUTH_URL")
                        .unwrap_or_else(|| "https://accounts.google.com/o/oauth2/v2/auth".into()),
                    token_url,
                    redirect_url: env
                        .get("OIDC_REDIRECT_URL")
                        .unwrap_or_else(|| callback.to_string()),
                })
            }
            (None, None) => None,
            _ => bail!("set both GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET, or neither"),
        };

        let storage = storage_config(&env, &data_dir)?;
        let storage_quota_bytes = env.megabytes("STORAGE_QUOTA_MB", 500)?;
        let upload_memory_bytes = env.megabytes("UPLOAD_MEMORY_MB", 256)?;

        Ok(Self {
            google,
            storage,
            storage_quota_bytes,
            upload_memory_bytes,
            app_env,
            bind_addr,
            public_url,
            database_url,
            database_max_connections: env.parse("DATABASE_MAX_CONNECTIONS", 20)?,
            secret_key,
            dev_secret_file,
            smtp_url,
            mail_from: env
                .get("MAIL_FROM")
                .unwrap_or_else(|| "Spacedly <no-reply@spacedly.local>".into()),
            data_dir,
            cookie_secure,
            allowed_origins,
            trusted_proxies: crate::http::client_ip::parse_trusted_proxies(
                &env.get("TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            allow_dev_on_network: env.flag("ALLOW_DEV_ON_NETWORK", false)?,
            metrics_token: env.get("METRICS_TOKEN").map(SecretString::from),
            request_timeout: Duration::from_secs(env.parse("REQUEST_TIMEOUT_SECS", 30)?),
            global_rate_per_second: env.parse("RATE_LIMIT_PER_SECOND", 50)?,
            global_rate_burst: env.parse("RATE_LIMIT_BURST", 200)?,
            run_workers_in_serve: env.flag("RUN_WORKERS", true)?,
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

    /// `scheme://host[:port]` of PUBLIC_URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url
            .origin()
            .ascii_serialization()
            .trim_end_matches('/')
            .to_string()
    }

    /// A configuration for tests: no file, no environment, everything explicit.
    pub fn for_tests(database_url: &str, data_dir: PathBuf) -> Self {
        Self {
            app_env: AppEnv::Test,
            bind_addr: "127.0.0.1:0".parse().expect("static address"),
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

/// STORAGE_BACKEND=local (default; UPLOADS_DIR, default `<DATA_DIR>/uploads`) or s3 (S3_BUCKET
/// required; S3_REGION, S3_ENDPOINT for S3-compatible services, S3_ACCESS_KEY_ID and
/// S3_SECRET_ACCESS_KEY, or the standard AWS_* sources when both are unset).
fn storage_config(env: &Vars, data_dir: &std::path::Path) -> anyhow::Result<StorageConfig> {
    match env
        .get("STORAGE_BACKEND")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("local") => Ok(StorageConfig::Local {
            root: env
                .get("UPLOADS_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("uploads")),
        }),
        Some("s3") => {
            let access_key_id = env.get("S3_ACCESS_KEY_ID");
            let secret_access_key = env.get("S3_SECRET_ACCESS_KEY");
            if access_key_id.is_some() != secret_access_key.is_some() {
                bail!("set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither");
            }
            Ok(StorageConfig::S3(S3Config {
                bucket: env
                    .get("S3_BUCKET")
                    .context("S3_BUCKET must be set when STORAGE_BACKEND=s3")?,
                region: env.get("S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                endpoint: env.get("S3_ENDPOINT"),
                access_key_id,
                secret_access_key,
            }))
        }
        Some(other) => bail!("STORAGE_BACKEND must be local or s3 (got {other:?})"),
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

    #[test]
    fn app_env_parses_common_spellings() {
        assert_eq!("production".parse::<AppEnv>().unwrap(), AppEnv::Production);
        assert_eq!("DEV".parse::<AppEnv>().unwrap(), AppEnv::Development);
        assert!("staging".parse::<AppEnv>().is_err());
    }
}
