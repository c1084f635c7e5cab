//! The kubelet's side of the CRI: a gRPC client on containerd's unix
//! socket, with the calls the kubelet makes for a pod (RunPodSandbox,
//! CreateContainer, StartContainer, ExecSync, StopPodSandbox,
//! RemovePodSandbox), blocking for the lab's sequential runs.

use std::path::Path;
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};

use super::api;
use super::api::runtime_service_client::RuntimeServiceClient;
use super::kubelet::PodRequests;
use crate::LabError;

/// A blocking CRI client.
pub struct CriClient {
    runtime: tokio::runtime::Runtime,
    client: RuntimeServiceClient<Channel>,
}

/// What containerd said about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    pub runtime_name: String,
    pub runtime_version: String,
    pub runtime_api_version: String,
}

/// A started pod: its sandbox and container ids, and the time each call took.
#[derive(Debug, Clone)]
pub struct StartedPod {
    pub sandbox_id: String,
    pub container_id: String,
    pub run_pod_sandbox: Duration,
    pub create_container: Duration,
    pub start_container: Duration,
}

/// A failed CRI call: which one and containerd's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriFailure {
    pub call: &'static str,
    pub message: String,
    /// The sandbox, when one was created before the failure.
    pub sandbox_id: Option<String>,
}

/// An `ExecSync` result.
#[derive(Debug, Clone)]
pub struct ExecResult {
    pub exit_code: i32,
    pub output: String,
    pub took: Duration,
}

fn rpc_error(
    call: &'static str,
    sandbox_id: Option<String>,
) -> impl FnOnce(tonic::Status) -> CriFailure {
    move |s| CriFailure {
        call,
        message: s.message().to_string(),
        sandbox_id,
    }
}

