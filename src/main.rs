use clap::Parser;

fn main() -> std::process::ExitCode {
    sessiond::cli::main(sessiond::cli::Cli::parse())
}
