//! The moto helper starts an AWS API server on a free 127.0.0.1 port and
//! really stops it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use acceptance::{Moto, http_get};

#[test]
fn moto_starts_on_loopback_and_stops() {
    let moto = Moto::start().unwrap();
    let port = moto.port;
    assert!(moto.endpoint().starts_with("http://127.0.0.1:"));
    // It is moto's server: its own API answers with JSON state.
    let body = http_get(port, "/moto-api/data.json").unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("\r\n\r\n{"), "{body}");
    moto.stop().unwrap();
    assert!(
        http_get(port, "/moto-api/data.json").is_none(),
        "moto still answering"
    );
}
