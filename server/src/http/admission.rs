//! Admission: at most a fixed number of dynamic requests are worked on at once; the others wait
//! their turn in arrival order (tokio's semaphore is fair) before they touch the database.
//!
//! Each request holds at most one pool connection at a time (a bearer request keeps the one its
//! token was read on, `db::Db`), so the gate keeps the pool's own queue short. Without it, 32
//! clients on a 20-connection pool made several requests per run wait out the pool's 5 s
//! acquire timeout (503) while others were served in 100 ms. The 503s that remained at the
//! start of a burst came from the pool opening its second half under load; it now keeps every
//! connection open (`db::connect`), and the last `make bench` had no failed request.
//!
//! Not admitted through the gate: GETs of the event streams named to [`gate`] (open for as long
//! as the page is) and of static files (a path whose last segment has an extension), which never
//! use the database. A header cannot buy a way past it: the streams are known by their paths.
//!
//! A request is admitted once its body is in, never while it arrives: otherwise a few clients
//! sending their bodies slowly would hold every place for the request timeout, and nobody else
//! would be served.
//! - Small bodies (all JSON and form posts: at most [`body_limit::JSON`]) are read here, before
//!   the gate: at most [`BODIES_AT_ONCE`] at a time and [`BODIES_PER_CLIENT`] of them from one
//!   client (its others wait their turn, so one client's slow bodies hold up only its own), each
//!   within [`BODY_WAIT`] of asking (or 408).
//! - A body that says it is larger is left to its route: the route's own limit refuses it at
//!   once, or it is one of the routes that take large bodies.
//! - Routes named to [`gate`] as reading their own (multipart) bodies, the uploads, are not
//!   admitted here: their handler reads the files within the upload memory budget and enters the
//!   gate itself, through [`Deferred`], once they are in.

use std::{
    net::{IpAddr, Ipv4Addr},
    sync::Arc,
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};

use super::{body_limit, client_ip::ClientIp};
use crate::rooms::{Places, Rooms};

/// How many requests may be receiving their bodies before admission at once.
pub const BODIES_AT_ONCE: usize = 64;
/// How many of those may come from one client.
pub const BODIES_PER_CLIENT: usize = 4;
/// How long a small body may take to arrive.
pub const BODY_WAIT: Duration = Duration::from_secs(15);

/// The places for requests being worked on, and the room for bodies arriving before them.
#[derive(Clone)]
pub struct Gate {
    work: Arc<Semaphore>,
    bodies: Arc<Semaphore>,
    /// Room for bodies being read, per client that has some.
    readers: Rooms<IpAddr>,
    /// Paths of event streams, which stay open and are not admitted.
    streams: &'static [&'static str],
    /// Path prefixes whose POST handlers read their multipart bodies and enter by themselves.
    self_admitting: &'static [&'static str],
}

/// Left in the extensions of a request to a self-admitting route: its handler reads the body,
/// then calls [`Deferred::enter`] before it works with the database.
#[derive(Clone)]
pub struct Deferred(Arc<Semaphore>);

impl Deferred {
    /// Waits for a place (in arrival order) and holds it until the permit is dropped. Fails
    /// only when the gate is closed, which nothing does.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.0.clone().acquire_owned().await
    }
}

/// The gate for a pool of `pool_size` connections: half of them for requests, the other half
/// for what runs beside them (the job workers' polls and heartbeats, the LISTEN connection).
/// Measured: with 16 of 20 for requests, every connection was still taken under load and
/// requests again waited out the pool's timeout. `streams`: the paths of event streams;
/// `self_admitting`: path prefixes whose POST handlers take multipart bodies and call
/// [`Deferred::enter`] themselves.
pub fn gate(
    pool_size: u32,
    streams: &'static [&'static str],
    self_admitting: &'static [&'static str],
) -> Gate {
    let permits = (pool_size / 2).max(2);
    Gate {
        work: Arc::new(Semaphore::new(permits as usize)),
        bodies: Arc::new(Semaphore::new(BODIES_AT_ONCE)),
        readers: Rooms::new(BODIES_PER_CLIENT as u32),
        streams,
        self_admitting,
    }
}

