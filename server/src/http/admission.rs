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
//! Not admitted through the gate: event streams (open for as long as the page is) and static
//! files (a path whose last segment has an extension), which never use the database.
//!
//! A request is admitted once its body is in, never while it arrives: otherwise a few clients
//! sending their bodies slowly would hold every place for the request timeout, and nobody else
//! would be served. Bodies are read here, before the gate, at most [`BODIES_AT_ONCE`] at a time
//! and each at most [`body_limit::JSON`] (so they take at most that many MiB). Multipart uploads,
//! up to 100 MB, are read by their handler within the upload memory budget; it enters the gate
//! itself, through [`Deferred`], once the files are in.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::body_limit;

/// How many requests may be receiving their bodies before admission at once.
pub const BODIES_AT_ONCE: usize = 64;

/// The places for requests being worked on, and the room for bodies arriving before them.
#[derive(Clone)]
pub struct Gate {
    work: Arc<Semaphore>,
    bodies: Arc<Semaphore>,
}

/// Left in a multipart request's extensions: its handler reads the body itself, then calls
/// [`Deferred::enter`] before it works with the database.
#[derive(Clone)]
pub struct Deferred(Arc<Semaphore>);

impl Deferred {
    /// Waits for a place (in arrival order) and holds it until the permit is dropped.
    pub async fn enter(&self) -> OwnedSemaphorePermit {
        self.0
            .clone()
            .acquire_owned()
            .await
            .expect("the admission gate is never closed")
    }
}

/// The gate for a pool of `pool_size` connections: half of them for requests, the other half
/// for what runs beside them (the job workers' polls and heartbeats, the LISTEN connection).
/// Measured: with 16 of 20 for requests, every connection was still taken under load and
/// requests again waited out the pool's timeout.
pub fn gate(pool_size: u32) -> Gate {
    let permits = (pool_size / 2).max(2);
    Gate {
        work: Arc::new(Semaphore::new(permits as usize)),
        bodies: Arc::new(Semaphore::new(BODIES_AT_ONCE)),
    }
}

fn bypasses_gate(request: &Request) -> bool {
    let event_stream = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    let last_segment = request.uri().path().rsplit('/').next().unwrap_or_default();
    event_stream || last_segment.contains('.')
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

fn has_body(request: &Request) -> bool {
    let headers = request.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// Reads the whole body (at most [`body_limit::JSON`]) into memory: 413 past the limit, 400
/// when it cannot be read.
async fn receive(request: Request) -> Result<Request, Response> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > body_limit::JSON as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    let (parts, body) = request.into_parts();
    match Limited::new(body, body_limit::JSON).collect().await {
        Ok(collected) => Ok(Request::from_parts(parts, Body::from(collected.to_bytes()))),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e.as_ref());
            while let Some(error) = source {
                if error.is::<LengthLimitError>() {
                    return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
                }
                source = error.source();
            }
            Err(StatusCode::BAD_REQUEST.into_response())
        }
    }
}

pub async fn admit(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    if bypasses_gate(&request) {
        return next.run(request).await;
    }
    if is_multipart(&request) {
        request.extensions_mut().insert(Deferred(gate.work.clone()));
        return next.run(request).await;
    }
    // The request's own timeout (an outer layer) bounds every wait; nothing here is closed.
    let mut arriving = None;
    if has_body(&request) {
        arriving = Some(
            gate.bodies
                .clone()
                .acquire_owned()
                .await
                .expect("the body room is never closed"),
        );
        request = match receive(request).await {
            Ok(request) => request,
            Err(response) => return response,
        };
    }
    let _permit = gate
        .work
        .acquire()
        .await
        .expect("the admission gate is never closed");
    // In memory now, counted by the place it holds (at most as many as there are places).
    drop(arriving);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, accept: &str) -> Request {
        Request::get(path)
            .header(header::ACCEPT, accept)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn streams_and_static_files_bypass_the_gate() {
        assert!(bypasses_gate(&request("/pkg/app-1f2e.wasm", "*/*")));
        assert!(bypasses_gate(&request("/favicon.svg", "*/*")));
        assert!(bypasses_gate(&request(
            "/api/notifications/stream",
            "text/event-stream"
        )));
        assert!(!bypasses_gate(&request("/api/tasks", "application/json")));
        assert!(!bypasses_gate(&request("/tasks", "text/html")));
        assert!(!bypasses_gate(&request("/api/attachments/4a1c", "*/*")));
    }

    fn post(name: header::HeaderName, value: &str) -> Request {
        Request::post("/api/tasks")
            .header(name, value)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn uploads_and_bodies_are_told_apart() {
        assert!(is_multipart(&post(
            header::CONTENT_TYPE,
            "multipart/form-data; boundary=x"
        )));
        assert!(is_multipart(&post(
            header::CONTENT_TYPE,
            "Multipart/Form-Data; boundary=x"
        )));
        assert!(!is_multipart(&post(
            header::CONTENT_TYPE,
            "application/json"
        )));
        assert!(!is_multipart(&post(header::CONTENT_TYPE, "multi")));
        assert!(has_body(&post(header::CONTENT_LENGTH, "12")));
        assert!(has_body(&post(header::TRANSFER_ENCODING, "chunked")));
        assert!(!has_body(&post(header::CONTENT_LENGTH, "0")));
        assert!(!has_body(&request("/api/tasks", "*/*")));
    }

    #[tokio::test]
    async fn a_body_is_read_whole_and_refused_past_the_limit() {
        let small = Request::post("/api/tasks")
            .body(Body::from("{\"title\":\"x\"}"))
            .unwrap();
        let received = receive(small).await.unwrap();
        let bytes = received.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"{\"title\":\"x\"}");

        let big = Request::post("/api/tasks")
            .body(Body::from(vec![b' '; body_limit::JSON + 1]))
            .unwrap();
        let refused = receive(big).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        // Said too large up front: refused without reading (the body never comes).
        let (_tx, never) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let stream = futures::stream::unfold(never, |mut rx| async move {
            rx.recv()
                .await
                .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
        });
        let declared = Request::post("/api/tasks")
            .header(header::CONTENT_LENGTH, (body_limit::JSON + 1).to_string())
            .body(Body::from_stream(stream))
            .unwrap();
        let refused = receive(declared).await.unwrap_err();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn the_gate_leaves_connections_for_the_workers() {
        assert_eq!(gate(20).work.available_permits(), 10);
        assert_eq!(gate(3).work.available_permits(), 2);
    }
}
