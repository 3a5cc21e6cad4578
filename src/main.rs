// mimalloc: parsing a large config allocates hundreds of thousands of small nodes on every
// core, where it is markedly faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    zfleet::cli::main()
}
