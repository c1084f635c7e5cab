//! The provider binary as go-plugin sees it: cookie, handshake line, AutoMTLS
//! (a client without Terraform's certificate is refused), health, shutdown,
//! signals and debug mode. These tests start the real executable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use nested_provider::plugin::proto::plugin::Empty;
use nested_provider::plugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use nested_provider::plugin::proto::tfplugin6 as pb;
use nested_provider::plugin::proto::tfplugin6::provider_client::ProviderClient;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-nested");
const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

/// A client certificate as go-plugin makes one: self-signed ECDSA P-521 CA.
struct ClientCert {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

fn client_cert() -> ClientCert {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P521_SHA512};
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientCert {
        pem: cert.pem(),
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

struct Plugin {
    child: Child,
    line: String,
    started: Instant,
    handshake_after: Duration,
}

impl Plugin {
    fn start(client_pem: &str) -> Plugin {
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .env(COOKIE.0, COOKIE.1)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_CLIENT_CERT", client_pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Plugin {
            child,
            line: line.trim_end().to_string(),
            handshake_after: started.elapsed(),
            started,
        }
    }

    fn fields(&self) -> Vec<&str> {
        self.line.split('|').collect()
    }

    fn addr(&self) -> String {
        self.fields()[3].to_string()
    }

    fn server_cert(&self) -> CertificateDer<'static> {
        CertificateDer::from(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(self.fields()[5])
                .unwrap(),
        )
    }

    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(CertificateDer<'static>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let p = rustls::crypto::aws_lc_rs::default_provider();
        rustls::crypto::verify_tls12_signature(m, c, d, &p.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let p = rustls::crypto::aws_lc_rs::default_provider();
        rustls::crypto::verify_tls13_signature(m, c, d, &p.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn tls_client(server: CertificateDer<'static>, cert: Option<&ClientCert>) -> ClientConfig {
    let builder = ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(PinnedServer(server)));
    let mut config = match cert {
        Some(c) => builder
            .with_client_auth_cert(vec![c.der.clone()], PrivateKeyDer::Pkcs8(c.key.clone_key()))
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

/// Connect and complete a TLS handshake plus one round trip (under TLS 1.3
/// the server's verdict on the client certificate arrives after the
/// client's handshake finishes, so a read is needed to see a refusal).
async fn grpc_channel(
    addr: &str,
    config: ClientConfig,
) -> Result<Channel, tonic::transport::Error> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let addr = addr.to_string();
    Endpoint::from_static("http://localhost")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            let addr = addr.clone();
            async move {
                let tcp = TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

async fn health_status(channel: Channel) -> Result<i32, tonic::Status> {
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(r.into_inner().status)
}

#[test]
fn without_the_magic_cookie_it_explains_itself_and_exits_1() {
    let out = Command::new(BIN).env_remove(COOKIE.0).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("dev_overrides"), "{text}");
    assert!(text.contains("not meant to be run by hand"), "{text}");
    assert!(
        out.stdout.is_empty(),
        "stdout is reserved for the handshake"
    );
}

#[test]
fn refuses_clients_that_speak_no_common_protocol() {
    let out = Command::new(BIN)
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol 6"));
}

#[test]
fn handshake_line_has_the_go_plugin_shape() {
    let c = client_cert();
    let p = Plugin::start(&c.pem);
    let f = p.fields();
    assert_eq!(f.len(), 6, "{}", p.line);
    assert_eq!(&f[..3], ["1", "6", "tcp"]);
    assert!(f[3].starts_with("127.0.0.1:"));
    let port: u16 = f[3].rsplit(':').next().unwrap().parse().unwrap();
    assert!((10000..=25000).contains(&port));
    assert_eq!(f[4], "grpc");
    assert!(!f[5].ends_with('='), "certificate must be unpadded base64");
    assert!(!p.server_cert().is_empty());
    eprintln!("handshake line: {}", p.line);
    eprintln!("start → handshake: {:?}", p.handshake_after);
}

#[tokio::test]
async fn a_client_without_the_certificate_is_refused() {
    let c = client_cert();
    let p = Plugin::start(&c.pem);

    // No client certificate at all.
    let no_cert = grpc_channel(&p.addr(), tls_client(p.server_cert(), None)).await;
    let refused = match no_cert {
        Err(_) => true,
        Ok(ch) => health_status(ch).await.is_err(),
    };
    assert!(refused, "a client without a certificate must be refused");

    // A certificate Terraform did not announce.
    let other = client_cert();
    let wrong = grpc_channel(&p.addr(), tls_client(p.server_cert(), Some(&other))).await;
    let refused = match wrong {
        Err(_) => true,
        Ok(ch) => health_status(ch).await.is_err(),
    };
    assert!(refused, "a client with another certificate must be refused");

    // Plain text is refused too.
    let plain = Endpoint::from_shared(format!("http://{}", p.addr()))
        .unwrap()
        .connect()
        .await;
    let refused = match plain {
        Err(_) => true,
        Ok(ch) => health_status(ch).await.is_err(),
    };
    assert!(refused, "plaintext must be refused");

    // The announced certificate works: health says SERVING for "plugin".
    let ch = grpc_channel(&p.addr(), tls_client(p.server_cert(), Some(&c)))
        .await
        .unwrap();
    assert_eq!(health_status(ch).await.unwrap(), 1 /* SERVING */);
}

#[tokio::test]
async fn serves_the_provider_schema_and_answers_unknown_types_with_diagnostics() {
    let c = client_cert();
    let p = Plugin::start(&c.pem);
    let ch = grpc_channel(&p.addr(), tls_client(p.server_cert(), Some(&c)))
        .await
        .unwrap();
    let mut client = ProviderClient::new(ch);
    let schema = client
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.data_source_schemas.contains_key("nested_capability"));
    assert!(schema.functions.contains_key("kernel_floor"));
    assert!(schema.diagnostics.is_empty());

    let r = client
        .read_data_source(pb::read_data_source::Request {
            type_name: "nested_nope".into(),
            ..Default::default()
        })
        .await
        .expect("an unknown type is a diagnostic, not a transport error")
        .into_inner();
    assert_eq!(r.diagnostics.len(), 1);
    assert!(r.diagnostics[0].detail.contains("nested_capability"));

    // Features the provider does not have answer with a diagnostic too.
    let r = client
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request::default())
        .await
        .unwrap()
        .into_inner();
    assert!(r.diagnostics[0].summary.contains("not supported"));
}

#[tokio::test]
async fn shutdown_makes_the_process_exit_well_under_two_seconds() {
    let c = client_cert();
    let mut p = Plugin::start(&c.pem);
    let ch = grpc_channel(&p.addr(), tls_client(p.server_cert(), Some(&c)))
        .await
        .unwrap();
    // Long-lived streams Terraform keeps open must not hold up the exit.
    let mut stdio =
        nested_provider::plugin::proto::plugin::grpc_stdio_client::GrpcStdioClient::new(ch.clone());
    let _stream = stdio.stream_stdio(()).await.unwrap();
    let asked = Instant::now();
    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status = p.wait_exit(Duration::from_secs(2));
    let took = asked.elapsed();
    assert!(status.is_some(), "still running 2 s after Shutdown");
    assert!(status.unwrap().success());
    eprintln!(
        "Shutdown → exit: {took:?} (process lived {:?})",
        p.started.elapsed()
    );
}

#[test]
fn sigint_does_not_kill_a_managed_provider() {
    let c = client_cert();
    let mut p = Plugin::start(&c.pem);
    let pid = p.child.id().to_string();
    let ok = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(ok.success());
    assert!(
        p.wait_exit(Duration::from_millis(700)).is_none(),
        "SIGINT must be left to Terraform (StopProvider)"
    );
}

#[test]
fn debug_mode_prints_tf_reattach_providers_and_serves() {
    let mut child = Command::new(BIN)
        .arg("--debug")
        .env_remove(COOKIE.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        text.push_str(&line);
        if line.contains("TF_REATTACH_PROVIDERS=") {
            break;
        }
        line.clear();
    }
    let json = text
        .split("TF_REATTACH_PROVIDERS='")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let entry = &v["registry.terraform.io/nested-sandbox/nested"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    let addr = entry["Addr"]["String"].as_str().unwrap();
    assert!(std::net::TcpStream::connect(addr).is_ok());
    // Ctrl-C stops a debug-mode provider.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "debug provider ignored Ctrl-C");
        std::thread::sleep(Duration::from_millis(10));
    }
}
