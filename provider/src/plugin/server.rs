//! Serving: handshake, listener, TLS, services, shutdown.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, Router};

use super::goplugin::{Broker, Controller, Stdio};
use super::proto::plugin::grpc_broker_server::GrpcBrokerServer;
use super::proto::plugin::grpc_controller_server::GrpcControllerServer;
use super::proto::plugin::grpc_stdio_server::GrpcStdioServer;
use super::proto::tfplugin6::provider_server::ProviderServer;
use super::service::ProviderService;
use super::tls::{ServerIdentity, TlsError, parse_client_certs, server_config};
use crate::framework::provider::{Halt, Provider};

/// The cookie Terraform sets so a provider knows it was started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks.
pub const APP_PROTOCOL_VERSION: u32 = 6;
/// Largest message either side may send (terraform-plugin-go uses 256 MiB).
const MAX_MESSAGE_BYTES: usize = 256 << 20;
/// How long in-flight calls get to finish after Shutdown; go-plugin kills
/// the process 2 s after asking it to exit.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The client supports no protocol version this provider speaks.
    #[error(
        "this provider speaks plugin protocol {APP_PROTOCOL_VERSION}, but the client offered \
         PLUGIN_PROTOCOL_VERSIONS={offered:?}; use Terraform 1.0 or later"
    )]
    NoCommonProtocol { offered: String },
    /// PLUGIN_MIN_PORT / PLUGIN_MAX_PORT are not ports.
    #[error("{name}={value:?} is not a port number")]
    BadPort { name: &'static str, value: String },
    /// No port in the range could be bound.
    #[error("could not listen on 127.0.0.1 in the port range {min}-{max}")]
    NoPort {
        min: u16,
        max: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS set-up failed")]
    Tls(#[from] TlsError),
    #[error("writing the handshake to stdout")]
    Stdout(#[source] std::io::Error),
    #[error("gRPC server failed")]
    Transport(#[from] tonic::transport::Error),
}

/// What the client (Terraform, or a test) put in the environment.
#[derive(Debug, Clone, Default)]
pub struct HandshakeEnv {
    pub protocol_versions: Option<String>,
    pub min_port: Option<String>,
    pub max_port: Option<String>,
    pub client_cert_pem: Option<String>,
}

impl HandshakeEnv {
    pub fn from_process() -> Self {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            min_port: get("PLUGIN_MIN_PORT"),
            max_port: get("PLUGIN_MAX_PORT"),
            client_cert_pem: get("PLUGIN_CLIENT_CERT"),
        }
    }

    /// The app protocol version to announce: 6 when offered (or when the
    /// client says nothing, as go-plugin's default).
    pub fn negotiate(&self) -> Result<u32, ServeError> {
        let Some(offered) = &self.protocol_versions else {
            return Ok(APP_PROTOCOL_VERSION);
        };
        let speaks = offered
            .split(',')
            .filter_map(|v| v.trim().parse::<u32>().ok())
            .any(|v| v == APP_PROTOCOL_VERSION);
        if speaks {
            Ok(APP_PROTOCOL_VERSION)
        } else {
            Err(ServeError::NoCommonProtocol {
                offered: offered.clone(),
            })
        }
    }

    fn port_range(&self) -> Result<(u16, u16), ServeError> {
        let parse = |name: &'static str, v: &Option<String>| -> Result<u16, ServeError> {
            match v {
                None => Ok(0),
                Some(s) => s.trim().parse::<u16>().map_err(|_| ServeError::BadPort {
                    name,
                    value: s.clone(),
                }),
            }
        };
        let min = parse("PLUGIN_MIN_PORT", &self.min_port)?;
        let max = parse("PLUGIN_MAX_PORT", &self.max_port)?;
        Ok((min, max))
    }
}

/// Bind 127.0.0.1 on the first free port of the client's range (any port
/// when the client gives none).
pub async fn bind(env: &HandshakeEnv) -> Result<TcpListener, ServeError> {
    let (min, max) = env.port_range()?;
    let (min, max) = if min == 0 && max == 0 {
        (0, 0)
    } else {
        (min, if max == 0 { u16::MAX } else { max })
    };
    let mut last_err = std::io::Error::other("empty port range");
    for port in min..=max {
        match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
            Ok(l) => return Ok(l),
            Err(e) => last_err = e,
        }
    }
    Err(ServeError::NoPort {
        min,
        max,
        source: last_err,
    })
}

/// The line go-plugin reads from stdout.
pub fn handshake_line(version: u32, addr: SocketAddr, cert_field: &str) -> String {
    format!("{CORE_PROTOCOL_VERSION}|{version}|tcp|{addr}|grpc|{cert_field}")
}

/// The value of `TF_REATTACH_PROVIDERS` for a provider served in debug mode.
pub fn reattach_json(provider_address: &str, addr: SocketAddr) -> String {
    serde_json::json!({
        provider_address: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": std::process::id(),
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() }
        }
    })
    .to_string()
}

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Started by Terraform (or Pulumi's bridge) through go-plugin.
    Managed,
    /// `--debug`: serve without TLS and print `TF_REATTACH_PROVIDERS`;
    /// Ctrl-C stops the provider.
    Debug,
}

