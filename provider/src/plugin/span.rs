//! The span every RPC runs in, so `TF_LOG_PROVIDER` output can be followed
//! request by request. Its fields use terraform-plugin-go's log keys:
//! `tf_rpc` (the RPC's name), `tf_req_id` (fresh per request) and the type
//! the request is about (`tf_resource_type`, `tf_data_source_type` or
//! `tf_function_name`). The hclog writer (`logging`) puts them on every
//! line logged inside the span.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Span;
use tracing::field::Empty;

/// What a request is about, when it is about one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// The provider as a whole (schemas, configuration, stop).
    Provider,
    /// A resource type (`tf_resource_type`).
    Resource(&'a str),
    /// A data source type (`tf_data_source_type`).
    DataSource(&'a str),
    /// A provider-defined function (`tf_function_name`).
    Function(&'a str),
}

/// The span for one request of `rpc` about `subject`.
///
/// It is an ERROR-level span so that it is enabled whenever anything is
/// logged at all: its fields must be on every line, whatever the level.
pub fn rpc_span(rpc: &'static str, subject: Subject<'_>) -> Span {
    let span = tracing::error_span!(
        "rpc",
        tf_rpc = rpc,
        tf_req_id = Empty,
        tf_resource_type = Empty,
        tf_data_source_type = Empty,
        tf_function_name = Empty,
    );
    if span.is_disabled() {
        // Nothing is logged: no id to draw.
        return span;
    }
    span.record("tf_req_id", request_id().as_str());
    match subject {
        Subject::Provider => {}
        Subject::Resource(name) => {
            span.record("tf_resource_type", name);
        }
        Subject::DataSource(name) => {
            span.record("tf_data_source_type", name);
        }
        Subject::Function(name) => {
            span.record("tf_function_name", name);
        }
    }
    span
}

/// A fresh request id: 128 random bits in the UUID layout
/// (`8-4-4-4-12` hex digits) terraform-plugin-go's ids have.
pub fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (it does not happen on the platforms Terraform
        // runs on): ids stay unique within the process, which is all a log
        // reader needs.
        bytes = fallback_id();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The process id, the time and a counter: unique within this process.
fn fallback_id() -> [u8; 16] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[8..12].copy_from_slice(&std::process::id().to_be_bytes());
    bytes[12..].copy_from_slice(&nanos.to_be_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_fresh_uuid_shaped_hex() {
        let a = request_id();
        let b = request_id();
        assert_ne!(a, b);
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(
            a.chars()
                .all(|c| c == '-' || (c.is_ascii_hexdigit() && !c.is_ascii_uppercase())),
            "{a}"
        );
        let fallback: Vec<[u8; 16]> = (0..2).map(|_| fallback_id()).collect();
        assert_ne!(fallback[0], fallback[1]);
    }
}
