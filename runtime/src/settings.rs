//! Every environment variable a generated service reads, in one table: what `--help` prints and
//! what `docs/configuration.md` shows. A test (`runtime/tests/settings.rs`) fails when a variable
//! read anywhere in the runtime is missing here, or when the doc differs from the table.
//!
//! A service's `main` answers `--help` with it:
//!
//! ```no_run
//! # fn main() -> Result<(), archgen_runtime::BoxError> {
//! use archgen_runtime as rt;
//! if rt::settings::help_requested() {
//!     print!("{}", rt::settings::help("my-service"));
//!     return Ok(());
//! }
//! # Ok(()) }
//! ```

/// One environment variable: its name, its default as the service sees it (empty when unset
/// means off or none), and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub description: &'static str,
}

const fn setting(name: &'static str, default: &'static str, description: &'static str) -> Setting {
    Setting {
        name,
        default,
        description,
    }
}

/// Every setting, grouped: serving, protections, storage and cache, events, authentication,
/// development.
pub static SETTINGS: &[Setting] = &[
    // Serving (server.rs).
    setting("PORT", "8080", "Port to listen on, on every interface."),
    setting(
        "DATABASE_URL",
        "sqlite://<service>.db",
        "Database: `postgres://...` or `sqlite://...`. The default is an SQLite file named after the service in the working directory.",
    ),
    setting(
        "RUST_LOG",
        "info",
        "Log filter in tracing's `EnvFilter` syntax, e.g. `info,sqlx=warn`. Logs go to stderr; `debug` adds a line per answered request.",
    ),
    setting(
        "ARCHGEN_LOG_FORMAT",
        "text",
        "`text` for people, or `json` for one JSON object per line (log collectors). Every line logged while answering a request carries its id, method and path.",
    ),
    setting(
        "ARCHGEN_SHUTDOWN_TIMEOUT",
        "30",
        "Seconds that requests in flight may run on after SIGTERM or Ctrl-C; those still running then are answered 503 and the service exits. `0` cuts them at once.",
    ),
    // Protections (limits.rs).
    setting(
        "ARCHGEN_BODY_LIMIT",
        "1048576",
        "Largest request body accepted, in bytes (1 MiB); larger ones are answered 413.",
    ),
    setting(
        "ARCHGEN_REQUEST_TIMEOUT",
        "30",
        "Seconds a request may take (fractions allowed) before it is answered 503 and its work dropped.",
    ),
    setting(
        "ARCHGEN_CORS_ORIGINS",
        "",
        "Comma-separated origins browsers may call the service from, or `*` for any. Unset: none (CORS closed).",
    ),
    setting(
        "ARCHGEN_RATE_LIMIT",
        "",
        "Requests per minute per caller (the principal, else the client's address); over it, 429 with Retry-After. Unset: no limit.",
    ),
    // Cache (cache/).
    setting(
        "ARCHGEN_CACHE",
        "",
        "Cache for reads: `memory` (feature `cache`), `redis` or `off`. Unset: `redis` when REDIS_URL is set, else `memory` where built in.",
    ),
    setting(
        "ARCHGEN_CACHE_PREFIX",
        "",
        "Prefix for every cache key, so services can share one Redis.",
    ),
    setting(
        "REDIS_URL",
        "",
        "Redis server (`redis://host:6379`) for the cache, and for events with ARCHGEN_EVENTS=redis. Needs the runtime's `redis` feature.",
    ),
    // Events (events/).
    setting(
        "ARCHGEN_EVENTS",
        "",
        "Event broker: `memory` (in-process), `nats` or `redis` (Redis Streams). Unset: `nats` when NATS_URL is set, else `memory`.",
    ),
    setting(
        "NATS_URL",
        "",
        "NATS server (`nats://host:4222`) with JetStream; setting it turns on NATS for events. Needs the runtime's `nats` feature.",
    ),
    setting(
        "HOSTNAME",
        "",
        "This host's name, which names its Redis Streams consumers. Unset: /etc/hostname, else `archgen`.",
    ),
    // Authentication (auth/): at most one of JWT_SECRET, JWT_PUBLIC_KEY and JWT_JWKS.
    setting(
        "JWT_SECRET",
        "",
        "HS256 secret that bearer JWTs are verified with (32 bytes or more). Every JWT_ setting needs the runtime's `jwt` feature.",
    ),
    setting(
        "JWT_PUBLIC_KEY",
        "",
        "PEM public key, or the path of one, that bearer JWTs are verified with (RS256, ES256).",
    ),
    setting(
        "JWT_JWKS",
        "",
        "Path of a JWKS file whose keys bearer JWTs are verified with, picked by the token's `kid`.",
    ),
    setting(
        "JWT_ISSUER",
        "",
        "Issuer (`iss`) bearer JWTs must name; comma-separated for several. Unset: not checked.",
    ),
    setting(
        "JWT_AUDIENCE",
        "",
        "Audience (`aud`) bearer JWTs must name; comma-separated for several. Unset: not checked.",
    ),
    setting(
        "JWT_LEEWAY",
        "30",
        "Seconds of clock skew allowed when checking a token's `exp` and `nbf`.",
    ),
    setting(
        "JWT_ORGANIZATION_CLAIM",
        "org",
        "Claim holding the caller's organization (a UUID), for tenant-scoped operations.",
    ),
    // Development (server.rs).
    setting(
        "ARCHGEN_DEV_ORGANIZATION",
        "",
        "Development only: a UUID every request acts for, as if its caller belonged to that organization. Never set it in production.",
    ),
];

