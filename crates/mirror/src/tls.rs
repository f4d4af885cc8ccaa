//! TLS configuration of both ends: PEM loading, the client-certificate verifier with the subject allow-list.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::MirrorError;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, MirrorError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| MirrorError::Pem(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(MirrorError::Pem(format!(
            "{}: no certificate found",
            path.display()
        )));
    }
    Ok(certs)
}

/// Reads the first private key of a PEM file (the key itself never appears in errors).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, MirrorError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        MirrorError::Pem(format!(
            "{}: no usable private key ({})",
            path.display(),
            match e {
                rustls_pki_types::pem::Error::Io(e) => e.to_string(),
                _ => "not PEM PKCS#8, PKCS#1 or SEC1".to_owned(),
            }
        ))
    })
}

fn roots(ca: &[CertificateDer<'static>]) -> Result<Arc<RootCertStore>, MirrorError> {
    let mut roots = RootCertStore::empty();
    for c in ca {
        roots.add(c.clone()).map_err(MirrorError::Tls)?;
    }
    Ok(Arc::new(roots))
}

/// The subject of a DER certificate, as `(whole subject, common name)`; `None` when it cannot be parsed.
pub fn subject_of(der: &[u8]) -> Option<(String, Option<String>)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let cn = subject
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned);
    Some((subject.to_string(), cn))
}

/// Checks the chain with webpki, then the subject against the allow-list.
struct SubjectVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    allowed: Vec<String>,
}

impl fmt::Debug for SubjectVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubjectVerifier")
            .field("allowed", &self.allowed)
            .finish_non_exhaustive()
    }
}

impl ClientCertVerifier for SubjectVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let ok = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if self.allowed.is_empty() {
            return Ok(ok);
        }
        let (subject, cn) = subject_of(end_entity).ok_or(rustls::Error::InvalidCertificate(
            rustls::CertificateError::BadEncoding,
        ))?;
        if self
            .allowed
            .iter()
            .any(|a| *a == subject || Some(a.as_str()) == cn.as_deref())
        {
            Ok(ok)
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The server's TLS configuration: TLS 1.2/1.3, client certificates required, chained to `client_ca`, with a
/// subject in `allowed` when it is not empty.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: &[CertificateDer<'static>],
    allowed: &[String],
) -> Result<Arc<rustls::ServerConfig>, MirrorError> {
    let provider = provider();
    let inner = WebPkiClientVerifier::builder_with_provider(roots(client_ca)?, provider.clone())
        .build()
        .map_err(|e| MirrorError::Config(format!("client CA: {e}")))?;
    let verifier = Arc::new(SubjectVerifier {
        inner,
        allowed: allowed.to_vec(),
    });
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(MirrorError::Tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(MirrorError::Tls)?;
    Ok(Arc::new(config))
}

/// The client's TLS configuration: trusts `server_ca`, authenticates with `certs` / `key`.
pub fn client_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    server_ca: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, MirrorError> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(MirrorError::Tls)?
        .with_root_certificates(roots(server_ca)?)
        .with_client_auth_cert(certs, key)
        .map_err(MirrorError::Tls)?;
    Ok(Arc::new(config))
}
