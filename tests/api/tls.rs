//! TLS on its own: HTTPS and WSS from a throwaway CA's
//! certificate, replaced and reloaded on SIGHUP while a websocket stays
//! open; pairs that cannot work refuse to start with one line.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::helpers::{Binary, binary};

/// A throwaway CA.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Ca {
    fn new() -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Ca { issuer }
    }

    /// A certificate for localhost and 127.0.0.1, written as PEM to `dir`:
    /// its DER.
    fn issue(&self, dir: &Path) -> CertificateDer<'static> {
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        cert.der().clone()
    }

    fn connector(&self) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.issuer.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// A TLS connection to the server at `base` (`https://127.0.0.1:PORT`).
async fn connect(connector: &TlsConnector, base: &str) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(base.trim_start_matches("https://"))
        .await
        .unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.expect("a TLS handshake")
}

/// The certificate the server presents on a new connection.
async fn presented(connector: &TlsConnector, base: &str) -> CertificateDer<'static> {
    let stream = connect(connector, base).await;
    stream.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// One HTTPS request: the status and the JSON body.
async fn https(
    connector: &TlsConnector,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut stream = connect(connector, base).await;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer[9..12].parse().expect("a status");
    let json = answer.split_once("\r\n\r\n").map_or(Value::Null, |(_, b)| {
        serde_json::from_str(b).unwrap_or(Value::Null)
    });
    (status, json)
}

/// The next text frame of a websocket over TLS, as JSON.
async fn next_text(ws: &mut tokio_tungstenite::WebSocketStream<TlsStream<TcpStream>>) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("open")
            .expect("valid");
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).expect("JSON");
        }
    }
}

#[tokio::test]
async fn https_and_wss_and_a_certificate_reloaded_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    let first = ca.issue(dir.path());
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let mut server = Binary::start(dir.path(), &args).await;
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let tls = ca.connector();

    let (status, index) = https(&tls, &server.base, "GET", "/", None, None).await;
    assert_eq!((status, index["name"].as_str()), (200, Some("azuma")));
    let (status, registered) = https(
        &tls,
        &server.base,
        "POST",
        "/user/register",
        None,
        Some(json!({"name": "alice", "password": "pw"})),
    )
    .await;
    assert_eq!(status, 201);
    let token = registered["token"].as_str().unwrap().to_owned();
    let (status, channel) = https(
        &tls,
        &server.base,
        "POST",
        "/channel",
        Some(&token),
        Some(json!({"name": "secure"})),
    )
    .await;
    assert_eq!(status, 201);

    // A websocket over TLS.
    let stream = connect(&tls, &server.base).await;
    let (mut ws, _) = tokio_tungstenite::client_async("wss://localhost/init_ws", stream)
        .await
        .expect("WSS");
    use futures_util::SinkExt;
    let auth = json!({"type": "Authenticate", "content": {"token": token}});
    let auth = tokio_tungstenite::tungstenite::Message::text(auth.to_string());
    ws.send(auth).await.unwrap();
    assert_eq!(next_text(&mut ws).await, json!({"type": "Welcome"}));

    // Renewed files, and SIGHUP: new connections see the new certificate.
    assert_eq!(presented(&tls, &server.base).await, first);
    let second = ca.issue(dir.path());
    server.signal("HUP");
    server.wait_for_log(&["reloaded the TLS certificate"]).await;
    assert_eq!(presented(&tls, &server.base).await, second);

    // A bad pair at reload is logged, and the pair in use kept.
    let other_key = KeyPair::generate().unwrap();
    std::fs::write(&key, other_key.serialize_pem()).unwrap();
    server.signal("HUP");
    server
        .wait_for_log(&["does not fit", "keeping the certificate in use"])
        .await;
    assert_eq!(presented(&tls, &server.base).await, second);

    // The websocket opened before the reloads is still open and hears.
    let channel_id = channel["id"].as_str().unwrap();
    let (status, sent) = https(
        &tls,
        &server.base,
        "POST",
        "/message/send",
        Some(&token),
        Some(json!({"channel": channel_id, "content": "still here"})),
    )
    .await;
    assert_eq!(status, 200);
    loop {
        let frame = next_text(&mut ws).await;
        if frame["type"] == "Message" {
            assert_eq!(frame["content"], sent);
            break;
        }
    }
}

#[tokio::test]
async fn a_pair_that_cannot_work_refuses_to_start_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    ca.issue(dir.path());
    let cert = dir.path().join("cert.pem");
    let missing = dir.path().join("missing.pem");
    let mismatched = dir.path().join("other-key.pem");
    std::fs::write(&mismatched, KeyPair::generate().unwrap().serialize_pem()).unwrap();
    for (cert, key, says) in [
        (
            &missing,
            &dir.path().join("key.pem"),
            "cannot read the TLS certificate",
        ),
        (&cert, &missing, "cannot read the TLS key"),
        (&cert, &mismatched, "does not fit the certificate"),
    ] {
        let output = binary(dir.path())
            .args(["--listen", "127.0.0.1:0", "--tls-cert"])
            .arg(cert)
            .arg("--tls-key")
            .arg(key)
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(says), "{stderr}");
        assert!(!dir.path().join("azuma.db").exists(), "nothing made");
    }
}

#[tokio::test]
async fn sighup_without_tls_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Binary::start(dir.path(), &[]).await;
    server.signal("HUP");
    server.wait_for_log(&["SIGHUP: nothing to reload"]).await;
    let reply = server.call(reqwest::Method::GET, "/", None, None).await;
    reply.assert_json(200);
}
