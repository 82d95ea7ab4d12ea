//! The authoring workflow through the binary: `check` and its formats, `new`, `init`.

mod common;

use common::{case_study, TestSite};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_writes_nothing_and_reports_warnings_strict_makes_them_errors() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/old.md",
        case_study(
            "Old",
            "london",
            "orphan-practice",
            "pilot",
            "2020-01-01",
            "reviewed: 2001-01-01\n",
            "![](/img/x.png)\n",
        )
        .replace("summary: \"About Old.\"\n", ""),
    );
    site.write("content/playbooks/lonely.md", "---\ntitle: Lonely\nkind: playbook\nsummary: s\ndate: 2020-01-01\nthemes: [heat]\npractice: lonely\n---\nx\n");
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!site.public().exists(), "check writes nothing");
    let err = stderr(&out);
    for code in [
        "stale-review",
        "empty-summary",
        "image-without-alt",
        "practice-without-playbook",
        "playbook-without-cases",
    ] {
        assert!(
            err.contains(&format!("warning[{code}]")),
            "{code} missing:\n{err}"
        );
    }
    assert!(
        err.contains("content/case-studies/old.md:9:1: warning[stale-review]"),
        "{err}"
    );
    assert!(
        err.contains("content/case-studies/old.md:12:1: warning[image-without-alt]"),
        "{err}"
    );
    let strict = site.run(&["check", "--strict"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn check_fails_with_exit_1_on_errors_and_2_on_usage() {
    let site = TestSite::new();
    assert_eq!(site.run(&["check"]).status.code(), Some(0));
    site.write(
        "content/case-studies/bad.md",
        case_study(
            "Bad",
            "london",
            "heat-compact",
            "scalled",
            "2020-01-01",
            "",
            "x",
        ),
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("content/case-studies/bad.md:9:8: error[unknown-stage]"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        site.run(&["check", "--format", "xml"]).status.code(),
        Some(2)
    );
}

#[test]
fn check_json_and_github_formats() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/bad.md",
        case_study(
            "Bad",
            "lodnon",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "colour: red\n",
            "x",
        ),
    );
    let json = site.run(&["check", "--format", "json"]);
    assert_eq!(json.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["path"], "content/case-studies/bad.md");
    assert_eq!(lines[0]["line"], 7);
    assert_eq!(lines[0]["column"], 7);
    assert_eq!(lines[0]["severity"], "error");
    assert_eq!(lines[0]["code"], "unknown-city");
    assert_eq!(lines[0]["help"], "did you mean `london`?");
    assert_eq!(lines[1]["code"], "unknown-field");
    assert_eq!(lines[1]["line"], 10);

    let gh = site.run(&["check", "--format", "github"]);
    let out = stdout(&gh);
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("::error file=content/case-studies/bad.md,line=7,col=7,title=unknown-city::unknown city `lodnon`"),
        "{first}"
    );
    assert!(first.contains("%0Ahelp: did you mean `london`?"), "{first}");
}

#[test]
fn human_output_has_no_colour_when_piped() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/bad.md",
        case_study(
            "Bad",
            "lodnon",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "",
            "x",
        ),
    );
    // Without NO_COLOR: being piped alone must turn colour off.
    let out = site
        .command(&["check"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("error[unknown-city]"), "{err}");
    assert!(!err.contains('\x1b'), "no escape codes when piped");
}

#[test]
fn new_writes_valid_files_for_every_kind_and_never_overwrites() {
    let site = TestSite::new();
    for (args, path) in [
        (
            vec![
                "new",
                "case-study",
                "Heat pumps in Valencia",
                "--city",
                "valencia",
                "--practice",
                "heat-compact",
                "--stage",
                "replicated",
                "--themes",
                "heat,procurement",
            ],
            "content/case-studies/heat-pumps-in-valencia.md",
        ),
        (
            vec!["new", "playbook", "Cargo bike hubs", "--city", "london"],
            "content/playbooks/cargo-bike-hubs.md",
        ),
        (
            vec!["new", "challenge", "Grid queues"],
            "content/challenges/grid-queues.md",
        ),
        (vec!["new", "page", "Contact"], "content/contact.md"),
    ] {
        let out = site.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out).trim(), path);
        let again = site.run(&args);
        assert_eq!(again.status.code(), Some(2), "never overwrites");
        assert!(stderr(&again).contains("already exists"));
    }
    let text = std::fs::read_to_string(
        site.root()
            .join("content/case-studies/heat-pumps-in-valencia.md"),
    )
    .unwrap();
    for heading in [
        "## Context",
        "## What was done",
        "## Who was involved",
        "## Results",
        "## What made it work",
        "## Barriers",
        "## How to replicate",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let check = site.run(&["check"]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "new files pass check: {}",
        stderr(&check)
    );
    site.build_ok();
    assert!(site
        .read("case-studies/heat-pumps-in-valencia/index.html")
        .contains("Heat pumps in Valencia"));
}

