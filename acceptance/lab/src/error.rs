//! The lab's error type: everything that stops the lab from producing an
//! [`Outcome`](crate::Outcome). A workload that runs and fails is not an
//! error; it is an `Outcome` with `ok == false`.

use std::path::PathBuf;
use std::time::Duration;

/// Why the lab could not translate, build or run a scenario.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// The lab creates containers with crun and needs host root.
    #[error(
        "the node lab must run as root (it creates pod containers with crun); \
         run it as root, e.g. `sudo -E cargo nextest run -p node-lab`"
    )]
    NotRoot,
    /// Host tools or files the lab needs are absent.
    #[error(
        "the node lab cannot run here, missing: {}; `bash acceptance/lab/setup.sh` installs them",
        .0.join("; ")
    )]
    Missing(Vec<String>),
    /// A helper binary of this crate (or the probe) was not found.
    #[error("{what} not found (looked in: {}); {hint}", display_paths(.looked_in))]
    HelperMissing {
        what: String,
        looked_in: Vec<PathBuf>,
        hint: String,
    },
    /// A provider output could not be read as the Kubernetes field it is.
    #[error("provider output `{field}` is not valid: {detail}")]
    BadInput { field: String, detail: String },
    /// The scenario asks for something the lab does not emulate.
    #[error("not supported by the node lab: {0}")]
    Unsupported(String),
    /// The lab's own machinery failed (serialising config.json, the outer
    /// user namespace, a poisoned lock).
    #[error("node lab: {0}")]
    Harness(String),
    /// A seccomp profile file could not be read or resolved.
    #[error("seccomp profile {path}: {detail}")]
    Seccomp { path: PathBuf, detail: String },
    /// A filesystem or process operation of the lab itself failed.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A host command the lab runs for itself (cp, setcap, mknod, tar) failed.
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    /// The container did not finish in time; it was killed.
    #[error(
        "the pod container did not finish within {after:?} and was killed; output so far:\n{output}"
    )]
    TimedOut { after: Duration, output: String },
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Wraps an `io::Error` with what the lab was doing.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}
