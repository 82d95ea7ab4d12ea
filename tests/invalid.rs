//! One fixture per validation rule (`tests/fixtures/invalid/<name>/`, laid over
//! the base site): each must fail with its code, at its file and line, saying
//! what was expected and, for a misspelling, the nearest valid word.

mod common;

use common::{copy_tree, fixtures, TestSite};

struct Expect {
    fixture: &'static str,
    code: &'static str,
    path: &'static str,
    line: usize,
    column: Option<usize>,
    message: &'static str,
    help: Option<&'static str>,
}

const CS: &str = "content/case-studies/x.md";

fn expect(
    fixture: &'static str,
    code: &'static str,
    path: &'static str,
    line: usize,
    message: &'static str,
) -> Expect {
    Expect {
        fixture,
        code,
        path,
        line,
        column: None,
        message,
        help: None,
    }
}

impl Expect {
    fn col(mut self, c: usize) -> Self {
        self.column = Some(c);
        self
    }
    fn help(mut self, h: &'static str) -> Self {
        self.help = Some(h);
        self
    }
}

fn cases() -> Vec<Expect> {
    vec![
        expect(
            "unknown-field",
            "unknown-field",
            CS,
            4,
            "unknown field `summery`",
        )
        .col(1)
        .help("did you mean `summary`?"),
        expect(
            "unknown-city",
            "unknown-city",
            CS,
            7,
            "expected one of the cities in site.toml: edinburgh, london, valencia",
        )
        .col(7)
        .help("did you mean `london`?"),
        expect(
            "unknown-theme",
            "unknown-theme",
            CS,
            6,
            "unknown theme `procurment`",
        )
        .col(16)
        .help("did you mean `procurement`?"),
        expect(
            "unknown-kind",
            "unknown-kind",
            CS,
            3,
            "expected one of case-study, playbook, challenge, page",
        )
        .col(7)
        .help("did you mean `case-study`?"),
        expect(
            "unknown-stage",
            "unknown-stage",
            CS,
            9,
            "expected one of pilot, replicated, scaled, discontinued",
        )
        .col(8)
        .help("did you mean `scaled`?"),
        expect(
            "wrong-type-list",
            "wrong-type",
            CS,
            6,
            "`themes` must be a list; found the text `heat`",
        )
        .help("write `themes: [heat]`"),
        expect(
            "wrong-type-bool",
            "wrong-type",
            CS,
            10,
            "`draft` must be `true` or `false`; found the text `no`",
        ),
        expect(
            "wrong-type-number",
            "wrong-type",
            CS,
            11,
            "`outcomes` value must be a number; found the text `lots`",
        ),
        expect(
            "missing-field",
            "missing-field",
            CS,
            1,
            "missing `city`; a case-study requires it",
        )
        .help("add `city: edinburgh` to the front matter"),
        expect(
            "invalid-date",
            "invalid-date",
            CS,
            5,
            "must be a calendar date written `YYYY-MM-DD`; found `2020-02-30`",
        )
        .col(7),
        expect(
            "updated-before-date",
            "updated-before-date",
            CS,
            6,
            "`updated` (2019-12-31) is before `date` (2020-03-01)",
        ),
        expect(
            "replicated-from-own-city",
            "replicated-from-own-city",
            CS,
            10,
            "the study's own city",
        )
        .col(18),
        expect(
            "field-not-for-kind",
            "field-not-for-kind",
            "content/playbooks/p.md",
            7,
            "`city` does not apply to a playbook",
        ),
        expect(
            "duplicate-playbook",
            "duplicate-playbook",
            "content/playbooks/second.md",
            6,
            "already has a playbook, `content/playbooks/heat-compact.md`",
        ),
        expect(
            "duplicate-url",
            "duplicate-url",
            "content/case-studies/b.md",
            3,
            "`/case-studies/a/`, which `content/case-studies/a.md` also uses",
        ),
        expect(
            "invalid-slug",
            "invalid-slug",
            CS,
            3,
            "found `../../etc/passwd`",
        )
        .help("did you mean `etc-passwd`?"),
        expect(
            "invalid-sdg",
            "invalid-sdg",
            CS,
            10,
            "Sustainable Development Goal numbers 1–17; found the number `18`",
        ),
        expect(
            "unknown-practice",
            "unknown-practice",
            "content/challenges/c.md",
            6,
            "unknown practice `heat-compcat`",
        )
        .help("did you mean `heat-compact`?"),
        expect("empty-file", "empty-file", CS, 1, "the file is empty"),
        expect(
            "missing-front-matter",
            "missing-front-matter",
            CS,
            1,
            "expected the file to start with a `---` line",
        ),
        expect(
            "unclosed-front-matter",
            "unclosed-front-matter",
            CS,
            1,
            "never closed; expected a `---` line",
        ),
        expect("not-utf8", "not-utf8", CS, 12, "is not valid UTF-8").col(4),
        expect(
            "javascript-url",
            "javascript-url",
            CS,
            12,
            "link to a `javascript:` URL",
        )
        .col(7),
        expect(
            "missing-link-target",
            "missing-link-target",
            CS,
            12,
            "points to `content/playbooks/heat-compcat.md`, which does not exist",
        )
        .col(5)
        .help("did you mean `content/playbooks/heat-compact.md`?"),
        expect(
            "missing-anchor",
            "missing-anchor",
            CS,
            12,
            "has no heading `#how-to-replicat`",
        )
        .help("did you mean `how-to-replicate`?"),
        expect(
            "invalid-currency",
            "invalid-currency",
            CS,
            11,
            "three-letter ISO 4217 code; found `eur`",
        )
        .help("did you mean `EUR`?"),
    ]
}

