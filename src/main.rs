//! The Spacedly server: `serve` (web + API + workers), `worker` (jobs only), `migrate`.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use leptos::prelude::*;
use spacedly_server::{db, telemetry, workers, AppState, Config};
use tokio_util::sync::CancellationToken;

/// mimalloc instead of glibc's malloc: building a JSON answer of 200 tasks makes thousands of
/// small allocations, and glibc's malloc/free took an eighth of the server's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "spacedly", version, about = "Spaced repetition task manager")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    // The commands that use the database, which is migrated first.
    #[command(flatten)]
    Database(DatabaseCommand),
    // Timings for `make bench`, which need no database.
    #[command(flatten)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum DatabaseCommand {
    /// Serve the web app and the API (and run the job workers unless RUN_WORKERS=false). Default.
    Serve,
    /// Run the job workers only.
    Worker,
    /// Apply the database migrations and exit.
    Migrate,
    /// Send a test email through the configured transport (SMTP_URL or the dev mailbox).
    SendTestEmail {
        /// Recipient address.
        #[arg(long)]
        to: String,
    },
    /// Make users with email reminders all due at once (for `make bench`).
    #[command(hide = true)]
    BenchSeedReminders {
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 10)]
        per_user: usize,
        /// When they come due, in seconds from now.
        #[arg(long, default_value_t = 30)]
        due_in: i64,
    },
    /// Give a registered user a year of tasks and completed reminders (for `make bench`).
    #[command(hide = true)]
    BenchSeedAnalytics {
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 2000)]
        tasks: i32,
        #[arg(long, default_value_t = 10_000)]
        completed: i32,
    },
    /// The analytics' statements against the original product's, through one pool, at 1 and
    /// 32 concurrent loops (for `make bench`).
    #[command(hide = true)]
    BenchAnalyticsQueries {
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Give a registered user memory items, some due now (for `make bench`).
    #[command(hide = true)]
    BenchSeedRevision {
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 5000)]
        items: i32,
        #[arg(long, default_value_t = 300)]
        due: i32,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Time password hashing as sign-in does it (for `make bench`).
    #[command(hide = true)]
    BenchArgon2 {
        #[arg(long, default_value_t = 20)]
        iterations: usize,
    },
    /// Time image optimisation of one file (for `make bench`).
    #[command(hide = true)]
    BenchImages {
        path: std::path::PathBuf,
        #[arg(default_value_t = 15)]
        iterations: usize,
    },
    /// Send messages with a bare SMTP client, as many at a time as the reminder worker sends
    /// (for `make bench`).
    #[command(hide = true)]
    BenchSmtp {
        #[arg(long)]
        smtp_url: String,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// Time a fit of FSRS parameters on a synthetic log (for `make bench`).
    #[command(hide = true)]
    BenchFit {
        #[arg(long, default_value_t = 10_000)]
        reviews: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = match cli.command {
        None => DatabaseCommand::Serve,
        Some(Command::Database(command)) => command,
        Some(Command::Bench(BenchCommand::BenchArgon2 { iterations })) => {
            return bench_argon2(iterations).await;
        }
        Some(Command::Bench(BenchCommand::BenchFit { reviews })) => {
            let (took, reviews, fit) = spacedly_server::bench::fit_time(reviews).await?;
            println!(
                "reviews={reviews} seconds={:.2} log_loss={:.4} defaults_log_loss={:.4}",
                took.as_secs_f64(),
                fit.log_loss,
                fit.previous_log_loss
            );
            return Ok(());
        }
        Some(Command::Bench(BenchCommand::BenchImages { path, iterations })) => {
            let (median_ms, bytes) =
                spacedly_server::attachments::bench_optimize(&path, iterations)?;
            println!("median_ms={median_ms:.1} bytes={bytes}");
            return Ok(());
        }
        Some(Command::Bench(BenchCommand::BenchSmtp { smtp_url, count })) => {
            use spacedly_server::{jobs::Job, reminders::delivery::DeliverReminder};
            let concurrency = DeliverReminder::CONCURRENCY;
            let elapsed = spacedly_server::bench::bare_smtp(&smtp_url, count, concurrency).await?;
            let seconds = elapsed.as_secs_f64();
            println!(
                "count={count} concurrency={concurrency} seconds={seconds:.2} per_second={:.0}",
                count as f64 / seconds
            );
            return Ok(());
        }
    };
    let config = Config::from_env()?;
    telemetry::init(config.log_format);

    let pool = db::connect(&config.database_url, config.database_max_connections).await?;
    db::migrate(&pool).await?;
    let state = AppState::new(pool, config)?;

    match command {
        DatabaseCommand::Migrate => {
            tracing::info!("migrations applied");
            Ok(())
        }
        DatabaseCommand::Serve => serve(state).await,
        DatabaseCommand::Worker => {
            let shutdown = shutdown_token();
            workers::run(state.services, shutdown).await
        }
        DatabaseCommand::BenchSeedReminders {
            users,
            per_user,
            due_in,
        } => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(due_in);
            let made = spacedly_server::bench::seed_reminders(&state.services, users, per_user, at)
                .await?;
            println!("reminders={made} due_at={}", at.to_rfc3339());
            Ok(())
        }
        DatabaseCommand::BenchSeedAnalytics {
            email,
            tasks,
            completed,
        } => {
            let id =
                spacedly_server::bench::seed_analytics(&state.services, &email, tasks, completed)
                    .await?;
            println!("user_id={id}");
            Ok(())
        }
        DatabaseCommand::BenchSeedRevision { email, items, due } => {
            let id =
                spacedly_server::bench::seed_revision(&state.services, &email, items, due).await?;
            println!("user_id={id}");
            Ok(())
        }
        DatabaseCommand::BenchAnalyticsQueries {
            email,
            seconds,
            rounds,
        } => bench_analytics_queries(&state.services, &email, seconds, rounds).await,
        DatabaseCommand::SendTestEmail { to } => {
            let email = state.mailer.render(
                "test",
                &to,
                "Spacedly test email",
                serde_json::json!({
                    "name": to,
                    "sent_at": chrono::Utc::now().to_rfc2822(),
                    "note": null,
                }),
            )?;
            state.mailer.send(&email).await?;
            println!("sent to {to}");
            Ok(())
        }
    }
}

