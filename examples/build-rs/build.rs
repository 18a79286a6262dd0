fn main() {
    if let Err(diagnostics) = archgen::Builder::new("../../specs/storage/openapi.yaml").generate() {
        // Diagnostics carry file:line:column; cargo shows them as the build script's output.
        eprintln!("{diagnostics}");
        std::process::exit(1);
    }
}
