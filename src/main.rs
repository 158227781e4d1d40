use std::process::ExitCode;

fn main() -> ExitCode {
    analognas::cli::main(std::env::args_os())
}