impl Gate {
    /// A GET of an event stream or of a static file.
    fn lets_through(&self, request: &Request) -> bool {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return false;
        }
        let path = request.uri().path();
        let last_segment = path.rsplit('/').next().unwrap_or_default();
        self.streams.contains(&path) || last_segment.contains('.')
    }

    /// A POST of a multipart body to a route that admits itself. Such a request also keeps its
    /// own time (see [`super::deadline`]).
    pub fn admits_itself(&self, request: &Request) -> bool {
        let path = request.uri().path();
        request.method() == Method::POST
            && is_multipart(request)
            && self.self_admitting.iter().any(|p| path.starts_with(p))
    }

    /// Room for one more body from `client`, once fewer than [`BODIES_PER_CLIENT`] of its
    /// bodies are being read (in arrival order).
    async fn start_reading(&self, client: IpAddr) -> Result<Places<IpAddr>, AcquireError> {
        self.readers.take(client, 1).await
    }
}

fn is_multipart(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..10)
                .is_some_and(|p| p.eq_ignore_ascii_case("multipart/"))
        })
}

/// A body is coming, and it does not say it is larger than a small one.
fn has_small_body(request: &Request) -> bool {
    let headers = request.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().parse::<u64>().unwrap_or(u64::MAX));
    match declared {
        Some(length) => length > 0 && length <= body_limit::JSON as u64,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// Reads the body into memory, up to a small body's size (see [`body_limit::read_ahead`]).
async fn read_ahead(request: Request) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    Ok(Request::from_parts(
        parts,
        body_limit::read_ahead(body).await?.into_body(),
    ))
}

