//! The library's error type and the diagnostics it carries.
//!
//! Every problem an author can cause becomes a [`Diagnostic`] that names the
//! file, line and column, says what was expected and what was found, and, for
//! a misspelt word, suggests the closest valid one. A run collects them all
//! before it fails, so one CI run shows every problem at once.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the build.
    Error,
    /// Reported by `check`; an error under `--strict`.
    Warning,
}

/// One problem at one place in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Stable machine-readable code, e.g. `unknown-city`.
    pub code: &'static str,
    /// The file, relative to the site root where possible.
    pub path: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column in characters; 0 when unknown.
    pub column: usize,
    /// What is wrong: what was expected and what was found.
    pub message: String,
    /// How to fix it, e.g. "did you mean `edinburgh`?".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The offending source line, shown with a caret.
    #[serde(skip)]
    pub source_line: Option<String>,
    /// How many characters the caret underlines.
    #[serde(skip)]
    pub span: usize,
}

impl Diagnostic {
    /// An error at `path:line:column`.
    pub fn error(
        code: &'static str,
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            path: path.into(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line: None,
            span: 1,
        }
    }

    /// A warning at `path:line:column`.
    pub fn warning(
        code: &'static str,
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, line, column, message)
        }
    }

    /// Adds a hint on how to fix the problem.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line only when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Attaches the offending source line from the file's text and the length of the underline.
    pub fn with_source(mut self, text: &str, span: usize) -> Self {
        if self.line > 0 {
            self.source_line = text.lines().nth(self.line - 1).map(str::to_owned);
        }
        self.span = span.max(1);
        self
    }

    /// `path:line:col` as editors and CI annotations expect it.
    pub fn location(&self) -> String {
        let path = self.path.display();
        match (self.line, self.column) {
            (0, _) => format!("{path}"),
            (line, 0) => format!("{path}:{line}"),
            (line, col) => format!("{path}:{line}:{col}"),
        }
    }

    /// The human form: `path:line:col: error[code]: message`, the source line with a caret, help.
    pub fn render(&self, colour: bool) -> String {
        let (red, yellow, blue, bold, reset) = if colour {
            (
                "\x1b[31;1m",
                "\x1b[33;1m",
                "\x1b[34;1m",
                "\x1b[1m",
                "\x1b[0m",
            )
        } else {
            ("", "", "", "", "")
        };
        let (label, tint) = match self.severity {
            Severity::Error => ("error", red),
            Severity::Warning => ("warning", yellow),
        };
        let mut out = format!(
            "{bold}{}{reset}: {tint}{label}[{}]{reset}: {bold}{}{reset}\n",
            self.location(),
            self.code,
            self.message
        );
        let gutter = self.line.to_string().len();
        if let Some(src) = &self.source_line {
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{blue}{pad} |{reset}");
            let _ = writeln!(out, "{blue}{} |{reset} {}", self.line, src);
            if self.column > 0 {
                let lead: String = src
                    .chars()
                    .take(self.column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(
                    out,
                    "{blue}{pad} |{reset} {lead}{tint}{}{reset}",
                    "^".repeat(self.span)
                );
            }
        }
        if let Some(help) = &self.help {
            let pad = " ".repeat(gutter);
            let _ = writeln!(out, "{blue}{pad} ={reset} {bold}help{reset}: {help}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Sorts diagnostics by file, then line and column, so output is stable.
pub fn sort_diagnostics(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.severity, a.code, &a.message)
            .cmp(&(&b.path, b.line, b.column, b.severity, b.code, &b.message))
    });
}

/// Everything that can stop a casebook command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The site's files have problems; each is a diagnostic.
    #[error("{} {} found", .0.len(), if .0.len() == 1 { "problem" } else { "problems" })]
    Content(Vec<Diagnostic>),
    /// The command was asked to do something it must not (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("failed to {action} `{}`: {source}", .path.display())]
    Io {
        /// What was being done, e.g. "write".
        action: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
}

impl Error {
    /// The process exit status this error maps to: 1 for content, 2 for usage.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Content(_) | Error::Io { .. } => 1,
        }
    }

    /// The diagnostics of a content error; empty for other errors.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Content(d) => d,
            _ => &[],
        }
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an I/O error with the action and path, as every file helper must.
pub(crate) fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> Error + 'a {
    move |source| Error::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The closest candidate to `word` when it is close enough to be a likely typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        let score = if cand.to_lowercase() == lower {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &cand.to_lowercase())
        };
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c.to_owned())
}

/// "did you mean `x`?" for a help line.
pub fn suggestion<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let cities = ["edinburgh", "london", "birmingham", "frankfurt", "valencia"];
        assert_eq!(
            did_you_mean("edinbrugh", cities).as_deref(),
            Some("edinburgh")
        );
        assert_eq!(
            did_you_mean("Valencia", cities).as_deref(),
            Some("valencia")
        );
        assert_eq!(did_you_mean("tokyo", cities), None);
    }

    #[test]
    fn renders_location_source_and_caret() {
        let d = Diagnostic::error("unknown-city", "content/a.md", 3, 7, "unknown city `lndon`")
            .with_help("did you mean `london`?")
            .with_source("---\ntitle: x\ncity: lndon\n", 5);
        let text = d.render(false);
        assert!(text.starts_with("content/a.md:3:7: error[unknown-city]: unknown city `lndon`\n"));
        assert!(text.contains("3 | city: lndon\n"));
        assert!(text.contains("  |       ^^^^^\n"), "{text}");
        assert!(text.contains("= help: did you mean `london`?"));
    }
}
