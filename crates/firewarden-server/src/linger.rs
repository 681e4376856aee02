//! Lingering reads. When the server answers before reading the whole request (a refused
//! upload, a body over the limit, a missing token), closing the connection with unread data
//! makes the kernel reset it, and the client can lose the answer that says why. So a request
//! body dropped unfinished is read on (and discarded) for a while, bounded, before the
//! connection closes.

use axum::body::Body;
use axum::extract::Request;
use http_body::{Body as HttpBody, Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Read on at most this much after an early answer.
const LINGER_BYTES: u64 = 64 << 20;
/// For at most this long.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// A request body that drains itself when dropped unfinished.
pub struct Lingering {
    inner: Option<Body>,
}

impl HttpBody for Lingering {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.inner.as_mut() {
            Some(b) => Pin::new(b).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(HttpBody::size_hint)
            .unwrap_or_default()
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            use futures_util::StreamExt;
            let mut stream = body.into_data_stream();
            let deadline = tokio::time::Instant::now() + LINGER_TIME;
            let mut read = 0u64;
            while read < LINGER_BYTES {
                match tokio::time::timeout_at(deadline, stream.next()).await {
                    Ok(Some(Ok(chunk))) => read += chunk.len() as u64,
                    _ => break,
                }
            }
        });
    }
}

/// Middleware: every request body lingers.
pub async fn layer(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    let req = req.map(|b| Body::new(Lingering { inner: Some(b) }));
    next.run(req).await
}
