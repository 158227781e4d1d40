//! The `analognas` command: parses arguments, resolves paths, prints and draws progress bars;
//! every computation lives in the library crate.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`analognas space sample -n 1000 | head`), as Unix tools do,
    // instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    cli::main(std::env::args_os())
}