fn site_with(fixture: &str) -> TestSite {
    let site = TestSite::new();
    copy_tree(&fixtures().join("invalid").join(fixture), site.root());
    site
}

#[test]
fn every_rule_has_a_fixture_that_fails_at_its_file_and_line() {
    let mut failures = Vec::new();
    for e in cases() {
        let site = site_with(e.fixture);
        let errors = site.build_errors();
        let Some(d) = errors.iter().find(|d| d.code == e.code) else {
            failures.push(format!(
                "{}: no `{}` among {:?}",
                e.fixture,
                e.code,
                errors.iter().map(|d| d.code).collect::<Vec<_>>()
            ));
            continue;
        };
        let mut problems = Vec::new();
        if d.path != std::path::Path::new(e.path) {
            problems.push(format!("path {:?}", d.path));
        }
        if d.line != e.line {
            problems.push(format!("line {}", d.line));
        }
        if e.column.is_some_and(|c| c != d.column) {
            problems.push(format!("column {}", d.column));
        }
        if !d.message.contains(e.message) {
            problems.push(format!("message {:?}", d.message));
        }
        if e.help.is_some() && d.help.as_deref() != e.help {
            problems.push(format!("help {:?}", d.help));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", e.fixture, problems.join(", ")));
        }
        assert!(
            !site.public().exists(),
            "{}: a failed build wrote output",
            e.fixture
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn hostile_yaml_fails_fast_with_a_syntax_error() {
    for fixture in ["yaml-syntax", "alias-bomb", "deep-nesting"] {
        let start = std::time::Instant::now();
        let errors = site_with(fixture).build_errors();
        assert_eq!(errors[0].code, "yaml-syntax", "{fixture}: {errors:?}");
        assert!(
            errors[0].line >= 2,
            "{fixture}: positions are file lines, after the opening fence: {:?}",
            errors[0]
        );
        assert!(
            errors[0].message.starts_with("invalid YAML: "),
            "{fixture}: the parser's reason is kept: {}",
            errors[0].message
        );
        assert!(
            start.elapsed().as_secs() < 10,
            "{fixture} took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn all_problems_of_a_run_are_reported_together_and_sorted() {
    let site = TestSite::new();
    for f in ["unknown-city", "unknown-field", "field-not-for-kind"] {
        copy_tree(&fixtures().join("invalid").join(f), site.root());
    }
    // Two fixtures write the same x.md; give the second its own name.
    copy_tree(
        &fixtures().join("invalid/unknown-stage"),
        &site.root().join("tmp"),
    );
    std::fs::rename(
        site.root().join("tmp/content/case-studies/x.md"),
        site.root().join("content/case-studies/y.md"),
    )
    .unwrap();
    let errors = site.build_errors();
    let got: Vec<(String, usize)> = errors
        .iter()
        .map(|d| (d.path.display().to_string(), d.line))
        .collect();
    assert_eq!(
        got,
        [
            ("content/case-studies/x.md".to_owned(), 4),
            ("content/case-studies/y.md".to_owned(), 9),
            ("content/playbooks/p.md".to_owned(), 7)
        ]
    );
}