/// Whether the command line asks for help (`--help` or `-h`).
pub fn help_requested() -> bool {
    std::env::args_os()
        .skip(1)
        .any(|arg| arg == "--help" || arg == "-h")
}

/// How `--help` shows a setting that has no default.
const UNSET: &str = "-";

/// Width `--help` wraps the meanings to.
const WIDTH: usize = 100;

/// The `--help` text of `service`: a usage line, then every setting as an aligned table.
pub fn help(service: &str) -> String {
    let name_width = SETTINGS
        .iter()
        .map(|s| s.name.len())
        .chain(["VARIABLE".len()])
        .max()
        .unwrap_or(0);
    let default_width = SETTINGS
        .iter()
        .map(|s| shown_default(s, service).chars().count())
        .chain(["DEFAULT".len()])
        .max()
        .unwrap_or(0);
    let indent = 2 + name_width + 2 + default_width + 2;
    let meaning_width = WIDTH.saturating_sub(indent).max(30);

    let mut out = format!(
        "Usage: {service} [--help]\n\n\
         Serves the {service} API over HTTP. Configured by environment variables:\n\n"
    );
    let row = |out: &mut String, name: &str, default: &str, meaning: &str| {
        let lines = wrap(meaning, meaning_width);
        let mut lines = lines.iter();
        let first = lines.next().map_or("", String::as_str);
        let line = format!("  {name:<name_width$}  {default:<default_width$}  {first}");
        out.push_str(line.trim_end());
        out.push('\n');
        for more in lines {
            out.push_str(&" ".repeat(indent));
            out.push_str(more);
            out.push('\n');
        }
    };
    row(&mut out, "VARIABLE", "DEFAULT", "MEANING");
    for s in SETTINGS {
        row(&mut out, s.name, &shown_default(s, service), s.description);
    }
    out
}

/// The default as `--help` shows it: `-` when unset, and with the service's own name in place of
/// `<service>`.
fn shown_default(setting: &Setting, service: &str) -> String {
    if setting.default.is_empty() {
        UNSET.to_string()
    } else {
        setting.default.replace("<service>", service)
    }
}

/// `text` in lines of at most `width` characters, broken between words (a longer word gets a
/// line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Every setting as a Markdown table, as `docs/configuration.md` shows it.
pub fn markdown_table() -> String {
    let mut out = String::from("| Variable | Default | Meaning |\n| --- | --- | --- |\n");
    for s in SETTINGS {
        let default = if s.default.is_empty() {
            "unset".to_string()
        } else {
            format!("`{}`", s.default)
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            s.name,
            default,
            s.description.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_upper_case() {
        let mut seen = std::collections::HashSet::new();
        for s in SETTINGS {
            assert!(seen.insert(s.name), "{} is listed twice", s.name);
            assert!(
                s.name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{} is not an environment variable name",
                s.name
            );
            assert!(!s.description.is_empty(), "{} has no description", s.name);
        }
    }

    #[test]
    fn help_lists_every_setting_aligned() {
        let text = help("platform");
        assert!(text.starts_with("Usage: platform [--help]\n"));
        let header = text
            .lines()
            .find(|l| l.trim_start().starts_with("VARIABLE"))
            .expect("a header row");
        let default_column = header.find("DEFAULT").unwrap();
        let meaning_column = header.find("MEANING").unwrap();
        for s in SETTINGS {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("  {} ", s.name)))
                .unwrap_or_else(|| panic!("{} missing from --help", s.name));
            let default = line[default_column..].split_whitespace().next().unwrap();
            assert_eq!(default, shown_default(s, "platform"), "{line}");
            let first_word = line[meaning_column..].split_whitespace().next().unwrap();
            assert!(s.description.starts_with(first_word), "{line}");
        }
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line}");
        }
    }

    #[test]
    fn markdown_has_a_row_per_setting() {
        let table = markdown_table();
        assert_eq!(table.lines().count(), SETTINGS.len() + 2);
        assert!(table.contains("| `PORT` | `8080` |"));
        assert!(table.contains("| `DATABASE_URL` | `sqlite://<service>.db` |"));
        assert!(help("platform").contains(" sqlite://platform.db "));
    }

    #[test]
    fn wrapping_keeps_every_word() {
        let text = "a bb ccc dddd eeeee";
        let lines = wrap(text, 6);
        assert!(lines.iter().all(|l| l.len() <= 6));
        assert_eq!(lines.join(" "), text);
        assert_eq!(wrap("", 10), vec![String::new()]);
    }
}
