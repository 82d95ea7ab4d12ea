//! The `casebook` command line: parse arguments, call the library, print diagnostics, exit.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use casebook::{BuildOptions, Diagnostic, Error, Session, Severity};

/// Builds allocate many small strings on every core; mimalloc's per-thread
/// heaps cut the time glibc's malloc spent on them by about a third.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "casebook",
    version,
    about = "Build sites that share, replicate and scale climate-innovation practice between cities"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into public/
    Build {
        /// Site folder (holds site.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Output folder [default: ROOT/public]
        #[arg(long)]
        output: Option<PathBuf>,
        /// Override site.toml's base_url
        #[arg(long)]
        base_url: Option<String>,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Print how long each stage took
        #[arg(long)]
        timings: bool,
    },
    /// Validate everything a build would; write nothing
    Check {
        /// Site folder (holds site.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Treat warnings as errors
        #[arg(long)]
        strict: bool,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Build, serve on 127.0.0.1 with live reload, rebuild on every change
    Serve {
        /// Site folder (holds site.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// First port to try (the next nine are tried if it is taken)
        #[arg(long, default_value_t = 1111)]
        port: u16,
        /// Address to bind
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Open the site in a browser
        #[arg(long)]
        open: bool,
    },
    /// Write a new content file with valid front matter and guiding headings
    New {
        /// case-study, playbook, challenge or page
        kind: String,
        /// The title
        title: String,
        /// Site folder (holds site.toml)
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// City key (case study; origin for a playbook; studied city for a challenge)
        #[arg(long)]
        city: Option<String>,
        /// Practice slug
        #[arg(long)]
        practice: Option<String>,
        /// Stage: pilot, replicated, scaled or discontinued
        #[arg(long)]
        stage: Option<String>,
        /// Theme keys, comma-separated
        #[arg(long, value_delimiter = ',')]
        themes: Vec<String>,
    },
    /// Create a new site: site.toml with example cities and themes, one study of each kind
    Init {
        /// Folder to create the site in
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// path:line:col, source line and caret
    Human,
    /// one JSON object per diagnostic, one per line
    Json,
    /// GitHub Actions workflow annotations
    Github,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    match cli.command {
        Command::Build {
            root,
            output,
            base_url,
            drafts,
            timings,
        } => {
            let started = Instant::now();
            let opts = BuildOptions {
                root,
                output,
                base_url,
                drafts,
            };
            let out_dir = opts.output_dir();
            match Session::new(opts).build() {
                Ok(report) => {
                    print_diagnostics(&report.warnings, Format::Human, colour);
                    if timings {
                        for (stage, d) in &report.timings {
                            eprintln!("{:>24}: {:>8.1} ms", stage, d.as_secs_f64() * 1000.0);
                        }
                    }
                    let removed = match report.removed {
                        0 => String::new(),
                        n => format!(", {n} removed"),
                    };
                    println!(
                        "built {} pages ({} files: {} written, {} unchanged{removed}) in {:.2} s into `{}`",
                        report.pages,
                        report.files,
                        report.written,
                        report.unchanged,
                        started.elapsed().as_secs_f64(),
                        out_dir.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, Format::Human, colour),
            }
        }
        Command::Check {
            root,
            drafts,
            strict,
            format,
        } => {
            let opts = BuildOptions {
                root,
                output: None,
                base_url: None,
                drafts,
            };
            match Session::new(opts).check() {
                Ok(report) => {
                    print_diagnostics(&report.warnings, format, colour);
                    let warnings = report.warnings.len();
                    if strict && warnings > 0 {
                        if matches!(format, Format::Human) {
                            eprintln!("check failed: {warnings} warning(s), and --strict treats warnings as errors");
                        }
                        return ExitCode::from(1);
                    }
                    if matches!(format, Format::Human) {
                        eprintln!(
                            "check passed: {} pages, {warnings} warning(s)",
                            report.pages
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, format, colour),
            }
        }
        Command::Serve {
            root,
            port,
            bind,
            drafts,
            open,
        } => serve(root, port, bind, drafts, open, colour),
        Command::New {
            kind,
            title,
            root,
            city,
            practice,
            stage,
            themes,
        } => {
            let req = casebook::scaffold::NewStudy {
                kind,
                title,
                city,
                practice,
                stage,
                themes,
            };
            match casebook::scaffold::new_study(&root, &req, casebook::date::Date::today()) {
                Ok(path) => {
                    println!("{}", path.strip_prefix(".").unwrap_or(&path).display());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e, Format::Human, colour),
            }
        }
        Command::Init { dir } => match casebook::scaffold::init_site(&dir) {
            Ok(files) => {
                for f in files {
                    println!("created {}", f.display());
                }
                println!("next: cd {} && casebook serve", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e, Format::Human, colour),
        },
    }
}

fn serve(
    root: PathBuf,
    port: u16,
    bind: std::net::IpAddr,
    drafts: bool,
    open: bool,
    colour: bool,
) -> ExitCode {
    use casebook::serve::{bind_warning, ServeOptions, Server};
    if let Some(w) = bind_warning(bind) {
        eprintln!("{w}");
    }
    let opts = ServeOptions {
        build: BuildOptions {
            root,
            output: None,
            base_url: None,
            drafts,
        },
        bind,
        port,
    };
    let (mut server, first) = match Server::start(opts) {
        Ok(s) => s,
        Err(e) => return fail(&e, Format::Human, colour),
    };
    if !first.errors.is_empty() {
        print_diagnostics(&first.errors, Format::Human, colour);
        eprintln!("the first build failed; the browser shows these errors until they are fixed");
    }
    println!("serving {} (Ctrl-C to stop)", server.url());
    if open {
        let _ = std::process::Command::new("xdg-open")
            .arg(server.url())
            .spawn();
    }
    let result = server.watch(|outcome, changes| {
        if outcome.errors.is_empty() {
            println!("rebuilt in {} ms ({changes:?})", outcome.took.as_millis());
        } else {
            print_diagnostics(&outcome.errors, Format::Human, colour);
            eprintln!("rebuild failed: still serving the last good site");
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, Format::Human, colour),
    }
}

fn fail(e: &Error, format: Format, colour: bool) -> ExitCode {
    match e {
        Error::Content(diags) => {
            print_diagnostics(diags, format, colour);
            if matches!(format, Format::Human) {
                let n = diags
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                eprintln!(
                    "{n} error{} found; nothing was written",
                    if n == 1 { "" } else { "s" }
                );
            }
        }
        other => eprintln!("error: {other}"),
    }
    ExitCode::from(e.exit_code())
}

fn print_diagnostics(diags: &[Diagnostic], format: Format, colour: bool) {
    for d in diags {
        match format {
            Format::Human => eprint!("{}", d.render(colour)),
            Format::Json => println!("{}", serde_json::to_string(d).unwrap_or_default()),
            Format::Github => println!("{}", github_annotation(d)),
        }
    }
}

fn github_annotation(d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let esc_prop = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
            .replace(':', "%3A")
            .replace(',', "%2C")
    };
    let esc_msg = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let mut props = format!("file={}", esc_prop(&d.path.display().to_string()));
    if d.line > 0 {
        props += &format!(",line={}", d.line);
    }
    if d.column > 0 {
        props += &format!(",col={}", d.column);
    }
    props += &format!(",title={}", esc_prop(d.code));
    let mut msg = d.message.clone();
    if let Some(h) = &d.help {
        msg += &format!("\nhelp: {h}");
    }
    format!("::{level} {props}::{}", esc_msg(&msg))
}