impl CriClient {
    /// Connects to the socket (as the kubelet's `--container-runtime-endpoint`).
    pub fn connect(socket: &Path) -> Result<CriClient, LabError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(crate::error::io("start a tokio runtime"))?;
        let path = socket.to_path_buf();
        let channel = runtime
            .block_on(async move {
                Endpoint::try_from("http://[::1]:0")?
                    .connect_with_connector(tower::service_fn(move |_: Uri| {
                        let path = path.clone();
                        async move {
                            Ok::<_, std::io::Error>(TokioIo::new(
                                tokio::net::UnixStream::connect(path).await?,
                            ))
                        }
                    }))
                    .await
            })
            .map_err(|e| LabError::Harness(format!("connect to {}: {e}", socket.display())))?;
        Ok(CriClient {
            runtime,
            client: RuntimeServiceClient::new(channel),
        })
    }

    /// `Version`.
    pub fn version(&mut self) -> Result<RuntimeVersion, LabError> {
        let mut c = self.client.clone();
        let v = self
            .runtime
            .block_on(c.version(api::VersionRequest {
                version: "v1".into(),
            }))
            .map_err(|e| LabError::Harness(format!("CRI Version: {}", e.message())))?
            .into_inner();
        Ok(RuntimeVersion {
            runtime_name: v.runtime_name,
            runtime_version: v.runtime_version,
            runtime_api_version: v.runtime_api_version,
        })
    }

    /// `Status`: whether the default runtime handler reports user-namespace
    /// support (`runtime_handlers[""].features.user_namespaces`), which the
    /// kubelet requires before it sends a `hostUsers: false` pod
    /// (kubernetes/kubernetes#123216, Kubernetes 1.30). A runtime that
    /// reports no handlers supports none.
    pub fn handler_supports_user_namespaces(&mut self) -> Result<bool, LabError> {
        let mut c = self.client.clone();
        let s = self
            .runtime
            .block_on(c.status(api::StatusRequest { verbose: false }))
            .map_err(|e| LabError::Harness(format!("CRI Status: {}", e.message())))?
            .into_inner();
        Ok(s.runtime_handlers
            .iter()
            .find(|h| h.name.is_empty())
            .and_then(|h| h.features.as_ref())
            .is_some_and(|f| f.user_namespaces))
    }

    /// RunPodSandbox; then the pod's IP from PodSandboxStatus (what the
    /// kubelet writes into the pod's managed /etc/hosts).
    pub fn run_sandbox(
        &mut self,
        req: &PodRequests,
    ) -> Result<(String, String, Duration), CriFailure> {
        let mut c = self.client.clone();
        self.runtime.block_on(async move {
            let t = Instant::now();
            let sandbox_id = c
                .run_pod_sandbox(api::RunPodSandboxRequest {
                    config: Some(req.sandbox.clone()),
                    runtime_handler: String::new(),
                })
                .await
                .map_err(rpc_error("RunPodSandbox", None))?
                .into_inner()
                .pod_sandbox_id;
            let took = t.elapsed();
            let ip = c
                .pod_sandbox_status(api::PodSandboxStatusRequest {
                    pod_sandbox_id: sandbox_id.clone(),
                    verbose: false,
                })
                .await
                .map_err(rpc_error("PodSandboxStatus", Some(sandbox_id.clone())))?
                .into_inner()
                .status
                .and_then(|s| s.network)
                .map(|n| n.ip)
                .unwrap_or_default();
            Ok((sandbox_id, ip, took))
        })
    }

    /// CreateContainer + StartContainer in a running sandbox.
    pub fn start_container(
        &mut self,
        sandbox_id: &str,
        req: &PodRequests,
    ) -> Result<StartedPod, CriFailure> {
        let mut c = self.client.clone();
        self.runtime.block_on(async move {
            let t = Instant::now();
            let container_id = c
                .create_container(api::CreateContainerRequest {
                    pod_sandbox_id: sandbox_id.to_string(),
                    config: Some(req.container.clone()),
                    sandbox_config: Some(req.sandbox.clone()),
                })
                .await
                .map_err(rpc_error("CreateContainer", Some(sandbox_id.to_string())))?
                .into_inner()
                .container_id;
            let create_container = t.elapsed();
            let t = Instant::now();
            c.start_container(api::StartContainerRequest {
                container_id: container_id.clone(),
            })
            .await
            .map_err(rpc_error("StartContainer", Some(sandbox_id.to_string())))?;
            Ok(StartedPod {
                sandbox_id: sandbox_id.to_string(),
                container_id,
                run_pod_sandbox: Duration::ZERO,
                create_container,
                start_container: t.elapsed(),
            })
        })
    }

    /// `ExecSync` (as `kubectl exec` and exec probes reach the runtime).
    pub fn exec(
        &mut self,
        container_id: &str,
        cmd: Vec<String>,
        timeout: Duration,
    ) -> Result<ExecResult, LabError> {
        let mut c = self.client.clone();
        let t = Instant::now();
        let r = self
            .runtime
            .block_on(c.exec_sync(api::ExecSyncRequest {
                container_id: container_id.to_string(),
                cmd,
                timeout: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            }))
            .map_err(|e| LabError::Harness(format!("CRI ExecSync: {}", e.message())))?
            .into_inner();
        let mut output = String::from_utf8_lossy(&r.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&r.stderr));
        Ok(ExecResult {
            exit_code: r.exit_code,
            output,
            took: t.elapsed(),
        })
    }

    /// StopPodSandbox + RemovePodSandbox.
    pub fn remove_pod(&mut self, sandbox_id: &str) -> Result<Duration, LabError> {
        let mut c = self.client.clone();
        let t = Instant::now();
        self.runtime
            .block_on(async move {
                c.stop_pod_sandbox(api::StopPodSandboxRequest {
                    pod_sandbox_id: sandbox_id.to_string(),
                })
                .await?;
                c.remove_pod_sandbox(api::RemovePodSandboxRequest {
                    pod_sandbox_id: sandbox_id.to_string(),
                })
                .await
            })
            .map_err(|e| {
                LabError::Harness(format!("CRI Stop/RemovePodSandbox: {}", e.message()))
            })?;
        Ok(t.elapsed())
    }
}
