//! A client of `firewarden server`. HTTPS with the server's certificate pinned by its SHA-256
//! (the server prints it on start): no CA is trusted, so a machine in the middle with any
//! certificate is refused. Uploads are streamed from the file.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
pub use hyper::Method;
use hyper::body::Frame;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types};

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL.
    #[error("server URL {0}: expected https://HOST:PORT (or http:// for a loopback test server)")]
    Url(String),
    /// No connection.
    #[error("cannot reach {0}: {1}")]
    Connect(String, String),
    /// The server's certificate is not the pinned one (or none is pinned).
    #[error("{0}")]
    Pin(String),
    /// The exchange broke.
    #[error("{0}")]
    Http(String),
    /// The server answered with an error.
    #[error("{status}: {reason}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The server's reason.
        reason: String,
        /// The whole answer.
        body: serde_json::Value,
    },
    /// A local file.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A server to talk to.
#[derive(Clone)]
pub struct Client {
    host: String,
    port: u16,
    tls: Option<(tokio_rustls::TlsConnector, Arc<Mutex<Option<String>>>)>,
    token: Option<String>,
}

type Body = BoxBody<Bytes, std::io::Error>;

/// Checks the server's certificate against the pin, and nothing else: the pin is the trust.
#[derive(Debug)]
struct Pinned {
    pin: Option<String>,
    seen: Arc<Mutex<Option<String>>>,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &pki_types::CertificateDer<'_>,
        _intermediates: &[pki_types::CertificateDer<'_>],
        _server_name: &pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let fp = fingerprint(end_entity);
        *self.seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(fp.clone());
        match &self.pin {
            Some(pin) if pin.eq_ignore_ascii_case(&fp) => {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            _ => Err(rustls::Error::General("certificate not pinned".into())),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `sha256:` and the hex SHA-256 of a certificate.
pub fn fingerprint(der: &[u8]) -> String {
    format!(
        "sha256:{}",
        Sha256::digest(der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn parse_url(url: &str) -> Result<(bool, String, u16), ClientError> {
    let bad = || ClientError::Url(url.to_owned());
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h.to_owned(), p.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (rest.to_owned(), if tls { 443 } else { 80 }),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if host.is_empty() {
        return Err(bad());
    }
    Ok((tls, host, port))
}

impl Client {
    /// A client of the server at `url` (`https://HOST:PORT`), presenting `token`, trusting only
    /// the certificate whose fingerprint is `pin`.
    pub fn new(
        url: &str,
        token: Option<String>,
        pin: Option<String>,
    ) -> Result<Client, ClientError> {
        let (tls, host, port) = parse_url(url)?;
        let tls = if tls {
            let provider = rustls::crypto::ring::default_provider();
            let seen = Arc::new(Mutex::new(None));
            let verifier = Pinned {
                pin: pin.map(|p| {
                    let p = p.trim().to_ascii_lowercase();
                    if p.starts_with("sha256:") {
                        p
                    } else {
                        format!("sha256:{p}")
                    }
                }),
                seen: Arc::clone(&seen),
                algorithms: provider.signature_verification_algorithms,
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
                .with_safe_default_protocol_versions()
                .map_err(|e| ClientError::Http(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            Some((tokio_rustls::TlsConnector::from(Arc::new(config)), seen))
        } else {
            None
        };
        Ok(Client {
            host,
            port,
            tls,
            token,
        })
    }

    async fn send(&self, req: Request<Body>) -> Result<(StatusCode, Bytes), ClientError> {
        let resp = self.response(req).await?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| ClientError::Http(format!("the answer broke off: {e}")))?
            .to_bytes();
        Ok((status, body))
    }

    /// GETs `path` into the new file `dest` (streamed as it arrives; refused when `dest`
    /// exists). The answer's headers; an error status is [`ClientError::Refused`] and leaves
    /// no file.
    pub async fn download(&self, path: &str, dest: &Path) -> Result<hyper::HeaderMap, ClientError> {
        use tokio::io::AsyncWriteExt;
        let req = self
            .request(Method::GET, path)
            .body(
                Full::new(Bytes::new())
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .map_err(|e| ClientError::Http(e.to_string()))?;
        let resp = self.response(req).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if !status.is_success() {
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| ClientError::Http(format!("the answer broke off: {e}")))?
                .to_bytes();
            answer((status, body))?;
            return Err(ClientError::Http(format!("unexpected status {status}")));
        }
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dest)
            .await?;
        let mut body = resp.into_body();
        let written = async {
            while let Some(frame) = body.frame().await {
                let frame =
                    frame.map_err(|e| ClientError::Http(format!("the download broke off: {e}")))?;
                if let Ok(data) = frame.into_data() {
                    file.write_all(&data).await?;
                }
            }
            file.sync_all().await?;
            Ok::<_, ClientError>(())
        }
        .await;
        if let Err(e) = written {
            // Nothing half-written is left behind.
            let _ = tokio::fs::remove_file(dest).await;
            return Err(e);
        }
        Ok(headers)
    }

    async fn response(
        &self,
        req: Request<Body>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let addr = format!("{}:{}", self.host, self.port);
        let tcp = tokio::time::timeout(Duration::from_secs(15), TcpStream::connect(&addr))
            .await
            .map_err(|_| ClientError::Connect(addr.clone(), "timed out".into()))?
            .map_err(|e| ClientError::Connect(addr.clone(), e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            Some((connector, seen)) => {
                let name = pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|_| ClientError::Url(self.host.clone()))?;
                let stream = match connector.connect(name, tcp).await {
                    Ok(s) => s,
                    Err(e) => {
                        let got = seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
                        return Err(match got {
                            Some(fp) => ClientError::Pin(format!(
                                "the server at {addr} presents certificate {fp}, which is not the pinned one: check it against the server's start banner, then pass it with --pin or FIREWARDEN_PIN"
                            )),
                            None => ClientError::Connect(addr, format!("TLS: {e}")),
                        });
                    }
                };
                exchange(TokioIo::new(stream), req).await
            }
            None => exchange(TokioIo::new(tcp), req).await,
        }
    }

    fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, format!("{}:{}", self.host, self.port))
            .header(header::ACCEPT, "application/json");
        if let Some(t) = &self.token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        b
    }

    /// Sends `body` (or nothing) as JSON and returns the JSON answer; an error status is
    /// [`ClientError::Refused`] with the server's reason.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let bytes = match body {
            Some(v) => {
                Bytes::from(serde_json::to_vec(v).map_err(|e| ClientError::Http(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let mut b = self.request(method, path);
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        let req = b
            .body(Full::new(bytes).map_err(|never| match never {}).boxed())
            .map_err(|e| ClientError::Http(e.to_string()))?;
        answer(self.send(req).await?)
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, path, None).await
    }

    /// POSTs `prefix` then the file's bytes, streamed, with their total length.
    pub async fn upload(
        &self,
        path: &str,
        prefix: Vec<u8>,
        file: &Path,
    ) -> Result<serde_json::Value, ClientError> {
        // Ask first with the first bytes and the size: a refusal (too large, not ours, not
        // allowed) comes back before the upload is sent, and reliably (a server that refuses
        // half-way must cut the connection, and the reason can be lost with it).
        let mut head = vec![0u8; 8192];
        let n = {
            use tokio::io::AsyncReadExt;
            let mut f = tokio::fs::File::open(file).await?;
            let mut n = 0;
            while n < head.len() {
                let got = f.read(&mut head[n..]).await?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            n
        };
        head.truncate(n);
        let size = tokio::fs::metadata(file).await?.len();
        let sep = if path.contains('?') { '&' } else { '?' };
        let check = self
            .request(Method::POST, &format!("{path}{sep}check=true&size={size}"))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(
                Full::new(Bytes::from(head))
                    .map_err(|never| match never {})
                    .boxed(),
            )
            .map_err(|e| ClientError::Http(e.to_string()))?;
        answer(self.send(check).await?)?;
        self.upload_unchecked(path, prefix, file).await
    }

    /// [`Client::upload`] without asking first (what a careless or hostile client does).
    pub async fn upload_unchecked(
        &self,
        path: &str,
        prefix: Vec<u8>,
        file: &Path,
    ) -> Result<serde_json::Value, ClientError> {
        let f = tokio::fs::File::open(file).await?;
        let len = f.metadata().await?.len() + prefix.len() as u64;
        let head =
            futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(prefix)) });
        let rest = tokio_util::io::ReaderStream::with_capacity(f, 256 << 10);
        let stream = head.chain(rest).map_ok(Frame::data);
        let req = self
            .request(Method::POST, path)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(header::CONTENT_LENGTH, len)
            .body(BodyExt::boxed(StreamBody::new(stream)))
            .map_err(|e| ClientError::Http(e.to_string()))?;
        answer(self.send(req).await?)
    }
}

async fn exchange<T>(
    io: TokioIo<T>,
    req: Request<Body>,
) -> Result<hyper::Response<hyper::body::Incoming>, ClientError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| ClientError::Http(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
        .send_request(req)
        .await
        .map_err(|e| ClientError::Http(format!("the request failed: {e}")))
}

fn answer((status, body): (StatusCode, Bytes)) -> Result<serde_json::Value, ClientError> {
    let value: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| {
            serde_json::Value::String(
                String::from_utf8_lossy(&body[..body.len().min(2000)]).into_owned(),
            )
        })
    };
    if status.is_success() {
        return Ok(value);
    }
    // The reason can quote the upload (a parser's message): control characters are shown
    // escaped, so nothing a file holds reaches the terminal as an escape sequence.
    let reason: String = value
        .get("error")
        .and_then(|e| e.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
        .chars()
        .take(4000)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    Err(ClientError::Refused {
        status: status.as_u16(),
        reason,
        body: value,
    })
}

/// Percent-encodes a query value.
pub fn query_value(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_or_say_what_is_expected() {
        assert_eq!(
            parse_url("https://127.0.0.1:8443").unwrap(),
            (true, "127.0.0.1".into(), 8443)
        );
        assert_eq!(
            parse_url("https://[::1]:9/").unwrap(),
            (true, "::1".into(), 9)
        );
        assert_eq!(
            parse_url("https://cases.example").unwrap(),
            (true, "cases.example".into(), 443)
        );
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("https://x:99999").is_err());
        assert!(parse_url("https://x/api").is_err());
    }

    #[test]
    fn refusal_reasons_reach_the_terminal_without_control_characters() {
        let body = Bytes::from_static(b"{\"error\": \"bad \\u001b[2J\\u0007 input\"}");
        match answer((StatusCode::UNPROCESSABLE_ENTITY, body)) {
            Err(ClientError::Refused { status, reason, .. }) => {
                assert_eq!(status, 422);
                assert!(!reason.chars().any(char::is_control), "{reason:?}");
                assert!(
                    reason.contains("bad") && reason.contains("input"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query_value("web 01/ä&x=1"), "web%2001%2F%C3%A4%26x%3D1");
    }
}
