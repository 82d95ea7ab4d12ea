//! Real-browser tests: Debian chromium (headless) through playwright-core.
//! They print a clear SKIPPED line when node, chromium or playwright-core is
//! missing, so `cargo test` passes on a fresh machine; `.ci/run` installs all three.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use common::TestSite;

fn browser_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser"))
}

/// Why the browser tests cannot run here, if they cannot.
fn missing() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !browser_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed (npm ci --prefix tests/browser)".into());
    }
    None
}

/// Says loudly that a test skipped: written to the real stderr, past the test harness's capture.
fn skipped(test: &str, why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Runs `browser.mjs` with `args` and fails the test with its output unless it succeeds.
fn node(args: &[&str]) {
    let out = Command::new("node")
        .arg(browser_dir().join("browser.mjs"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child process that is killed when the test ends, pass or fail.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

/// Starts `casebook serve` on a free port; returns the running server and the URL it printed.
fn serve(site: &TestSite) -> (KillOnDrop, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["serve", "--port", "0"])
        .current_dir(site.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .nth(1)
        .expect("serve prints its URL")
        .to_owned();
    (KillOnDrop(child), url)
}

#[test]
fn the_page_shows_an_edit_without_a_manual_reload() {
    if let Some(why) = missing() {
        skipped("the_page_shows_an_edit_without_a_manual_reload", &why);
        return;
    }
    let site = TestSite::new();
    let (_server, url) = serve(&site);
    let file = site.root().join("content/case-studies/heat-edinburgh.md");
    node(&[
        "live-reload",
        &format!("{url}case-studies/heat-edinburgh/"),
        file.to_str().unwrap(),
        "Good.",
        "Edited in the browser test.",
    ]);
}

#[test]
fn search_finds_a_study_by_typed_query() {
    if let Some(why) = missing() {
        skipped("search_finds_a_study_by_typed_query", &why);
        return;
    }
    let site = TestSite::new();
    let (_server, url) = serve(&site);
    node(&[
        "search",
        &format!("{url}search/"),
        "heat comp",
        "Heat Compact in Edinburgh",
    ]);
}
