//! Test helpers: real sites in temp folders, built through the library or the binary.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use casebook::{BuildOptions, Report, Session};

/// A site in a temp folder, starting from `tests/fixtures/base`.
pub struct TestSite {
    dir: tempfile::TempDir,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

impl TestSite {
    /// The base fixture: three cities, three themes, one playbook and one case study.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixtures().join("base"), dir.path());
        TestSite { dir }
    }

    /// A site with only this site.toml and no content.
    pub fn empty(site_toml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("site.toml"), site_toml).unwrap();
        fs::create_dir_all(dir.path().join("content")).unwrap();
        TestSite { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the site root (folders created).
    pub fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) -> &Self {
        fs::remove_file(self.root().join(rel)).unwrap();
        self
    }

    pub fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) -> &Self {
        let path = self.root().join(rel);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(path, f(text)).unwrap();
        self
    }

    pub fn options(&self) -> BuildOptions {
        BuildOptions::new(self.root())
    }

    pub fn build(&self) -> casebook::Result<Report> {
        Session::new(self.options()).build()
    }

    /// Builds and panics with the rendered diagnostics on failure.
    pub fn build_ok(&self) -> Report {
        match self.build() {
            Ok(r) => r,
            Err(e) => panic!(
                "build failed: {e}\n{}",
                e.diagnostics()
                    .iter()
                    .map(|d| d.render(false))
                    .collect::<String>()
            ),
        }
    }

    /// Builds, expecting content errors, and returns them.
    pub fn build_errors(&self) -> Vec<casebook::Diagnostic> {
        match self.build() {
            Ok(_) => panic!("build unexpectedly succeeded"),
            Err(e) => {
                assert!(!e.diagnostics().is_empty(), "expected diagnostics, got {e}");
                e.diagnostics().to_vec()
            }
        }
    }

    pub fn public(&self) -> PathBuf {
        self.root().join("public")
    }

    /// A file of the built site.
    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.public().join(rel)).unwrap_or_else(|e| panic!("public/{rel}: {e}"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.public().join(rel).exists()
    }

    /// Runs the built binary in the site folder.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).env("NO_COLOR", "1").output().unwrap()
    }

    /// The binary, run in the site folder, for tests that set their own environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casebook"));
        cmd.args(args).current_dir(self.root());
        cmd
    }
}

/// Every file under `dir` with its bytes, sorted by path.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Parses HTML for assertions.
pub fn html(text: &str) -> scraper::Html {
    scraper::Html::parse_document(text)
}

/// Texts of elements matching a CSS selector.
pub fn texts(doc: &scraper::Html, selector: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// Values of an attribute on elements matching a selector.
pub fn attrs(doc: &scraper::Html, selector: &str, attr: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel)
        .filter_map(|e| e.value().attr(attr).map(str::to_owned))
        .collect()
}

/// A valid case study's text with the given extra front-matter lines and body.
pub fn case_study(
    title: &str,
    city: &str,
    practice: &str,
    stage: &str,
    date: &str,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "---\ntitle: \"{title}\"\nkind: case-study\nsummary: \"About {title}.\"\ndate: {date}\nthemes: [heat]\ncity: {city}\npractice: {practice}\nstage: {stage}\n{extra}---\n\n{body}\n"
    )
}

/// Table rows matching a selector, each as its cells' texts joined by one space.
pub fn rows(doc: &scraper::Html, selector: &str) -> Vec<String> {
    let sel = scraper::Selector::parse(selector).unwrap();
    let cell = scraper::Selector::parse("th, td").unwrap();
    doc.select(&sel)
        .map(|row| {
            row.select(&cell)
                .map(|c| {
                    c.text()
                        .collect::<String>()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
