//! The provider binary as go-plugin sees it: cookie, handshake line, AutoMTLS
//! (a client without Terraform's certificate is refused), health, shutdown,
//! signals and debug mode. These tests start the real executable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, COOKIE, Plugin, client_cert, grpc_channel, tls_client};
use nested_provider::plugin::proto::plugin::Empty;
use nested_provider::plugin::proto::plugin::grpc_controller_client::GrpcControllerClient;
use nested_provider::plugin::proto::tfplugin6 as pb;
use nested_provider::plugin::proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::{Channel, Endpoint};

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
