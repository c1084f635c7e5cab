//! lab-proxy: the stand-in for Coder Boundary's HTTP proxy in the nsjail
//! workload. It listens on `0.0.0.0:PORT` in the pod's network namespace,
//! creates READY_FILE once it listens, accepts one connection, prints the
//! peer and the first line it receives, answers `ok` and exits 0; it exits 1
//! when nothing connects within 15 s.
//!
//! usage: lab-proxy PORT READY_FILE

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(port), Some(ready)) = (args.get(1).and_then(|p| p.parse::<u16>().ok()), args.get(2))
    else {
        eprintln!("usage: lab-proxy PORT READY_FILE");
        return ExitCode::from(2);
    };
    match serve(port, ready) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(port: u16, ready: &str) -> Result<String, String> {
    let listener =
        TcpListener::bind(("0.0.0.0", port)).map_err(|e| format!("listen on :{port}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("set_nonblocking: {e}"))?;
    std::fs::write(ready, b"").map_err(|e| format!("write {ready}: {e}"))?;
    let start = Instant::now();
    let (stream, peer) = loop {
        match listener.accept() {
            Ok(conn) => break conn,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if start.elapsed() > WAIT {
                    return Err(format!("no connection within {WAIT:?}"));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    };
    stream
        .set_nonblocking(false)
        .and_then(|()| stream.set_read_timeout(Some(Duration::from_secs(3))))
        .map_err(|e| format!("socket options: {e}"))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| format!("read from {peer}: {e}"))?;
    let mut out = &stream;
    // The client may already be gone; its data is what counts.
    let _ = out.write_all(b"ok\n");
    Ok(format!("proxy got from {peer}: {}", line.trim_end()))
}
