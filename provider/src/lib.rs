//! terraform-provider-nested: Kubernetes node pools that can run nested
//! sandboxes (nsjail, landjail, bubblewrap, rootless podman) inside pods.
//!
//! Layers, top to bottom: `plugin` (protocol) → `framework` (schemas,
//! values, diagnostics) → `provider`, `data_sources`, `functions` → the
//! domain (`capability`).

pub mod aws;
pub mod capability;
pub mod config;
pub mod data_sources;
pub mod family;
pub mod framework;
pub mod functions;
pub mod list_resources;
pub mod outputs;
pub mod plugin;
pub mod provider;
pub mod render;
pub mod resources;
pub mod validate;

/// Registry address users put in `required_providers`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/nested-sandbox/nested";
/// Version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
