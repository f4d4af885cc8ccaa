//! The server's TLS configuration: certificate chain and key from PEM files, TLS 1.2/1.3 with the *ring*
//! provider (chosen explicitly, so the build never depends on which rustls providers other crates enable),
//! ALPN h2 and http/1.1.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS acceptor for the certificate chain in `cert` and the key in `key` (PEM). Errors name the file,
/// never its content.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("certificate file {}: {}", cert.display(), pem_error(&e)))?;
    if certs.is_empty() {
        return Err(format!(
            "certificate file {}: no certificate in it",
            cert.display()
        ));
    }
    let key_path = key;
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("key file {}: {}", key_path.display(), pem_error(&e)))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("protocol versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "certificate {} with key {}: {e}",
                cert.display(),
                key_path.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A PEM error without any of the file's bytes.
fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no PEM item of the expected kind".into(),
        Error::Io(io) => io.to_string(),
        Error::MissingSectionEnd { .. } | Error::IllegalSectionStart { .. } => {
            "malformed PEM".into()
        }
        Error::Base64Decode(_) => "bad base64 in PEM".into(),
        _ => "unreadable PEM".into(),
    }
}