/// Prints, for 1 and 32 concurrent loops, the rate of GET /api/analytics's statements and of
/// the original product's, each round running both in turn; the median round's ratio.
async fn bench_analytics_queries(
    state: &spacedly_server::state::Services,
    email: &str,
    seconds: u64,
    rounds: usize,
) -> anyhow::Result<()> {
    use spacedly_server::{analytics, bench};
    let user = spacedly_server::users::find_by_email(&state.pool, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user {email}"))?;
    let zone = spacedly_server::tasks::zone_of(&user.timezone);
    let duration = std::time::Duration::from_secs(seconds);
    for connections in [1, 32] {
        let mut ratios = vec![];
        let mut line = vec![];
        for _ in 0..rounds.max(1) {
            let ours = {
                let pool = state.pool.clone();
                bench::rate(connections, duration, move || {
                    let pool = pool.clone();
                    async move {
                        let now = chrono::Utc::now();
                        analytics::overview(&pool, user.id, zone, now, analytics::History::Recent)
                            .await?;
                        Ok(())
                    }
                })
                .await?
            };
            let original = {
                let pool = state.pool.clone();
                bench::rate(connections, duration, move || {
                    let pool = pool.clone();
                    async move {
                        bench::original_analytics(&pool, user.id, chrono::Utc::now()).await?;
                        Ok(())
                    }
                })
                .await?
            };
            ratios.push(ours / original);
            line.push(format!("{ours:.0}/{original:.0}"));
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "connections={connections} median_ratio={:.2} rounds_ours_over_original={}",
            ratios[ratios.len() / 2],
            line.join(",")
        );
    }
    Ok(())
}

/// Prints the median and p99 time of one argon2id hash, as `auth::password::hash` runs it.
async fn bench_argon2(iterations: usize) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations.max(1) {
        let started = std::time::Instant::now();
        spacedly_server::auth::password::hash(format!("benchmark password {i}")).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    println!(
        "argon2id m=19456 t=2 p=1: median {median:.1} ms, p99 {p99:.1} ms over {} hashes",
        times.len()
    );
    Ok(())
}

/// Cancelled on Ctrl-C or SIGTERM.
fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    tokio::spawn(async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
        tracing::info!("shutting down: finishing in-flight requests and jobs");
        trigger.cancel();
    });
    token
}

/// Leptos' settings, with the site folder and hashed file names resolved for this binary.
fn leptos_options(config: &Config) -> anyhow::Result<LeptosOptions> {
    let mut options = get_configuration(None)
        .context("reading the Leptos configuration")?
        .leptos_options;
    options.site_addr = config.bind_addr;
    let site_root = PathBuf::from(&*options.site_root);
    if !site_root.join(&*options.site_pkg_dir).exists() {
        tracing::warn!(site_root = %site_root.display(), "no built site found: run through `make run` or set LEPTOS_SITE_ROOT");
    }
    // cargo-leptos writes hash.txt beside the binary when it names files by their hash.
    let hash_file = std::env::current_exe()?
        .parent()
        .map(|dir| dir.join(&*options.hash_file))
        .filter(|p| p.exists());
    options.hash_files = hash_file.is_some();
    Ok(options)
}

async fn serve(state: AppState) -> anyhow::Result<()> {
    state.config.check_serve_binding()?;
    if let Some(file) = &state.config.dev_secret_file {
        tracing::warn!(
            file = %file.display(),
            "SECRET_KEY is not set: sessions are signed with this instance's generated \
             development secret, so another instance or checkout (another DATA_DIR) will not \
             accept them; set the same SECRET_KEY on every instance to run several"
        );
    }
    let options = leptos_options(&state.config)?;
    let app = spacedly_app::site::router(state.clone(), options);

    let shutdown = shutdown_token();
    let workers = if state.config.run_workers_in_serve {
        Some(tokio::spawn(workers::run(
            state.services.clone(),
            shutdown.clone(),
        )))
    } else {
        None
    };

    // One LISTEN connection per instance feeds every open notification stream.
    tokio::spawn(state.live.clone().run(state.pool.clone(), shutdown.clone()));

    let listener = tokio::net::TcpListener::bind(state.config.bind_addr)
        .await
        .with_context(|| format!("binding {}", state.config.bind_addr))?;
    tracing::info!("listening on http://{}", state.config.bind_addr);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await
    .context("serving HTTP")?;

    if let Some(workers) = workers {
        workers.await.context("job workers panicked")??;
    }
    state.pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_sub_commands_keep_their_names_and_arguments() {
        Cli::command().debug_assert();
        let valid: [&[&str]; 7] = [
            &["spacedly"],
            &["spacedly", "serve"],
            &["spacedly", "worker"],
            &["spacedly", "migrate"],
            &["spacedly", "send-test-email", "--to", "ada@example.com"],
            &["spacedly", "bench-argon2", "--iterations", "3"],
            &["spacedly", "bench-images", "photo.jpg", "2"],
        ];
        for args in valid {
            assert!(Cli::try_parse_from(args).is_ok(), "{args:?}");
        }
        assert!(Cli::try_parse_from(["spacedly", "send-test-email"]).is_err());
        assert!(Cli::try_parse_from(["spacedly", "database"]).is_err());
    }
}
