//! landjail: what Coder's landjail does with Landlock, in Rust with the
//! `landlock` crate. Like go-landlock's
//! `landlock.V4.RestrictNet(landlock.ConnectTCP(port))`: ABI V4 as a hard
//! requirement (no best effort), network rules only (handled BIND_TCP and
//! CONNECT_TCP, CONNECT_TCP allowed to one port), `no_new_privs` set before
//! `landlock_restrict_self`. It then proves the rules hold: a connect to
//! the allowed port works, one to another port fails with EACCES, and a
//! bind fails with EACCES. Exit 0 when all three hold, 2 when the kernel
//! lacks Landlock ABI 4, 3 when restricting fails, 4 when a check fails.
//!
//! usage: landjail [--no-nnp]   (--no-nnp: leave no_new_privs alone)

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;

use landlock::{
    ABI, Access, AccessNet, CompatLevel, Compatible, NetPort, Ruleset, RulesetAttr,
    RulesetCreatedAttr,
};

const ALLOWED: u16 = 18080;
const DENIED: u16 = 18081;
const BIND: u16 = 18082;

fn main() -> ExitCode {
    let set_nnp = !std::env::args().any(|a| a == "--no-nnp");
    let abi = match node_lab::host::landlock_abi() {
        Ok(v) => v,
        Err(why) => {
            println!("landlock ABI: unavailable ({why})");
            0
        }
    };
    println!("landlock ABI: {abi}");
    if abi < 4 {
        println!(
            "landjail: failed to apply Landlock network restrictions: missing kernel Landlock support. \
             Got Landlock ABI v{abi}, wanted 4"
        );
        return ExitCode::from(2);
    }
    let listeners: Vec<TcpListener> = match [ALLOWED, DENIED]
        .iter()
        .map(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, *p)))
        .collect()
    {
        Ok(l) => l,
        Err(e) => {
            println!("landjail: listener: {e}");
            return ExitCode::from(3);
        }
    };
    println!("no_new_privs before: {}", no_new_privs());
    if let Err(e) = restrict(set_nnp) {
        println!("landjail: landlock_restrict_self: {e}");
        return ExitCode::from(3);
    }
    println!(
        "restricted: CONNECT_TCP only to {ALLOWED}, no BIND_TCP; no_new_privs now: {}",
        no_new_privs()
    );
    let allowed = connect(ALLOWED);
    let denied = connect(DENIED);
    let bound = TcpListener::bind((Ipv4Addr::LOCALHOST, BIND)).map(drop);
    println!("connect 127.0.0.1:{ALLOWED} (allowed): {}", show(&allowed));
    println!("connect 127.0.0.1:{DENIED} (denied): {}", show(&denied));
    println!("bind 127.0.0.1:{BIND} (not allowed): {}", show(&bound));
    drop(listeners);
    let eacces = |r: &std::io::Result<()>| matches!(r, Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied);
    if allowed.is_ok() && eacces(&denied) && eacces(&bound) {
        println!("landjail: PASS");
        ExitCode::SUCCESS
    } else {
        println!("landjail: FAIL: the rules are not enforced as expected");
        ExitCode::from(4)
    }
}

fn restrict(set_nnp: bool) -> Result<(), landlock::RulesetError> {
    Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessNet::from_all(ABI::V4))?
        .create()?
        .add_rule(NetPort::new(ALLOWED, AccessNet::ConnectTcp))?
        .no_new_privs(set_nnp)
        .restrict_self()
        .map(drop)
}

fn connect(port: u16) -> std::io::Result<()> {
    TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).map(drop)
}

fn show(r: &std::io::Result<()>) -> String {
    match r {
        Ok(()) => "OK".into(),
        Err(e) => e.to_string(),
    }
}

fn no_new_privs() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("NoNewPrivs:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_else(|| "unknown".into())
}
