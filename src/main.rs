use std::process::ExitCode;

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`analognas space sample -n 1000 | head`), as Unix tools do,
    // instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    analognas::cli::main(std::env::args_os())
}
