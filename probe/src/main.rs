//! `nested-probe` binary; everything lives in the library (src/lib.rs).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = nested_probe::run(&args);
    std::process::exit(code);
}
