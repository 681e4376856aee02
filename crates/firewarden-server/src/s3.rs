//! Evidence in S3-compatible object storage: path-style requests signed with AWS Signature
//! Version 4, the payload's SHA-256 signed too (it is the bundle's own digest, so the store
//! checks what arrives). Endpoint, region and credentials come from the usual variables:
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`), `AWS_REGION` (or `AWS_DEFAULT_REGION`),
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.

use crate::ServerError;
use crate::outbound::Endpoint;
use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, Empty, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Method, Request};
use sha2::{Digest, Sha256};
use std::path::Path;

/// A bucket and key prefix on an S3-compatible server.
#[derive(Clone)]
pub struct S3 {
    endpoint: Endpoint,
    bucket: String,
    prefix: String,
    region: String,
    access_key: String,
    secret_key: String,
    session_token: Option<String>,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        write!(
            f,
            "S3({}://{}:{}/{}/{})",
            if self.endpoint.https { "https" } else { "http" },
            self.endpoint.host,
            self.endpoint.port,
            self.bucket,
            self.prefix
        )
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

use firewarden_evidence::encoding::hex;

/// HMAC-SHA256 (the `hmac` crate the IOC sightings index uses too).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    // Any key length is valid for HMAC: this never fails.
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// RFC 3986 unreserved characters stay, everything else is %-encoded (`/` kept in paths).
fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

impl S3 {
    /// `s3://bucket/prefix`, with the endpoint and credentials from the environment.
    pub fn from_url(url: &str) -> Result<S3, ServerError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| ServerError::Config(format!("{url}: expected s3://bucket/prefix")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty()
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(ServerError::Config(format!("{url}: not a bucket name")));
        }
        let endpoint = env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]).unwrap_or_else(|| {
            let region = env(&["AWS_REGION", "AWS_DEFAULT_REGION"]).unwrap_or("us-east-1".into());
            format!("https://s3.{region}.amazonaws.com")
        });
        let (endpoint, _) = Endpoint::parse(endpoint.trim_end_matches('/'))
            .map_err(|e| ServerError::Config(format!("AWS_ENDPOINT_URL {e}")))?;
        let access_key = env(&["AWS_ACCESS_KEY_ID"])
            .ok_or_else(|| ServerError::Config("AWS_ACCESS_KEY_ID is not set".into()))?;
        let secret_key = env(&["AWS_SECRET_ACCESS_KEY"])
            .ok_or_else(|| ServerError::Config("AWS_SECRET_ACCESS_KEY is not set".into()))?;
        Ok(S3 {
            endpoint,
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            region: env(&["AWS_REGION", "AWS_DEFAULT_REGION"]).unwrap_or("us-east-1".into()),
            access_key,
            secret_key,
            session_token: env(&["AWS_SESSION_TOKEN"]),
        })
    }

    fn key_path(&self, key: &str) -> String {
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        format!("/{}/{}", self.bucket, uri_encode(&full, true))
    }

    /// A signed request (SigV4, header form).
    fn signed(
        &self,
        method: Method,
        path: &str,
        payload_sha256: &str,
        extra: &[(&str, String)],
    ) -> hyper::http::request::Builder {
        let now = firewarden_model::Timestamp::now().civil();
        let date = format!("{:04}{:02}{:02}", now.year, now.month, now.day);
        let stamp = format!("{date}T{:02}{:02}{:02}Z", now.hour, now.minute, now.second);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.endpoint.host_header()),
            ("x-amz-content-sha256".into(), payload_sha256.to_owned()),
            ("x-amz-date".into(), stamp.clone()),
        ];
        if let Some(t) = &self.session_token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        for (k, v) in extra {
            headers.push((k.to_ascii_lowercase(), v.clone()));
        }
        headers.sort();
        let canonical_headers: String = headers
            .iter()
            .map(|(k, v)| format!("{k}:{}\n", v.trim()))
            .collect();
        let signed_headers = headers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect::<Vec<_>>()
            .join(";");
        let canonical =
            format!("{method}\n{path}\n\n{canonical_headers}\n{signed_headers}\n{payload_sha256}");
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(
            format!("AWS4{}", self.secret_key).as_bytes(),
            date.as_bytes(),
        );
        let k = hmac(&k, self.region.as_bytes());
        let k = hmac(&k, b"s3");
        let k = hmac(&k, b"aws4_request");
        let signature = hex(&hmac(&k, to_sign.as_bytes()));
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in &headers {
            b = b.header(k.as_str(), v.as_str());
        }
        b.header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                self.access_key
            ),
        )
    }

    async fn send(&self, req: Request<Body>) -> Result<(u16, Bytes), ServerError> {
        // Connecting is bounded; a bundle of gigabytes on a slow link takes what it takes.
        self.endpoint
            .send(req, None)
            .await
            .map_err(|e| ServerError::Config(format!("object store {e}")))
    }

    /// Whether `key` exists.
    pub async fn exists(&self, key: &str) -> Result<bool, ServerError> {
        let empty = hex(&Sha256::digest(b""));
        let req = self
            .signed(Method::HEAD, &self.key_path(key), &empty, &[])
            .body(Empty::new().map_err(|never| match never {}).boxed())
            .map_err(|e| ServerError::Config(e.to_string()))?;
        match self.send(req).await? {
            (200, _) => Ok(true),
            (404, _) => Ok(false),
            (s, body) => Err(ServerError::Config(format!(
                "object store HEAD {key}: {s} {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))),
        }
    }

    /// Downloads `key` into `file`, streamed as it arrives.
    pub async fn get_into(&self, key: &str, file: &mut tokio::fs::File) -> Result<(), ServerError> {
        let empty = hex(&Sha256::digest(b""));
        let req: Request<Body> = self
            .signed(Method::GET, &self.key_path(key), &empty, &[])
            .body(Empty::new().map_err(|never| match never {}).boxed())
            .map_err(|e| ServerError::Config(e.to_string()))?;
        match self.endpoint.fetch_into(req, file).await {
            Ok((200, _)) => Ok(()),
            Ok((s, body)) => Err(ServerError::Config(format!(
                "object store GET {key}: {s} {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))),
            Err(e) => Err(ServerError::Config(format!("object store {e}"))),
        }
    }

    /// Stores `file` at `key` unless something is there already (write-once). `sha256` is
    /// the file's digest, signed into the request so the store rejects other bytes.
    pub async fn put_once(&self, key: &str, file: &Path, sha256: &str) -> Result<(), ServerError> {
        if self.exists(key).await? {
            return Ok(());
        }
        let f = tokio::fs::File::open(file).await?;
        let len = f.metadata().await?.len();
        let stream = tokio_util::io::ReaderStream::with_capacity(f, 256 << 10).map_ok(Frame::data);
        let req = self
            .signed(
                Method::PUT,
                &self.key_path(key),
                sha256,
                &[
                    ("content-length", len.to_string()),
                    ("if-none-match", "*".to_owned()),
                ],
            )
            .body(BodyExt::boxed(StreamBody::new(stream)))
            .map_err(|e| ServerError::Config(e.to_string()))?;
        match self.send(req).await? {
            (200, _) => Ok(()),
            // Someone stored it meanwhile: the same digest is the same bytes.
            (412, _) => Ok(()),
            (s, body) => Err(ServerError::Config(format!(
                "object store PUT {key}: {s} {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex(&hmac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn keys_are_encoded_as_sigv4_wants() {
        assert_eq!(uri_encode("a b/c+d~", true), "a%20b/c%2Bd~");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
    }
}
