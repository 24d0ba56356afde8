//! `cargo run --release -p spacedly-server --example bench_images -- <image> [iterations]`
//! prints `median_ms=<ms> bytes=<n>` for our image optimisation (used by scripts/bench-images.sh
//! until the hidden `spacedly bench-images` sub-command is wired).

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "server/tests/fixtures/photo-4032x3024.jpg".into());
    let iterations = args.next().map(|n| n.parse()).transpose()?.unwrap_or(15);
    let (median_ms, bytes) =
        spacedly_server::attachments::bench_optimize(std::path::Path::new(&path), iterations)?;
    println!("median_ms={median_ms:.1} bytes={bytes}");
    Ok(())
}
