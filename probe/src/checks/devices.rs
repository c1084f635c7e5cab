//! Device nodes the sandboxes may need.

use std::fs;

use super::{Context, is_not_found};
use crate::model::Outcome;
use crate::sys::errno_text;

fn open_device(path: &str, purpose: &str) -> Outcome {
    match fs::OpenOptions::new().read(true).write(true).open(path) {
        Ok(_) => Outcome::ok(format!("{path} exists and opens read-write")),
        Err(e) if is_not_found(&e) => Outcome::fail(format!(
            "{path} does not exist in the container ({purpose})"
        )),
        Err(e) => Outcome::fail(format!(
            "{path} exists but cannot be opened read-write: {} ({purpose})",
            e.raw_os_error().map_or_else(|| e.to_string(), errno_text)
        )),
    }
}

/// `dev.fuse`: for fuse-overlayfs.
pub fn fuse(_: &Context) -> Outcome {
    open_device("/dev/fuse", "fuse-overlayfs needs it")
}

/// `dev.net_tun`: for pasta/slirp4netns.
pub fn net_tun(_: &Context) -> Outcome {
    open_device("/dev/net/tun", "pasta/slirp4netns need it")
}
