fn main() -> std::process::ExitCode {
    zfleet::cli::main()
}
