//! Serves an existing recordings directory (`<dir>/catalog.sqlite`) with the admin API on 127.0.0.1:<port>,
//! with a fresh self-signed certificate for `localhost` and a random token, for trying the API with curl:
//!
//! ```sh
//! cargo run -p rec-admin --example admin_demo -- recordings 8443
//! ```
//!
//! It prints the certificate path and the token, then serves until killed.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "recordings".into()));
    let port: u16 = args.next().as_deref().unwrap_or("8443").parse()?;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let dir = std::env::temp_dir().join(format!("rec-admin-demo-{port}"));
    std::fs::create_dir_all(&dir)?;
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem())?;
    std::fs::write(&key_path, cert.key_pair.serialize_pem())?;
    let mut random = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut random)?;
    let token: String = random.iter().map(|b| format!("{b:02x}")).collect();
    println!("cert  {}", cert_path.display());
    println!("token {token}");
    println!("url   https://localhost:{port}/api/recordings");
    let cfg = rec_admin::AdminSettings {
        enabled: true,
        listen: ([127, 0, 0, 1], port).into(),
        cert: cert_path.display().to_string(),
        key: key_path.display().to_string(),
        tokens: vec![rec_admin::TokenEntry {
            name: "demo".into(),
            sha256_hex: rec_admin::token_sha256_hex(&token),
            role: rec_admin::Role::Admin,
        }],
        ..rec_admin::AdminSettings::default()
    }
    .to_config(&out)?;
    let metrics = Arc::new(rec_admin::Metrics::new());
    rec_admin::serve(cfg, metrics, std::future::pending()).await?;
    Ok(())
}
