//! Calls the server makes out: to an S3-compatible object store, to a tenant's SLA webhook.
//! HTTP/1.1, one connection a call; `https://` is checked against the system's trusted roots.
//! Whoever answers is not trusted either: connecting is bounded in time and at most 64 KiB of
//! an answer is read.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// How long connecting may take.
const CONNECT_WITHIN: Duration = Duration::from_secs(15);

/// A host the server calls.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl Endpoint {
    /// `http(s)://host[:port][/path]`: the endpoint and the path (`/` when none).
    pub(crate) fn parse(url: &str) -> Result<(Endpoint, String), String> {
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(format!("{url}: expected http(s)://host[:port]"));
        };
        let (hostport, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_owned()),
            None => (rest, "/".to_owned()),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() => (
                h.to_owned(),
                p.parse().map_err(|_| format!("{url}: bad port"))?,
            ),
            _ => (hostport.to_owned(), if https { 443 } else { 80 }),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        let tls = if https {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        Ok((
            Endpoint {
                https,
                host,
                port,
                tls,
            },
            path,
        ))
    }

    /// The `Host` header's value.
    pub(crate) fn host_header(&self) -> String {
        match (self.https, self.port) {
            (true, 443) | (false, 80) => self.host.clone(),
            _ => format!("{}:{}", self.host, self.port),
        }
    }

    /// Sends `req`; the status and at most 64 KiB of the answer. Connecting is bounded; with
    /// `within`, so is the whole exchange (a webhook that never answers cannot hold a round).
    /// Uploads of evidence pass `None`: gigabytes on a slow link take what they take.
    pub(crate) async fn send<B>(
        &self,
        req: Request<B>,
        within: Option<Duration>,
    ) -> Result<(u16, Bytes), String>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let addr = format!("{}:{}", self.host, self.port);
        let answer = match within {
            Some(limit) => tokio::time::timeout(limit, self.exchange(req, &addr))
                .await
                .map_err(|_| format!("{addr}: no answer in {} s", limit.as_secs()))?,
            None => self.exchange(req, &addr).await,
        };
        answer.map_err(|e| format!("{addr}: {e}"))
    }

    async fn exchange<B>(&self, req: Request<B>, addr: &str) -> Result<(u16, Bytes), String>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let resp = self.response(req, addr).await?;
        let status = resp.status().as_u16();
        let body = http_body_util::Limited::new(resp.into_body(), 64 << 10)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    }

    /// Sends `req` and, when the answer is 200, streams its body into `file` (an object of
    /// any size, written as it arrives); otherwise the status and at most 64 KiB of the answer.
    pub(crate) async fn fetch_into<B>(
        &self,
        req: Request<B>,
        file: &mut tokio::fs::File,
    ) -> Result<(u16, Bytes), String>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        use tokio::io::AsyncWriteExt;
        let addr = format!("{}:{}", self.host, self.port);
        let resp = self
            .response(req, &addr)
            .await
            .map_err(|e| format!("{addr}: {e}"))?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = http_body_util::Limited::new(resp.into_body(), 64 << 10)
                .collect()
                .await
                .map_err(|e| format!("{addr}: {e}"))?
                .to_bytes();
            return Ok((status, body));
        }
        let mut body = resp.into_body();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("{addr}: {e}"))?;
            if let Ok(data) = frame.into_data() {
                file.write_all(&data)
                    .await
                    .map_err(|e| format!("writing the download: {e}"))?;
            }
        }
        file.flush()
            .await
            .map_err(|e| format!("writing the download: {e}"))?;
        Ok((status, Bytes::new()))
    }

    async fn response<B>(
        &self,
        req: Request<B>,
        addr: &str,
    ) -> Result<hyper::Response<hyper::body::Incoming>, String>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let tcp = tokio::time::timeout(CONNECT_WITHIN, TcpStream::connect(addr))
            .await
            .map_err(|_| format!("no connection in {} s", CONNECT_WITHIN.as_secs()))?
            .map_err(|e| e.to_string())?;
        macro_rules! send {
            ($io:expr) => {{
                let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new($io))
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                sender.send_request(req).await.map_err(|e| e.to_string())?
            }};
        }
        Ok(match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|_| format!("{}: not a host name", self.host))?;
                let stream = tls.connect(name, tcp).await.map_err(|e| e.to_string())?;
                send!(stream)
            }
            None => send!(tcp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_with_defaults() {
        let (e, path) = Endpoint::parse("https://hooks.example.com/x/y?z=1").unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port),
            (true, "hooks.example.com", 443)
        );
        assert_eq!(path, "/x/y?z=1");
        assert_eq!(e.host_header(), "hooks.example.com");
        let (e, path) = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!((e.https, e.port, path.as_str()), (false, 9000, "/"));
        assert_eq!(e.host_header(), "127.0.0.1:9000");
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x:notaport/").is_err());
        assert!(Endpoint::parse("http:///path").is_err());
    }
}
