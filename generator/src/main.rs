//! The `archgen` command line: generate, check, validate, init.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use archgen::config::{self, Job};
use archgen::{Diagnostics, scaffold, write};
use clap::{Args, Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "archgen",
    version,
    about = "Generate Rust domain services from annotated OpenAPI specs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate code; rewrites only files whose content changed.
    Generate(Inputs),
    /// Fail if generated code is stale, missing, orphaned or edited by hand. Writes nothing.
    Check(Inputs),
    /// Report every problem in a spec at once.
    Validate {
        #[arg(long)]
        spec: PathBuf,
    },
    /// Scaffold a new service crate from a spec.
    Init {
        dir: PathBuf,
        #[arg(long)]
        spec: PathBuf,
        /// Crate name (default: the directory name).
        #[arg(long)]
        name: Option<String>,
        /// Leave out the `[workspace]` table (for a crate that joins an existing workspace).
        #[arg(long)]
        no_workspace: bool,
    },
}

#[derive(Args)]
struct Inputs {
    /// Config file (default: ./archgen.toml), used when --spec is not given.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, requires = "out")]
    spec: Option<PathBuf>,
    #[arg(long, requires = "spec")]
    out: Option<PathBuf>,
    /// Directory of stubs for custom operations (written once, never overwritten).
    #[arg(long)]
    stubs: Option<PathBuf>,
    /// Directory whose templates override the built-in ones by file name.
    #[arg(long)]
    templates: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(inputs) => jobs(&inputs).and_then(|jobs| generate(&jobs)),
        Command::Check(inputs) => jobs(&inputs).and_then(|jobs| check(&jobs)),
        Command::Validate { spec } => validate(&spec),
        Command::Init {
            dir,
            spec,
            name,
            no_workspace,
        } => init(&dir, &spec, name, !no_workspace),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn jobs(inputs: &Inputs) -> Result<Vec<Job>, String> {
    if let (Some(spec), Some(out)) = (&inputs.spec, &inputs.out) {
        return Ok(vec![Job {
            spec: spec.clone(),
            out: out.clone(),
            stubs: inputs.stubs.clone(),
            templates: inputs.templates.clone(),
        }]);
    }
    let path = inputs
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("archgen.toml"));
    if !path.exists() {
        return Err(format!(
            "error: no {} here\n  hint: pass --spec SPEC --out DIR, or create archgen.toml (see `archgen init`)",
            path.display()
        ));
    }
    let mut jobs = config::read(&path)?;
    for job in &mut jobs {
        if inputs.templates.is_some() {
            job.templates = inputs.templates.clone();
        }
    }
    Ok(jobs)
}

fn run(job: &Job) -> Result<archgen::Generated, String> {
    let generated = archgen::generate_in(&job.spec, job.templates.as_deref(), Some(&job.out))
        .map_err(|d| report(&d))?;
    for w in generated.warnings.warnings() {
        eprintln!("{w}");
    }
    Ok(generated)
}

fn report(d: &Diagnostics) -> String {
    d.to_string()
}