pub async fn admit(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    if gate.lets_through(&request) {
        return next.run(request).await;
    }
    if gate.admits_itself(&request) {
        request.extensions_mut().insert(Deferred(gate.work.clone()));
        return next.run(request).await;
    }
    // The request's own timeout (an outer layer) bounds the waits for room and for a place.
    let mut arriving = None;
    if has_small_body(&request) {
        let client = request
            .extensions()
            .get::<ClientIp>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ip| ip.rate_key());
        let received = tokio::time::timeout(BODY_WAIT, async {
            // The gate's semaphores are never closed; if one were, the server is going away.
            let unavailable = |_| StatusCode::SERVICE_UNAVAILABLE.into_response();
            let reading = gate.start_reading(client).await.map_err(unavailable)?;
            let room = gate
                .bodies
                .clone()
                .acquire_owned()
                .await
                .map_err(unavailable)?;
            let request = read_ahead(request).await?;
            drop(reading);
            Ok::<_, Response>((request, room))
        })
        .await;
        let room;
        (request, room) = match received {
            Ok(Ok(received)) => received,
            Ok(Err(refused)) => return refused,
            Err(_) => return StatusCode::REQUEST_TIMEOUT.into_response(),
        };
        arriving = Some(room);
    }
    let Ok(_place) = gate.work.acquire().await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // The body is in memory now, counted by the place its request holds.
    drop(arriving);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, Bytes};
    use http_body_util::BodyExt;

    use super::*;

    fn request(path: &str, accept: &str) -> Request {
        Request::get(path)
            .header(header::ACCEPT, accept)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn only_gets_of_the_streams_and_static_files_pass_the_gate() {
        let gate = gate(20, &["/api/notifications/stream"], &[]);
        assert!(gate.lets_through(&request("/pkg/app-1f2e.wasm", "*/*")));
        assert!(gate.lets_through(&request("/favicon.svg", "*/*")));
        assert!(gate.lets_through(&request("/api/notifications/stream", "text/event-stream")));
        assert!(!gate.lets_through(&request("/api/tasks", "application/json")));
        assert!(!gate.lets_through(&request("/tasks", "text/html")));
        assert!(!gate.lets_through(&request("/api/attachments/4a1c", "*/*")));
        // Asking for a stream elsewhere, or posting to a "file", is admitted like anything else.
        assert!(!gate.lets_through(&request("/api/tasks", "text/event-stream")));
        assert!(!gate.lets_through(&with(Method::POST, "/api/x.json", &[])));
    }

    fn with(method: Method, path: &str, headers: &[(header::HeaderName, &str)]) -> Request {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        request.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_multipart_posts_to_the_named_routes_admit_themselves() {
        let gate = gate(20, &[], &["/api/attachments/"]);
        let multipart = [(header::CONTENT_TYPE, "Multipart/Form-Data; boundary=x")];
        assert!(gate.admits_itself(&with(Method::POST, "/api/attachments/1", &multipart)));
        assert!(!gate.admits_itself(&with(Method::GET, "/api/attachments/1", &multipart)));
        assert!(!gate.admits_itself(&with(Method::POST, "/api/tasks", &multipart)));
        let json = [(header::CONTENT_TYPE, "application/json")];
        assert!(!gate.admits_itself(&with(Method::POST, "/api/attachments/1", &json)));
        let short = [(header::CONTENT_TYPE, "multi")];
        assert!(!gate.admits_itself(&with(Method::POST, "/api/attachments/1", &short)));
    }

    #[test]
    fn small_bodies_are_told_from_none_and_from_large_ones() {
        let post = |name: header::HeaderName, value: &str| {
            has_small_body(&with(Method::POST, "/api/tasks", &[(name, value)]))
        };
        assert!(post(header::CONTENT_LENGTH, "12"));
        assert!(post(header::CONTENT_LENGTH, &body_limit::JSON.to_string()));
        assert!(post(header::TRANSFER_ENCODING, "chunked"));
        assert!(!post(header::CONTENT_LENGTH, "0"));
        assert!(!post(
            header::CONTENT_LENGTH,
            &(body_limit::JSON + 1).to_string()
        ));
        assert!(!post(header::CONTENT_LENGTH, "lots"));
        assert!(!has_small_body(&request("/api/tasks", "*/*")));
    }

    #[tokio::test]
    async fn one_client_reads_a_few_bodies_at_a_time_and_the_next_waits() {
        let gate = gate(20, &[], &[]);
        let ada: IpAddr = "203.0.113.7".parse().unwrap();
        let eve: IpAddr = "203.0.113.8".parse().unwrap();
        // (A wait that should end but does not fails the test instead of hanging it.)
        async fn soon<T>(
            wait: impl std::future::Future<Output = Result<T, AcquireError>>,
        ) -> Result<T, &'static str> {
            match tokio::time::timeout(Duration::from_secs(5), wait).await {
                Ok(taken) => taken.map_err(|_| "closed"),
                Err(_) => Err("still waiting"),
            }
        }
        let mut reading = Vec::new();
        for _ in 0..BODIES_PER_CLIENT {
            reading.push(soon(gate.start_reading(ada)).await.expect("room"));
        }
        let mut next = Box::pin(gate.start_reading(ada));
        assert!(futures::poll!(next.as_mut()).is_pending());
        // Another client is not held up.
        let eves = soon(gate.start_reading(eve))
            .await
            .expect("another client has its own room");
        reading.pop();
        let next = soon(next).await.expect("room once one of its own is in");
        // Given up while waiting: it leaves nothing behind either.
        let mut given_up = Box::pin(gate.start_reading(ada));
        assert!(futures::poll!(given_up.as_mut()).is_pending());
        drop(given_up);
        drop((reading, eves, next));
        assert_eq!(gate.readers.busy(), 0);
    }

    async fn collected(request: Request) -> Bytes {
        request.into_body().collect().await.unwrap().to_bytes()
    }

    #[tokio::test]
    async fn a_small_body_is_read_whole_and_a_longer_one_goes_on_whole() {
        let small = Request::post("/api/tasks")
            .body(Body::from("{\"title\":\"x\"}"))
            .unwrap();
        let read = read_ahead(small).await.unwrap();
        assert_eq!(&collected(read).await[..], b"{\"title\":\"x\"}");

        // Sent in pieces without a length, longer than a small body: nothing is lost or
        // reordered where the reading ahead stops.
        let long: Vec<u8> = (0..body_limit::JSON + 100_000)
            .map(|i| (i % 251) as u8)
            .collect();
        let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
            long.chunks(65_536).map(|c| Ok(c.to_vec())).collect();
        let request = Request::post("/upload")
            .body(Body::from_stream(futures::stream::iter(pieces)))
            .unwrap();
        let read = read_ahead(request).await.unwrap();
        assert_eq!(collected(read).await, long);
    }

    #[tokio::test]
    async fn a_body_stopped_by_a_limit_is_refused_with_413() {
        let limited = http_body_util::Limited::new(Body::from(vec![b' '; 2048]), 1024);
        let request = Request::post("/api/tasks")
            .body(Body::new(limited))
            .unwrap();
        let refused = read_ahead(request).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn the_gate_leaves_connections_for_the_workers() {
        assert_eq!(gate(20, &[], &[]).work.available_permits(), 10);
        assert_eq!(gate(3, &[], &[]).work.available_permits(), 2);
    }
}