fn build_router(
    provider: Arc<dyn Provider>,
    shutdown_tx: watch::Sender<bool>,
    stop_tx: watch::Sender<Halt>,
) -> (Router, tonic_health::server::HealthReporter) {
    let (reporter, health) = tonic_health::server::health_reporter();
    let shutdown_rx = shutdown_tx.subscribe();
    let provider_service = ProviderServer::new(ProviderService::new(provider, stop_tx))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(GrpcBrokerServer::new(Broker {
            shutdown: shutdown_rx.clone(),
        }))
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown_tx,
        }))
        .add_service(GrpcStdioServer::new(Stdio {
            shutdown: shutdown_rx,
        }))
        .add_service(provider_service);
    (router, reporter)
}

/// Serve `provider` until the client asks it to shut down.
pub async fn serve(
    provider: Arc<dyn Provider>,
    env: HandshakeEnv,
    mode: Mode,
    provider_address: &str,
) -> Result<(), ServeError> {
    let version = env.negotiate()?;
    let listener = bind(&env).await?;
    let addr = listener.local_addr().map_err(|e| ServeError::NoPort {
        min: 0,
        max: 0,
        source: e,
    })?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (stop_tx, _) = watch::channel(Halt::Running);
    let (router, reporter) = build_router(provider, shutdown_tx.clone(), stop_tx.clone());
    reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    // TLS unless debugging or the client disabled it (TF_DISABLE_PLUGIN_TLS).
    let tls = match (&env.client_cert_pem, mode) {
        (Some(pem), Mode::Managed) => {
            let identity = ServerIdentity::generate()?;
            let config = server_config(&identity, parse_client_certs(pem)?)?;
            Some((identity.handshake_field(), Arc::new(config)))
        }
        _ => None,
    };

    // Signals and the parent watch are in place before Terraform hears of
    // us: a SIGINT right after the handshake must find the handler.
    spawn_signal_handler(mode, shutdown_tx.clone());
    if mode == Mode::Managed {
        spawn_parent_watch(stop_tx, shutdown_tx.clone());
    }

    let mut stdout = std::io::stdout().lock();
    match mode {
        Mode::Managed => {
            let cert_field = tls.as_ref().map(|(f, _)| f.as_str()).unwrap_or_default();
            writeln!(stdout, "{}", handshake_line(version, addr, cert_field))
                .map_err(ServeError::Stdout)?;
        }
        Mode::Debug => {
            writeln!(
                stdout,
                "Provider started. To attach Terraform CLI, set the TF_REATTACH_PROVIDERS \
                 environment variable with the following:\n\n\tTF_REATTACH_PROVIDERS='{}'\n",
                reattach_json(provider_address, addr)
            )
            .map_err(ServeError::Stdout)?;
        }
    }
    stdout.flush().map_err(ServeError::Stdout)?;
    drop(stdout);
    tracing::info!(address = %addr, tls = tls.is_some(), "provider serving");

    let shutdown_signal = wait_shutdown(shutdown_rx.clone());
    let serving = async {
        match tls {
            Some((_, config)) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(config);
                let rx = accept_tls(listener, acceptor, shutdown_rx.clone());
                serve_incoming(router, rx, shutdown_signal).await
            }
            None => {
                let rx = accept_plain(listener, shutdown_rx.clone());
                serve_incoming(router, rx, shutdown_signal).await
            }
        }
    };
    // Once shutdown is requested, in-flight calls get a short grace period.
    let deadline = async {
        wait_shutdown(shutdown_rx.clone()).await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = serving => r?,
        () = deadline => tracing::debug!("shutdown grace period over"),
    }
    tracing::info!("provider stopped");
    Ok(())
}

async fn wait_shutdown(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn serve_incoming<IO>(
    router: Router,
    rx: mpsc::Receiver<Result<IO, std::io::Error>>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError>
where
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    router
        .serve_with_incoming_shutdown(ReceiverStream::new(rx), shutdown)
        .await?;
    Ok(())
}

/// Accept connections until shutdown and hand each, once `upgrade` has
/// accepted it, to the gRPC server. Each connection is upgraded in its own
/// task, so one slow or hostile client cannot block the others; a
/// connection `upgrade` refuses (`None`) is dropped.
fn accept<IO, F, Fut>(
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
    upgrade: F,
) -> mpsc::Receiver<Result<IO, std::io::Error>>
where
    IO: Send + 'static,
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<IO>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let stop = wait_shutdown(shutdown);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        // gRPC answers are small writes: without TCP_NODELAY
                        // Nagle's algorithm holds each one back until the
                        // peer's delayed ACK (tens of ms per call).
                        if let Err(e) = stream.set_nodelay(true) {
                            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
                        }
                        let tx = tx.clone();
                        let upgraded = upgrade(stream, peer);
                        tokio::spawn(async move {
                            if let Some(io) = upgraded.await {
                                let _ = tx.send(Ok(io)).await;
                            }
                        });
                    }
                    Err(e) => tracing::warn!(error = %e, "accept failed"),
                },
                () = &mut stop => break,
            }
        }
    });
    rx
}