fn generate(jobs: &[Job]) -> Result<ExitCode, String> {
    for job in jobs {
        let generated = run(job)?;
        let done = write::write(&job.out, &generated.files).map_err(|e| format!("error: {e}"))?;
        for p in &done.changed {
            eprintln!("wrote {}", p.display());
        }
        for p in &done.removed {
            eprintln!("removed {}", p.display());
        }
        if let Some(stubs) = &job.stubs {
            write_stubs(stubs, &job.out, &generated.model)?;
        }
        eprintln!(
            "{}: {} file(s) written, {} unchanged, {} removed",
            job.spec.display(),
            done.changed.len(),
            done.unchanged,
            done.removed.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn write_stubs(stubs: &Path, out: &Path, model: &archgen::model::Model) -> Result<(), String> {
    let generated_mod = format!(
        "crate::{}",
        out.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "generated".into())
    );
    let fresh = !stubs.join("mod.rs").exists();
    for (rel, text) in scaffold::stubs(model, &generated_mod) {
        let path = stubs.join(&rel);
        if write::write_if_missing(&path, &text)? {
            eprintln!("wrote stub {}", path.display());
            if !fresh && rel != Path::new("mod.rs") {
                eprintln!(
                    "  note: add `pub mod {};` to {} if it is not there",
                    rel.with_extension("").display(),
                    stubs.join("mod.rs").display()
                );
            }
        }
    }
    Ok(())
}

fn check(jobs: &[Job]) -> Result<ExitCode, String> {
    let mut failed = 0;
    for job in jobs {
        let generated = run(job)?;
        for finding in write::check(&job.out, &generated.files) {
            println!("{finding}");
            failed += 1;
        }
    }
    if failed == 0 {
        println!("archgen check: generated code is up to date");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("archgen check: {failed} problem(s); run `archgen generate` to regenerate");
        Ok(ExitCode::FAILURE)
    }
}

fn validate(spec: &Path) -> Result<ExitCode, String> {
    let d = archgen::validate(spec);
    if d.0.is_empty() {
        println!("{}: ok", spec.display());
        return Ok(ExitCode::SUCCESS);
    }
    println!("{d}");
    Ok(if d.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn init(
    dir: &Path,
    spec: &Path,
    name: Option<String>,
    workspace: bool,
) -> Result<ExitCode, String> {
    if dir.join("archgen.toml").exists() || dir.join("Cargo.toml").exists() {
        return Err(format!(
            "error: {} already holds a project\n  hint: run `archgen generate` there to regenerate; init only creates new services",
            dir.display()
        ));
    }
    let generated = archgen::generate(spec, None).map_err(|d| report(&d))?;
    for w in generated.warnings.warnings() {
        eprintln!("{w}");
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("error: cannot create {}: {e}", dir.display()))?;
    let dir = dir.canonicalize().map_err(|e| e.to_string())?;
    // Copy the spec and every file it references, keeping their layout.
    let root = spec.canonicalize().map_err(|e| e.to_string())?;
    let base = root.parent().unwrap_or(Path::new("/")).to_path_buf();
    for input in &generated.inputs {
        let input = input.canonicalize().map_err(|e| e.to_string())?;
        let rel = input.strip_prefix(&base).map_err(|_| {
            format!("error: {} is outside the spec's directory\n  hint: keep split spec files under the root spec's directory", input.display())
        })?;
        let target = dir.join("spec").join(rel);
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
        }
        std::fs::copy(&input, &target)
            .map_err(|e| format!("error: cannot copy {}: {e}", input.display()))?;
    }
    let spec_rel = format!(
        "spec/{}",
        root.file_name().unwrap_or_default().to_string_lossy()
    );
    let name = name.unwrap_or_else(|| scaffold::crate_name(&generated.model, &dir));
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../runtime")
        .canonicalize()
        .map_err(|e| e.to_string())?;
    let runtime_rel = scaffold::relative(&dir, &runtime);
    let owned = [
        (
            PathBuf::from("Cargo.toml"),
            scaffold::cargo_toml(
                &name,
                &runtime_rel.display().to_string(),
                &generated.model.runtime,
                workspace,
            ),
        ),
        (
            PathBuf::from("archgen.toml"),
            scaffold::archgen_toml(&spec_rel),
        ),
        (PathBuf::from("src/lib.rs"), scaffold::lib_rs()),
        (
            PathBuf::from("src/main.rs"),
            scaffold::main_rs(&name, &name.replace('-', "_")),
        ),
        (PathBuf::from("src/app.rs"), scaffold::app(&generated.model)),
        (PathBuf::from(".gitignore"), "/target\n*.db*\n".to_string()),
    ];
    for (rel, text) in owned {
        if write::write_if_missing(&dir.join(&rel), &text)? {
            eprintln!("wrote {}", dir.join(&rel).display());
        }
    }
    write::write(&dir.join("src/generated"), &generated.files)
        .map_err(|e| format!("error: {e}"))?;
    write_stubs(
        &dir.join("src/custom"),
        &dir.join("src/generated"),
        &generated.model,
    )?;
    eprintln!(
        "\ncreated {name} in {}, with archgen-runtime's features {}\n  cd {} && cargo run",
        dir.display(),
        generated.model.runtime.for_crate().join(", "),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
