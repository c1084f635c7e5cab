//! The kernel release.

use serde_json::json;

use super::{Context, io_text, read};
use crate::model::Outcome;
use crate::sys;

/// `kernel.release`: /proc/sys/kernel/osrelease, or `uname(2)`.
pub fn release(_: &Context) -> Outcome {
    match read("/proc/sys/kernel/osrelease") {
        Ok(r) => {
            let r = r.trim().to_string();
            Outcome::ok(r.clone()).with_value(json!(r))
        }
        Err(e) => match sys::uname_release() {
            Some(r) => Outcome::ok(format!(
                "{r} (from uname; {})",
                io_text("/proc/sys/kernel/osrelease", &e)
            ))
            .with_value(json!(r)),
            None => Outcome::unknown(io_text("/proc/sys/kernel/osrelease", &e)),
        },
    }
}
