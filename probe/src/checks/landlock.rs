//! Landlock: the ABI version, whether the LSM is active, and whether a
//! network ruleset (what landjail applies) is enforced.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Context, io_text, read};
use crate::model::Outcome;
use crate::procfs;
use crate::sys::{self, Errno, errno_text};

fn explain_landlock_error(e: Errno) -> String {
    match e {
        libc::EOPNOTSUPP => format!(
            "{}: Landlock is built into the kernel but not enabled (not in the lsm= boot list)",
            errno_text(e)
        ),
        libc::ENOSYS => format!(
            "{}: Landlock is not built into this kernel, or the syscall is filtered",
            errno_text(e)
        ),
        _ => format!("landlock_create_ruleset refused: {}", errno_text(e)),
    }
}

/// `landlock.abi`: `landlock_create_ruleset(NULL, 0, VERSION)`.
pub fn abi(_: &Context) -> Outcome {
    match sys::landlock_abi_version() {
        Ok(v) if v >= 4 => {
            Outcome::ok(format!("Landlock ABI {v} (network rules need >= 4)")).with_value(json!(v))
        }
        Ok(v) => Outcome::fail(format!(
            "Landlock ABI {v} < 4: no TCP bind/connect rules (needs kernel >= 6.7)"
        ))
        .with_value(json!(v)),
        Err(e) => Outcome::fail(explain_landlock_error(e)),
    }
}

/// `landlock.lsm`: the syscall plus /sys/kernel/security/lsm.
pub fn lsm(_: &Context) -> Outcome {
    const LSM: &str = "/sys/kernel/security/lsm";
    let listed = read(LSM).map(|t| procfs::parse_lsm_list(&t));
    let list_note = match &listed {
        Ok(l) => format!("{LSM}: {}", l.join(",")),
        Err(e) => format!(
            "{} (securityfs not mounted or not readable)",
            io_text(LSM, e)
        ),
    };
    let value = listed.as_ref().map_or(Value::Null, |l| json!(l));
    let in_list = listed
        .as_ref()
        .ok()
        .map(|l| l.iter().any(|m| m == "landlock"));
    match (sys::landlock_abi_version(), in_list) {
        (Ok(v), _) => Outcome::ok(format!(
            "active: landlock_create_ruleset answers ABI {v}; {list_note}"
        )),
        (Err(libc::EOPNOTSUPP), _) => Outcome::fail(format!(
            "{}; {list_note}",
            explain_landlock_error(libc::EOPNOTSUPP)
        )),
        (Err(e), Some(true)) => Outcome::unknown(format!(
            "listed as active, but {}; {list_note}",
            explain_landlock_error(e)
        )),
        (Err(e), Some(false)) => Outcome::fail(format!(
            "not in the active LSM list; {}; {list_note}",
            explain_landlock_error(e)
        )),
        (Err(libc::ENOSYS), None) => Outcome::fail(format!(
            "{}; {list_note}",
            explain_landlock_error(libc::ENOSYS)
        )),
        (Err(e), None) => Outcome::unknown(format!("{}; {list_note}", explain_landlock_error(e))),
    }
    .with_value(value)
}

/// `landlock.restrict`: a TCP ruleset (ABI 4) must make `connect` fail with EACCES.
pub fn helper_restrict(_: &Context) -> Outcome {
    // A listener before the restriction gives connect() a real target, so
    // that EACCES can only come from Landlock (not ECONNREFUSED).
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok();
    let port = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port());
    let handled = sys::LANDLOCK_ACCESS_NET_BIND_TCP | sys::LANDLOCK_ACCESS_NET_CONNECT_TCP;
    if let Err(step) = sys::landlock_restrict_self_net(handled) {
        return Outcome::fail(match step {
            sys::LandlockStep::CreateRuleset(libc::EINVAL) => format!(
                "creating a ruleset with TCP network rules failed: {}: the kernel has no Landlock network rules (ABI < 4)",
                errno_text(libc::EINVAL)
            ),
            sys::LandlockStep::CreateRuleset(e) => explain_landlock_error(e),
            sys::LandlockStep::NoNewPrivs(e) => {
                format!("prctl(PR_SET_NO_NEW_PRIVS) failed: {}", errno_text(e))
            }
            sys::LandlockStep::RestrictSelf(e) => {
                format!("landlock_restrict_self failed: {}", errno_text(e))
            }
        });
    }
    let denied = |e: &io::Error| e.raw_os_error() == Some(libc::EACCES);
    match port {
        Some(port) => {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                Err(e) if denied(&e) => Outcome::ok(format!(
                    "restricted a process with a Landlock ruleset handling TCP bind/connect; connect to {addr} \
                     was then denied with EACCES"
                )),
                Ok(_) => Outcome::fail(format!(
                    "ruleset applied, but connect to {addr} was not blocked"
                )),
                Err(e) => Outcome::unknown(format!(
                    "ruleset applied, but connect to {addr} failed with {e} instead of EACCES"
                )),
            }
        }
        None => match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) {
            Err(e) if denied(&e) => Outcome::ok(
                "restricted a process with a Landlock ruleset handling TCP bind/connect; bind was then denied with EACCES",
            ),
            Ok(_) => Outcome::fail("ruleset applied, but bind was not blocked"),
            Err(e) => Outcome::unknown(format!(
                "ruleset applied, but bind failed with {e} instead of EACCES"
            )),
        },
    }
}
