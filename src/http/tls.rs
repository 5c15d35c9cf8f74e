//! TLS without a proxy: HTTPS and WSS with rustls, from a PEM certificate
//! chain and key that are read again on SIGHUP (certbot and acme.sh renew
//! them in place), without dropping open connections.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::sync::lock_read;

/// Where the certificate chain and its key are.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The certificate chain, PEM, the server's own first.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The TLS acceptor in use, and the files to reload it from.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<TlsAcceptor>,
}

impl Tls {
    /// Loads the pair; a missing, unreadable or mismatched pair is one line.
    pub fn load(files: TlsFiles) -> Result<Tls, String> {
        let acceptor = acceptor(&files)?;
        Ok(Tls {
            files,
            current: RwLock::new(acceptor),
        })
    }

    /// The acceptor for the next connection.
    pub fn acceptor(&self) -> TlsAcceptor {
        lock_read(&self.current).clone()
    }

    /// Reads the files again; on failure the old pair stays in use.
    pub fn reload(&self) -> Result<(), String> {
        let acceptor = acceptor(&self.files)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = acceptor;
        Ok(())
    }
}

fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let (cert, key) = (files.cert.display(), files.key.display());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("cannot read the TLS certificate {cert}: {e}"))?;
    if chain.is_empty() {
        return Err(format!("no certificate in {cert}"));
    }
    let private = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("cannot read the TLS key {key}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| format!("the TLS key {key} does not fit the certificate {cert}: {e}"))?;
    // HTTP/1.1 only, as in the clear.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
