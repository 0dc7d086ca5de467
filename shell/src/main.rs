//! The `wsh` binary: everything is in the library's [`wsh::cli`].

fn main() -> std::process::ExitCode {
    wsh::cli::main()
}
