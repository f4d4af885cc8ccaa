//! Test PKI (rcgen) and a mirror server on loopback, shared by the tests and the load example.
#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rec_mirror::{
    ClientOptions, MirrorConfig, MirrorServer, MirrorStats, MirroredSip, SharedRewriter,
};
use tokio::sync::mpsc;

pub struct Ca {
    cert: Certificate,
    key: KeyPair,
    pub pem: PathBuf,
}

/// A certificate and key written as PEM files.
#[derive(Clone)]
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        Pki {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca(&self, name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = p.self_signed(&key).unwrap();
        let pem = self.path(&format!("{name}.crt"));
        std::fs::write(&pem, cert.pem()).unwrap();
        Ca { cert, key, pem }
    }

    /// A leaf signed by `ca`: a server certificate for `localhost` / 127.0.0.1, or a client one.
    pub fn leaf(&self, ca: &Ca, cn: &str, server: bool) -> Leaf {
        let sans = if server {
            vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
        } else {
            vec![]
        };
        let mut p = CertificateParams::new(sans).unwrap();
        p.distinguished_name
            .push(DnType::OrganizationName, "Contoso");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
        let leaf = Leaf {
            cert: self.path(&format!("{cn}.crt")),
            key: self.path(&format!("{cn}.key")),
        };
        std::fs::write(&leaf.cert, cert.pem()).unwrap();
        std::fs::write(&leaf.key, key.serialize_pem()).unwrap();
        leaf
    }
}

/// The usual set: one CA, a server certificate and a filter certificate `fe01.contoso.example`.
pub struct Setup {
    pub pki: Pki,
    pub ca: Ca,
    pub server: Leaf,
    pub filter: Leaf,
}

impl Setup {
    pub fn new() -> Setup {
        let pki = Pki::new();
        let ca = pki.ca("filters-ca");
        let server = pki.leaf(&ca, "recorder.contoso.example", true);
        let filter = pki.leaf(&ca, "fe01.contoso.example", false);
        Setup {
            pki,
            ca,
            server,
            filter,
        }
    }

    pub fn config(&self) -> MirrorConfig {
        MirrorConfig {
            enabled: true,
            listen: "127.0.0.1:0".parse().unwrap(),
            cert: self.server.cert.clone(),
            key: self.server.key.clone(),
            client_ca: self.ca.pem.clone(),
            ..MirrorConfig::default()
        }
    }

    pub fn client_options(&self, to: std::net::SocketAddr, leaf: &Leaf) -> ClientOptions {
        ClientOptions {
            to: to.to_string(),
            cert: leaf.cert.clone(),
            key: leaf.key.clone(),
            ca: self.ca.pem.clone(),
            server_name: Some("localhost".into()),
            first_id: Some(1),
        }
    }
}

pub struct Running {
    pub addr: std::net::SocketAddr,
    pub rx: mpsc::Receiver<MirroredSip>,
    pub stats: Arc<MirrorStats>,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(config: &MirrorConfig, rewriter: SharedRewriter) -> Running {
    let stats = Arc::new(MirrorStats::default());
    let (tx, rx) = rec_mirror::channel(config);
    let server = MirrorServer::bind(config, rewriter, tx, stats.clone())
        .await
        .unwrap();
    let addr = server.local_addr();
    let task = tokio::spawn(server.run());
    Running {
        addr,
        rx,
        stats,
        task,
    }
}

/// The rewriter of the tests: the shared examples' Edge address configured.
pub fn rewriter() -> rec_rewrite::Rewriter {
    let config = rec_rewrite::RewriteConfig {
        edge_addresses: vec!["198.51.100.20".parse().unwrap()],
        ..rec_rewrite::RewriteConfig::default()
    };
    rec_rewrite::Rewriter::new(config, &rec_rewrite::PolicyConfig::default()).unwrap()
}

pub fn example(name: &str) -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/domain/examples");
    std::fs::read(dir.join(name)).unwrap()
}
