//! Compiles the Kubernetes CRI (schemas/proto/cri/api.proto) without protoc:
//! protox parses it in pure Rust, tonic's builder generates the client.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../schemas/proto/cri");
    println!("cargo:rerun-if-changed={}", dir.join("api.proto").display());
    let descriptors = protox::compile(["api.proto"], [&dir])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