fn accept_plain(
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) -> mpsc::Receiver<Result<TcpStream, std::io::Error>> {
    accept(listener, shutdown, |stream, _| async move { Some(stream) })
}

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Connections that fail the TLS handshake (no client certificate, wrong
/// certificate, too slow) are dropped.
fn accept_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    shutdown: watch::Receiver<bool>,
) -> mpsc::Receiver<Result<TlsStream, std::io::Error>> {
    accept(listener, shutdown, move |stream, peer| {
        let handshake = acceptor.accept(stream);
        async move {
            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                Ok(Ok(tls)) => Some(tls),
                Ok(Err(e)) => {
                    tracing::warn!(peer = %peer, error = %e, "refused a connection: TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::warn!(peer = %peer, "refused a connection: TLS handshake timed out");
                    None
                }
            }
        }
    })
}

/// SIGINT: Terraform forwards Ctrl-C as StopProvider, so a managed provider
/// ignores the signal itself (as go-plugin servers do). In debug mode the
/// developer's Ctrl-C stops the provider.
fn spawn_signal_handler(mode: Mode, shutdown: watch::Sender<bool>) {
    // Registered now (not at the task's first poll), so no SIGINT that
    // arrives once this returns can take the default action.
    #[cfg(unix)]
    let mut interrupts =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot handle SIGINT");
                return;
            }
        };
    tokio::spawn(async move {
        loop {
            #[cfg(unix)]
            if interrupts.recv().await.is_none() {
                return;
            }
            #[cfg(not(unix))]
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            match mode {
                Mode::Managed => tracing::debug!("ignoring SIGINT; Terraform sends StopProvider"),
                Mode::Debug => {
                    let _ = shutdown.send(true);
                    return;
                }
            }
        }
    });
}

/// How often the provider checks that Terraform is still its parent.
const PARENT_POLL: Duration = Duration::from_millis(200);
/// After Terraform is gone: time for in-flight calls to reach a safe point
/// (end their waits, record what they created) before the process exits.
const GONE_GRACE: Duration = Duration::from_secs(2);

/// Terraform killed (`kill -9`, an OOM kill, a CI timeout) never sends
/// Shutdown; without this the provider would live on as an orphan and keep
/// creating node groups. When the parent process changes (re-parented to
/// init or a subreaper), in-flight work is told Terraform is gone, and the
/// process exits shortly after.
fn spawn_parent_watch(stop: watch::Sender<Halt>, shutdown: watch::Sender<bool>) {
    #[cfg(unix)]
    {
        let parent = std::os::unix::process::parent_id();
        if parent == 1 {
            // Started by init (a container's entry point): nothing to watch.
            return;
        }
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PARENT_POLL).await;
                if std::os::unix::process::parent_id() != parent {
                    break;
                }
            }
            tracing::warn!(
                parent,
                "Terraform (the parent process) is gone: ending in-flight work, creating nothing new, exiting"
            );
            let _ = stop.send(Halt::Gone);
            tokio::time::sleep(GONE_GRACE).await;
            let _ = shutdown.send(true);
        });
    }
    #[cfg(not(unix))]
    {
        let _ = (stop, shutdown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_negotiation() {
        let env = |v: Option<&str>| HandshakeEnv {
            protocol_versions: v.map(String::from),
            ..Default::default()
        };
        assert_eq!(env(None).negotiate().unwrap(), 6);
        assert_eq!(env(Some("5,6")).negotiate().unwrap(), 6);
        assert!(matches!(
            env(Some("4,5")).negotiate(),
            Err(ServeError::NoCommonProtocol { .. })
        ));
    }

    #[test]
    fn handshake_line_shape() {
        let line = handshake_line(6, "127.0.0.1:4242".parse().unwrap(), "QUJD");
        assert_eq!(line, "1|6|tcp|127.0.0.1:4242|grpc|QUJD");
    }

    #[tokio::test]
    async fn binds_inside_the_requested_port_range() {
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        let env = HandshakeEnv {
            min_port: Some(base.to_string()),
            max_port: Some(base.saturating_add(20).to_string()),
            ..Default::default()
        };
        let l = bind(&env).await.unwrap();
        let port = l.local_addr().unwrap().port();
        assert!((base..=base + 20).contains(&port));
        let bad = HandshakeEnv {
            min_port: Some("eighty".into()),
            ..Default::default()
        };
        assert!(matches!(bind(&bad).await, Err(ServeError::BadPort { .. })));
    }

    #[test]
    fn reattach_json_names_the_provider_and_address() {
        let j: serde_json::Value = serde_json::from_str(&reattach_json(
            "registry.terraform.io/nested/nested",
            "127.0.0.1:5000".parse().unwrap(),
        ))
        .unwrap();
        let p = &j["registry.terraform.io/nested/nested"];
        assert_eq!(p["ProtocolVersion"], 6);
        assert_eq!(p["Addr"]["String"], "127.0.0.1:5000");
        assert_eq!(p["Protocol"], "grpc");
    }
}