#[test]
fn new_checks_vocabularies_with_suggestions() {
    let site = TestSite::new();
    let out = site.run(&["new", "case-study", "X", "--city", "lodnon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown city `lodnon`; did you mean `london`?"),
        "{}",
        stderr(&out)
    );
    let out = site.run(&["new", "case-studdy", "X"]);
    assert!(
        stderr(&out).contains("did you mean `case-study`?"),
        "{}",
        stderr(&out)
    );
    let out = site.run(&["new", "case-study", "X", "--stage", "scalled"]);
    assert!(stderr(&out).contains("did you mean `scaled`?"));
    let out = site.run(&["new", "case-study", "X", "--themes", "heat,trainig"]);
    assert!(stderr(&out).contains("did you mean `training`?"));
}

#[test]
fn init_creates_a_site_that_builds_and_checks_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("network");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["init", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["check", "--strict", "--root", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    let build = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["build", "--root", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", stderr(&build));
    assert!(target
        .join("public/case-studies/lyon-shared-retrofit/index.html")
        .exists());
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["init", target.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2), "init never overwrites a site");
}

#[test]
fn editor_temp_files_and_non_markdown_are_ignored() {
    let site = TestSite::new();
    for name in [
        ".heat-edinburgh.md.swp",
        "heat-edinburgh.md~",
        "#heat-edinburgh.md#",
        "4913",
        "heat-edinburgh.md___jb_tmp___",
        "notes.txt",
        "photo.jpg",
    ] {
        site.write(
            &format!("content/case-studies/{name}"),
            "not front matter at all",
        );
    }
    assert_eq!(site.run(&["check"]).status.code(), Some(0));
}

#[test]
fn oversized_unreadable_and_looping_files_are_diagnostics() {
    let site = TestSite::new();
    let big = case_study(
        "Big",
        "london",
        "heat-compact",
        "pilot",
        "2020-01-01",
        "",
        &"x".repeat(3 * 1024 * 1024),
    );
    site.write("content/case-studies/big.md", big);
    std::os::unix::fs::symlink(
        site.root().join("content"),
        site.root().join("content/case-studies/loop"),
    )
    .unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("x.md"),
        case_study(
            "Out",
            "london",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "",
            "x",
        ),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("x.md"),
        site.root().join("content/case-studies/outside.md"),
    )
    .unwrap();
    let errors = site.build_errors();
    let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
    assert!(codes.contains(&"file-too-large"), "{codes:?}");
    assert!(codes.contains(&"symlink-loop"), "{codes:?}");
    assert!(codes.contains(&"symlink-outside-site"), "{codes:?}");
}

#[test]
fn a_content_folder_linked_from_outside_the_site_is_refused_and_one_inside_is_read() {
    let site = TestSite::new();
    let elsewhere = tempfile::tempdir().unwrap();
    common::copy_tree(&site.root().join("content"), elsewhere.path());
    std::fs::remove_dir_all(site.root().join("content")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), site.root().join("content")).unwrap();
    let errors = site.build_errors();
    assert!(
        errors.iter().all(|d| d.code == "symlink-outside-site"),
        "{errors:?}"
    );
    assert!(!errors.is_empty());

    std::fs::remove_file(site.root().join("content")).unwrap();
    common::copy_tree(elsewhere.path(), &site.root().join("notes"));
    std::os::unix::fs::symlink(site.root().join("notes"), site.root().join("content")).unwrap();
    site.build_ok();
    assert!(site.exists("case-studies/index.html"));
}
