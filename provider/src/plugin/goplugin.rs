//! go-plugin's own services: broker, controller and stdio.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use super::proto::plugin::grpc_broker_server::GrpcBroker;
use super::proto::plugin::grpc_controller_server::GrpcController;
use super::proto::plugin::grpc_stdio_server::GrpcStdio;
use super::proto::plugin::{ConnInfo, Empty, StdioData};

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that sends nothing and ends when the provider shuts down, so a
/// long-lived stream never holds up the exit.
fn idle_until_shutdown<T: Send + 'static>(shutdown: watch::Receiver<bool>) -> BoxStream<T> {
    let mut shutdown = shutdown;
    Box::pin(
        futures::stream::once(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .filter_map(|()| async { None }),
    )
}

/// The broker: Terraform opens its stream at start; this provider brokers
/// no further connections, so incoming messages are read and dropped.
pub struct Broker {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = BoxStream<ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = request.into_inner();
        tokio::spawn(async move {
            while let Some(Ok(info)) = incoming.next().await {
                tracing::debug!(
                    service_id = info.service_id,
                    "ignoring broker connection info"
                );
            }
        });
        Ok(Response::new(idle_until_shutdown(self.shutdown.clone())))
    }
}

/// The controller: `Shutdown` makes the process exit.
pub struct Controller {
    pub shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("shutdown requested by the client");
        let _ = self.shutdown.send(true);
        Ok(Response::new(Empty {}))
    }
}

/// Stdio forwarding: the provider writes nothing to its own stdout after the
/// handshake and logs to stderr directly, so the stream stays idle.
pub struct Stdio {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(idle_until_shutdown(self.shutdown.clone())))
    }
}
