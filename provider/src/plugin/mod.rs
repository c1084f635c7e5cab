//! The protocol layer: go-plugin handshake, AutoMTLS, gRPC services and the
//! DynamicValue codec. Nothing here knows about sandboxes or AWS.

pub mod codec;
pub mod convert;
pub mod goplugin;
pub mod logging;
pub mod messages;
pub mod server;
pub mod service;
pub mod span;
pub mod tls;

/// Code generated from `schemas/proto` at build time.
#[allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]
pub mod proto {
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
}
