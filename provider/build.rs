//! Compiles the protocol from schemas/proto without protoc: protox parses the
//! proto files in pure Rust, tonic's builder generates client and server code.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../schemas/proto");
    let files = [
        "tfplugin6.proto",
        "grpc_broker.proto",
        "grpc_controller.proto",
        "grpc_stdio.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
    }
    let descriptors = protox::compile(files, [&dir])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
