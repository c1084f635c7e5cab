//! The `terraform-provider-nested` executable.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use nested_provider::plugin::logging;
use nested_provider::plugin::server::{
    HandshakeEnv, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, Mode, serve,
};
use nested_provider::provider::NestedProvider;
use nested_provider::{PROVIDER_ADDRESS, VERSION};

fn usage() -> String {
    format!(
        "terraform-provider-nested {VERSION}

This binary is a Terraform provider plugin: Terraform starts it and talks to
it over gRPC. It is not meant to be run by hand.

To use a local build, point Terraform at it with dev_overrides in a CLI
configuration file and set TF_CLI_CONFIG_FILE to that file:

    provider_installation {{
      dev_overrides {{
        \"{PROVIDER_ADDRESS}\" = \"/path/to/directory/containing/this/binary\"
      }}
      direct {{}}
    }}

Then run terraform plan/apply (no terraform init needed for this provider).

Options:
  --debug     serve for a debugger: prints a TF_REATTACH_PROVIDERS value to
              export in the shell that runs Terraform; Ctrl-C stops it
  --version   print the version
"
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-nested {VERSION}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let mode = if args.iter().any(|a| a == "--debug") {
        Mode::Debug
    } else {
        Mode::Managed
    };
    if let Some(other) = args.iter().find(|a| *a != "--debug") {
        eprintln!(
            "terraform-provider-nested: unknown argument {other:?}\n\n{}",
            usage()
        );
        return ExitCode::from(2);
    }
    if mode == Mode::Managed
        && std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE)
    {
        eprint!("{}", usage());
        return ExitCode::from(1);
    }

    logging::init_from_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nested-provider")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("terraform-provider-nested: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(serve(
        Arc::new(NestedProvider::new()),
        HandshakeEnv::from_process(),
        mode,
        PROVIDER_ADDRESS,
    ));
    // Do not wait for stragglers: go-plugin kills us 2 s after Shutdown.
    runtime.shutdown_timeout(Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(&format!(": {s}"));
                source = s.source();
            }
            tracing::error!("{msg}");
            eprintln!("terraform-provider-nested: {msg}");
            ExitCode::from(1)
        }
    }
}
