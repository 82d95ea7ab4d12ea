//! Typed studies and their validation against SPEC §3.
//!
//! [`parse_study`] turns one source file into a [`Study`], collecting every
//! problem of that file; [`check_corpus`] then applies the rules that span
//! files (two playbooks for one practice, unknown practices).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::date::Date;
use crate::error::{suggestion, Diagnostic};
use crate::front_matter::{locate, parse_front_matter, Field, FrontMatter, Value};
use crate::source::SourceFile;
use crate::text::slugify;

/// What a content file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// What one city did: a practice at a stage.
    CaseStudy,
    /// How to replicate a practice.
    Playbook,
    /// A structural challenge that holds low-carbon solutions back.
    Challenge,
    /// A plain page such as About.
    Page,
}

impl Kind {
    /// Every kind, in display order.
    pub const ALL: [Kind; 4] = [Kind::CaseStudy, Kind::Playbook, Kind::Challenge, Kind::Page];
    /// The kinds that are studies (dated, themed, listed, in feeds).
    pub const STUDIES: [Kind; 3] = [Kind::CaseStudy, Kind::Playbook, Kind::Challenge];

    /// The front-matter word: `case-study`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CaseStudy => "case-study",
            Kind::Playbook => "playbook",
            Kind::Challenge => "challenge",
            Kind::Page => "page",
        }
    }

    /// Parses the front-matter word.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The URL section and folder: `case-studies`.
    pub fn section(self) -> &'static str {
        match self {
            Kind::CaseStudy => "case-studies",
            Kind::Playbook => "playbooks",
            Kind::Challenge => "challenges",
            Kind::Page => "",
        }
    }

    /// Singular label for readers.
    pub fn label(self) -> &'static str {
        match self {
            Kind::CaseStudy => "Case study",
            Kind::Playbook => "Replication playbook",
            Kind::Challenge => "Structural challenge",
            Kind::Page => "Page",
        }
    }

    /// Plural label for readers.
    pub fn label_plural(self) -> &'static str {
        match self {
            Kind::CaseStudy => "Case studies",
            Kind::Playbook => "Replication playbooks",
            Kind::Challenge => "Structural challenges",
            Kind::Page => "Pages",
        }
    }

    /// Whether this kind is a study.
    pub fn is_study(self) -> bool {
        self != Kind::Page
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a practice has got in a city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Tried for the first time there.
    Pilot,
    /// Adopted from elsewhere.
    Replicated,
    /// Rolled out at scale.
    Scaled,
    /// Stopped: a result too.
    Discontinued,
}

impl Stage {
    /// Every stage.
    pub const ALL: [Stage; 4] = [
        Stage::Pilot,
        Stage::Replicated,
        Stage::Scaled,
        Stage::Discontinued,
    ];

    /// The front-matter word.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pilot => "pilot",
            Stage::Replicated => "replicated",
            Stage::Scaled => "scaled",
            Stage::Discontinued => "discontinued",
        }
    }

    /// Parses the front-matter word.
    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Label for readers.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Pilot => "Pilot",
            Stage::Replicated => "Replicated",
            Stage::Scaled => "Scaled",
            Stage::Discontinued => "Discontinued",
        }
    }

    /// A symbol that tells the stage apart without colour.
    pub fn symbol(self) -> &'static str {
        match self {
            Stage::Pilot => "○",
            Stage::Replicated => "◐",
            Stage::Scaled => "●",
            Stage::Discontinued => "✕",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measured result of a case study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// What was measured, e.g. "CO2 avoided".
    pub metric: String,
    /// The value.
    pub value: f64,
    /// Its unit, e.g. "t/yr".
    pub unit: String,
    /// The value before, when known.
    pub baseline: Option<f64>,
    /// The year measured.
    pub year: Option<i64>,
    /// A URL or citation.
    pub source: Option<String>,
}

/// Money behind a case study.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funding {
    /// Who paid, e.g. "ERDF".
    pub source: String,
    /// How much.
    pub amount: Option<f64>,
    /// ISO 4217 code.
    pub currency: Option<String>,
}

/// A validated content file.
#[derive(Debug, Clone, Serialize)]
pub struct Study {
    /// Path relative to the site root (`content/x.md`).
    pub path: PathBuf,
    /// Path relative to `content/`.
    pub rel: PathBuf,
    /// Hash of the file's text.
    #[serde(skip)]
    pub hash: u64,
    /// What it is.
    pub kind: Kind,
    /// Title.
    pub title: String,
    /// One or two sentences; empty when not given.
    pub summary: String,
    /// When the study was published.
    pub date: Option<Date>,
    /// When it was last updated.
    pub updated: Option<Date>,
    /// Built only with `--drafts`.
    pub draft: bool,
    /// The last URL segment.
    pub slug: String,
    /// Authors.
    pub authors: Vec<String>,
    /// Theme keys.
    pub themes: Vec<String>,
    /// City key (case study).
    pub city: Option<String>,
    /// Practice slug (case study, playbook).
    pub practice: Option<String>,
    /// Stage (case study).
    pub stage: Option<Stage>,
    /// City key the practice was learned from (case study).
    pub replicated_from: Option<String>,
    /// City key where the practice was first developed (playbook).
    pub origin: Option<String>,
    /// City keys (challenge).
    pub cities: Vec<String>,
    /// Practice slugs (challenge).
    pub practices: Vec<String>,
    /// Organisations involved (case study).
    pub partners: Vec<String>,
    /// Free-text period, e.g. "2018–2020".
    pub period: Option<String>,
    /// Measured results.
    pub outcomes: Vec<Outcome>,
    /// Funding.
    pub funding: Vec<Funding>,
    /// UN SDG numbers.
    pub sdgs: Vec<u8>,
    /// When the content was last checked.
    pub reviewed: Option<Date>,
    /// The route, e.g. `case-studies/x/`.
    pub route: String,
    /// The Markdown body, shared with the caches of `serve`.
    #[serde(skip)]
    pub body: Arc<str>,
    /// File line on which the body starts.
    #[serde(skip)]
    pub body_line: usize,
    /// Where key fields sit in the file, for cross-file diagnostics.
    #[serde(skip)]
    pub positions: BTreeMap<&'static str, (usize, usize)>,
}

impl Study {
    /// Whether everything but the body (and where fields sit in the file) is the same:
    /// then every output except the study's own page, feeds and search is unchanged.
    pub fn same_metadata(&self, o: &Study) -> bool {
        self.rel == o.rel
            && self.kind == o.kind
            && self.title == o.title
            && self.summary == o.summary
            && self.date == o.date
            && self.updated == o.updated
            && self.draft == o.draft
            && self.slug == o.slug
            && self.authors == o.authors
            && self.themes == o.themes
            && self.city == o.city
            && self.practice == o.practice
            && self.stage == o.stage
            && self.replicated_from == o.replicated_from
            && self.origin == o.origin
            && self.cities == o.cities
            && self.practices == o.practices
            && self.partners == o.partners
            && self.period == o.period
            && self.outcomes == o.outcomes
            && self.funding == o.funding
            && self.sdgs == o.sdgs
            && self.reviewed == o.reviewed
            && self.route == o.route
            && self.path == o.path
    }

    /// `updated`, else `date`.
    pub fn last_modified(&self) -> Option<Date> {
        self.updated.or(self.date)
    }

    /// Position of a field for diagnostics (line 1 when absent).
    pub fn position(&self, key: &str) -> (usize, usize) {
        self.positions.get(key).copied().unwrap_or((1, 1))
    }
}

const ALL_FIELDS: [&str; 22] = [
    "title",
    "kind",
    "summary",
    "date",
    "updated",
    "draft",
    "slug",
    "authors",
    "themes",
    "city",
    "practice",
    "stage",
    "replicated_from",
    "origin",
    "cities",
    "practices",
    "partners",
    "period",
    "outcomes",
    "funding",
    "sdgs",
    "reviewed",
];

/// Whether `key` belongs on a file of `kind` (SPEC §3, column "kinds").
fn field_allowed(kind: Kind, key: &str) -> bool {
    use Kind::*;
    match key {
        "title" | "kind" | "summary" | "updated" | "draft" | "slug" | "authors" | "reviewed" => {
            true
        }
        "date" | "themes" | "sdgs" => kind.is_study(),
        "city" | "stage" | "replicated_from" | "partners" | "period" | "outcomes" | "funding" => {
            kind == CaseStudy
        }
        "practice" => matches!(kind, CaseStudy | Playbook),
        "origin" => kind == Playbook,
        "cities" | "practices" => kind == Challenge,
        _ => false,
    }
}

/// Reads one file's fields, collecting every problem.
struct Reader<'a> {
    file: &'a SourceFile,
    diags: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    fn report(
        &mut self,
        field: &Field,
        needle: &str,
        code: &'static str,
        message: String,
        help: Option<String>,
    ) {
        let (line, column) = locate(&self.file.text, field, needle);
        let span = if (line, column) == (field.line, field.column) {
            field.key.chars().count()
        } else {
            needle.chars().count()
        };
        self.diags.push(
            Diagnostic::error(code, self.file.path.clone(), line, column, message)
                .with_source(&self.file.text, span)
                .with_help_opt(help),
        );
    }

    fn wrong_type(&mut self, field: &Field, expected: &str, found: &Value, help: Option<String>) {
        let message = format!(
            "`{}` must be {expected}; found {}",
            field.key,
            found.describe()
        );
        self.report(field, "", "wrong-type", message, help);
    }

    fn scalar_text(v: &Value) -> Option<String> {
        match v {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }

    fn text(&mut self, f: &Field) -> Option<String> {
        let t = Self::scalar_text(&f.value);
        if t.is_none() {
            self.wrong_type(
                f,
                "text",
                &f.value,
                Some(format!("write `{}: \"…\"`", f.key)),
            );
        }
        t.map(|s| s.trim().to_owned())
    }

    fn texts(&mut self, f: &Field) -> Option<Vec<String>> {
        match &f.value {
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match Self::scalar_text(item) {
                        Some(s) => out.push(s.trim().to_owned()),
                        None => {
                            self.wrong_type(f, "a list of text items", item, None);
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::Null => Some(Vec::new()),
            other => {
                let example = Self::scalar_text(other).map_or("…".to_owned(), |s| s);
                self.wrong_type(
                    f,
                    "a list",
                    other,
                    Some(format!("write `{}: [{example}]`", f.key)),
                );
                None
            }
        }
    }

    fn boolean(&mut self, f: &Field) -> Option<bool> {
        match f.value {
            Value::Bool(b) => Some(b),
            ref other => {
                self.wrong_type(f, "`true` or `false`", other, None);
                None
            }
        }
    }

    fn date(&mut self, f: &Field) -> Option<Date> {
        let raw = match &f.value {
            Value::Str(s) => s.clone(),
            other => {
                self.wrong_type(
                    f,
                    "a date written `YYYY-MM-DD`",
                    other,
                    Some(format!("write `{}: 2024-03-31`", f.key)),
                );
                return None;
            }
        };
        let d = Date::parse(raw.trim());
        if d.is_none() {
            self.report(
                f,
                &raw,
                "invalid-date",
                format!(
                    "`{}` must be a calendar date written `YYYY-MM-DD`; found `{raw}`",
                    f.key
                ),
                Some("write the date as year-month-day, e.g. `2024-03-31`".into()),
            );
        }
        d
    }

    fn vocab(
        &mut self,
        f: &Field,
        word: &str,
        vocab: &[&str],
        what: &str,
        code: &'static str,
    ) -> bool {
        if vocab.contains(&word) {
            return true;
        }
        let listed = if vocab.len() <= 12 {
            format!(": {}", vocab.join(", "))
        } else {
            String::new()
        };
        let help = suggestion(word, vocab.iter().copied()).or_else(|| {
            (vocab.len() <= 12)
                .then(|| format!("add it to `[[{what}]]` in site.toml, or use one of{listed}"))
        });
        let where_from = if what == "cities" || what == "themes" {
            " in site.toml"
        } else {
            ""
        };
        self.report(
            f,
            word,
            code,
            format!(
                "unknown {} `{word}` in `{}`; expected one of the {what}{where_from}{listed}",
                &what[..what.len() - 1].replace("citie", "city"),
                f.key
            ),
            help,
        );
        false
    }

    fn slug_value(&mut self, f: &Field, s: &str, what: &str) -> bool {
        let slugged = slugify(s);
        if !s.is_empty() && slugged == s {
            return true;
        }
        self.report(
            f,
            s,
            "invalid-slug",
            format!(
                "`{}` must be a {what} slug of lowercase letters, digits and hyphens; found `{s}`",
                f.key
            ),
            (!slugged.is_empty()).then(|| format!("did you mean `{slugged}`?")),
        );
        false
    }

    fn number(&mut self, f: &Field, v: &Value, what: &str) -> Option<f64> {
        match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) if x.is_finite() => Some(*x),
            other => {
                let message = format!(
                    "`{}` {what} must be a number; found {}",
                    f.key,
                    other.describe()
                );
                let needle = Self::scalar_text(other).unwrap_or_default();
                self.report(
                    f,
                    &needle,
                    "wrong-type",
                    message,
                    Some("write digits without units or thousands separators, e.g. `1200`".into()),
                );
                None
            }
        }
    }

    /// A list of `{key: value}` records with known keys.
    fn records<'v>(
        &mut self,
        f: &'v Field,
        known: &[&str],
        required: &[&str],
    ) -> Vec<&'v [(String, Value)]> {
        let items = match &f.value {
            Value::List(items) => items,
            Value::Null => return Vec::new(),
            other => {
                self.wrong_type(f, "a list of `- key: value` items", other, None);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items {
            let Value::Map(entries) = item else {
                self.wrong_type(
                    f,
                    "a list of `- key: value` items",
                    item,
                    Some(format!("write e.g. `- {}: …`", required[0])),
                );
                continue;
            };
            let mut ok = true;
            for (k, _) in entries {
                if !known.contains(&k.as_str()) {
                    ok = false;
                    self.report(
                        f,
                        k,
                        "unknown-field",
                        format!(
                            "unknown key `{k}` in `{}`; expected {}",
                            f.key,
                            known.join(", ")
                        ),
                        suggestion(k, known.iter().copied()),
                    );
                }
            }
            for r in required {
                if !entries.iter().any(|(k, _)| k == r) {
                    ok = false;
                    self.report(
                        f,
                        "",
                        "missing-field",
                        format!(
                            "an item of `{}` has no `{r}`; expected {}",
                            f.key,
                            required.join(", ")
                        ),
                        None,
                    );
                }
            }
            if ok {
                out.push(entries.as_slice());
            }
        }
        out
    }
}

fn get<'v>(entries: &'v [(String, Value)], key: &str) -> Option<&'v Value> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parses and validates one content file against the site's vocabularies.
pub fn parse_study(file: &SourceFile, config: &Config) -> Result<Study, Vec<Diagnostic>> {
    let fm: FrontMatter = parse_front_matter(&file.text).map_err(|p| {
        vec![
            Diagnostic::error(p.code, file.path.clone(), p.line, p.column, p.message)
                .with_source(&file.text, 3)
                .with_help_opt(p.help),
        ]
    })?;
    let mut r = Reader {
        file,
        diags: Vec::new(),
    };
    let city_keys: Vec<&str> = config.cities.iter().map(|c| c.key.as_str()).collect();
    let theme_keys: Vec<&str> = config.themes.iter().map(|t| t.key.as_str()).collect();

    let kind = match fm.get("kind") {
        None => {
            r.diags.push(
                Diagnostic::error(
                    "missing-field",
                    file.path.clone(),
                    1,
                    1,
                    "missing `kind`; expected one of case-study, playbook, challenge, page",
                )
                .with_source(&file.text, 3)
                .with_help("add a line such as `kind: case-study` to the front matter"),
            );
            None
        }
        Some(f) => match r.text(f) {
            Some(word) => match Kind::parse(&word) {
                Some(k) => Some(k),
                None => {
                    let words = Kind::ALL.map(Kind::as_str);
                    r.report(
                        f,
                        &word,
                        "unknown-kind",
                        format!(
                            "unknown kind `{word}`; expected one of {}",
                            words.join(", ")
                        ),
                        suggestion(&word, words),
                    );
                    None
                }
            },
            None => None,
        },
    };

    let mut study = Study {
        path: file.path.clone(),
        rel: file.rel.clone(),
        hash: file.hash,
        kind: kind.unwrap_or(Kind::Page),
        title: String::new(),
        summary: String::new(),
        date: None,
        updated: None,
        draft: false,
        slug: String::new(),
        authors: Vec::new(),
        themes: Vec::new(),
        city: None,
        practice: None,
        stage: None,
        replicated_from: None,
        origin: None,
        cities: Vec::new(),
        practices: Vec::new(),
        partners: Vec::new(),
        period: None,
        outcomes: Vec::new(),
        funding: Vec::new(),
        sdgs: Vec::new(),
        reviewed: None,
        route: String::new(),
        body: Arc::from(fm.body),
        body_line: fm.body_line,
        positions: BTreeMap::new(),
    };

    for f in &fm.fields {
        let key = f.key.as_str();
        let Some(&known) = ALL_FIELDS.iter().find(|k| **k == key) else {
            r.report(
                f,
                "",
                "unknown-field",
                format!("unknown field `{key}`; expected one of the fields in SPEC §3 (title, kind, summary, date, themes, …)"),
                suggestion(key, ALL_FIELDS),
            );
            continue;
        };
        study.positions.insert(known, (f.line, f.column));
        if let Some(k) = kind {
            if !field_allowed(k, key) {
                let allowed: Vec<&str> = ALL_FIELDS
                    .iter()
                    .copied()
                    .filter(|x| field_allowed(k, x))
                    .collect();
                let help = suggestion(key, allowed.iter().copied()).or_else(|| {
                    Some(format!(
                        "remove `{key}`; a {k} takes {}",
                        allowed.join(", ")
                    ))
                });
                r.report(
                    f,
                    "",
                    "field-not-for-kind",
                    format!("`{key}` does not apply to a {k}"),
                    help,
                );
                continue;
            }
        }
        match key {
            "kind" => {}
            "title" => {
                if let Some(t) = r.text(f) {
                    if t.is_empty() {
                        r.report(
                            f,
                            "",
                            "empty-title",
                            "`title` is empty; expected the study's title".into(),
                            None,
                        );
                    }
                    study.title = t;
                }
            }
            "summary" => study.summary = r.text(f).unwrap_or_default(),
            "date" => study.date = r.date(f),
            "updated" => study.updated = r.date(f),
            "reviewed" => study.reviewed = r.date(f),
            "draft" => study.draft = r.boolean(f).unwrap_or(false),
            "slug" => {
                if let Some(s) = r.text(f) {
                    if r.slug_value(f, &s, "URL") {
                        study.slug = s;
                    }
                }
            }
            "authors" => study.authors = r.texts(f).unwrap_or_default(),
            "partners" => study.partners = r.texts(f).unwrap_or_default(),
            "period" => study.period = r.text(f),
            "themes" => {
                for t in r.texts(f).unwrap_or_default() {
                    if r.vocab(f, &t, &theme_keys, "themes", "unknown-theme")
                        && !study.themes.contains(&t)
                    {
                        study.themes.push(t);
                    }
                }
            }
            "cities" => {
                for c in r.texts(f).unwrap_or_default() {
                    if r.vocab(f, &c, &city_keys, "cities", "unknown-city")
                        && !study.cities.contains(&c)
                    {
                        study.cities.push(c);
                    }
                }
            }
            "city" | "replicated_from" | "origin" => {
                if let Some(c) = r.text(f) {
                    if r.vocab(f, &c, &city_keys, "cities", "unknown-city") {
                        let slot = match key {
                            "city" => &mut study.city,
                            "replicated_from" => &mut study.replicated_from,
                            _ => &mut study.origin,
                        };
                        *slot = Some(c);
                    }
                }
            }
            "practice" => {
                if let Some(p) = r.text(f) {
                    if r.slug_value(f, &p, "practice") {
                        study.practice = Some(p);
                    }
                }
            }
            "practices" => {
                for p in r.texts(f).unwrap_or_default() {
                    if r.slug_value(f, &p, "practice") && !study.practices.contains(&p) {
                        study.practices.push(p);
                    }
                }
            }
            "stage" => {
                if let Some(s) = r.text(f) {
                    match Stage::parse(&s) {
                        Some(stage) => study.stage = Some(stage),
                        None => {
                            let words = Stage::ALL.map(Stage::as_str);
                            r.report(
                                f,
                                &s,
                                "unknown-stage",
                                format!(
                                    "unknown stage `{s}`; expected one of {}",
                                    words.join(", ")
                                ),
                                suggestion(&s, words),
                            );
                        }
                    }
                }
            }
            "sdgs" => match &f.value {
                Value::List(items) => {
                    for item in items {
                        match item {
                            Value::Int(n) if (1..=17).contains(n) => study.sdgs.push(*n as u8),
                            other => {
                                let needle = Reader::scalar_text(other).unwrap_or_default();
                                r.report(
                                    f,
                                    &needle,
                                    "invalid-sdg",
                                    format!("`sdgs` must list Sustainable Development Goal numbers 1–17; found {}", other.describe()),
                                    None,
                                );
                            }
                        }
                    }
                    study.sdgs.sort_unstable();
                    study.sdgs.dedup();
                }
                other => r.wrong_type(
                    f,
                    "a list of numbers 1–17",
                    other,
                    Some("write `sdgs: [7, 11, 13]`".into()),
                ),
            },
            "outcomes" => {
                for e in r.records(
                    f,
                    &["metric", "value", "unit", "baseline", "year", "source"],
                    &["metric", "value", "unit"],
                ) {
                    let text = |k| get(e, k).and_then(Reader::scalar_text);
                    let (metric, unit, source) = (text("metric"), text("unit"), text("source"));
                    let value = get(e, "value").and_then(|v| r.number(f, v, "value"));
                    let baseline = get(e, "baseline").and_then(|v| r.number(f, v, "baseline"));
                    let year = match get(e, "year") {
                        None => None,
                        Some(Value::Int(y)) if (1900..=2200).contains(y) => Some(*y),
                        Some(other) => {
                            let needle = Reader::scalar_text(other).unwrap_or_default();
                            r.report(
                                f,
                                &needle,
                                "wrong-type",
                                format!(
                                    "`outcomes` year must be a year such as 2021; found {}",
                                    other.describe()
                                ),
                                None,
                            );
                            None
                        }
                    };
                    match (metric, value, unit) {
                        (Some(metric), Some(value), Some(unit)) if !metric.trim().is_empty() => {
                            study.outcomes.push(Outcome {
                                metric: metric.trim().to_owned(),
                                value,
                                unit: unit.trim().to_owned(),
                                baseline,
                                year,
                                source,
                            })
                        }
                        (None, ..) | (_, _, None) => r.report(
                            f,
                            "",
                            "wrong-type",
                            "`outcomes` metric and unit must be text".into(),
                            None,
                        ),
                        _ => {}
                    }
                }
            }
            "funding" => {
                for e in r.records(f, &["source", "amount", "currency"], &["source"]) {
                    let source = get(e, "source").and_then(Reader::scalar_text);
                    let amount = get(e, "amount").and_then(|v| r.number(f, v, "amount"));
                    let currency = get(e, "currency").and_then(Reader::scalar_text);
                    if let Some(c) = &currency {
                        if c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()) {
                            r.report(
                                f,
                                c,
                                "invalid-currency",
                                format!("`funding` currency must be a three-letter ISO 4217 code; found `{c}`"),
                                Some(format!("did you mean `{}`?", c.to_ascii_uppercase())).filter(|_| c.len() == 3),
                            );
                        }
                    }
                    if let Some(source) = source {
                        study.funding.push(Funding {
                            source,
                            amount,
                            currency,
                        });
                    }
                }
            }
            _ => unreachable!("every key of ALL_FIELDS is handled"),
        }
    }

    if let Some(kind) = kind {
        let missing = |r: &mut Reader, key: &str, example: &str| {
            r.diags.push(
                Diagnostic::error(
                    "missing-field",
                    file.path.clone(),
                    1,
                    1,
                    format!("missing `{key}`; a {kind} requires it"),
                )
                .with_source(&file.text, 3)
                .with_help(format!("add `{key}: {example}` to the front matter")),
            );
        };
        if fm.get("title").is_none() {
            missing(&mut r, "title", "\"…\"");
        }
        if kind.is_study() {
            if fm.get("date").is_none() {
                missing(&mut r, "date", "2024-03-31");
            }
            if fm.get("themes").is_none() {
                missing(
                    &mut r,
                    "themes",
                    &format!("[{}]", theme_keys.first().unwrap_or(&"…")),
                );
            } else if study.themes.is_empty()
                && !r
                    .diags
                    .iter()
                    .any(|d| d.code == "unknown-theme" || d.code == "wrong-type")
            {
                let f = fm.get("themes").expect("checked above");
                r.report(
                    f,
                    "",
                    "missing-field",
                    "`themes` is empty; a study needs at least one theme".into(),
                    None,
                );
            }
        }
        if kind == Kind::CaseStudy {
            if fm.get("city").is_none() {
                missing(&mut r, "city", city_keys.first().unwrap_or(&"…"));
            }
            if fm.get("stage").is_none() {
                missing(&mut r, "stage", "pilot");
            }
        }
        if matches!(kind, Kind::CaseStudy | Kind::Playbook) && fm.get("practice").is_none() {
            missing(&mut r, "practice", "retrofit-accelerator");
        }
        if let (Some(d), Some(u), Some(f)) = (study.date, study.updated, fm.get("updated")) {
            if u < d {
                r.report(
                    f,
                    &u.to_string(),
                    "updated-before-date",
                    format!("`updated` ({u}) is before `date` ({d})"),
                    Some("an update cannot precede publication; check both dates".into()),
                );
            }
        }
        if let (Some(c), Some(from), Some(f)) = (
            &study.city,
            &study.replicated_from,
            fm.get("replicated_from"),
        ) {
            if c == from {
                r.report(
                    f,
                    from,
                    "replicated-from-own-city",
                    format!("`replicated_from` is `{from}`, the study's own city; expected the city the practice was learned from"),
                    Some("remove `replicated_from` if the practice started here".into()),
                );
            }
        }
    }

    if study.slug.is_empty()
        && !fm
            .get("slug")
            .is_some_and(|_| r.diags.iter().any(|d| d.code == "invalid-slug"))
    {
        let stem = file
            .rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        study.slug = slugify(&stem);
        if study.slug.is_empty() {
            r.diags.push(
                Diagnostic::error(
                    "invalid-slug",
                    file.path.clone(),
                    1,
                    1,
                    format!("the file name `{stem}` gives an empty URL slug"),
                )
                .with_help(
                    "rename the file with letters or digits, or set `slug:` in the front matter",
                ),
            );
        }
    }
    study.route = route_for(study.kind, &study.rel, &study.slug);

    if r.diags.is_empty() {
        Ok(study)
    } else {
        Err(r.diags)
    }
}

/// The route of a content file: `case-studies/<slug>/` for studies, the folder path plus slug for pages.
pub fn route_for(kind: Kind, rel: &std::path::Path, slug: &str) -> String {
    if kind.is_study() {
        return format!("{}/{slug}/", kind.section());
    }
    let mut route = String::new();
    if let Some(parent) = rel.parent() {
        for seg in parent.components() {
            let s = slugify(&seg.as_os_str().to_string_lossy());
            if !s.is_empty() {
                route.push_str(&s);
                route.push('/');
            }
        }
    }
    route.push_str(slug);
    route.push('/');
    route
}

/// Rules that span files: one playbook per practice; challenge practices must exist.
pub fn check_corpus(studies: &[Arc<Study>]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut playbooks: BTreeMap<&str, &Study> = BTreeMap::new();
    for s in studies.iter().filter(|s| s.kind == Kind::Playbook) {
        let Some(p) = s.practice.as_deref() else {
            continue;
        };
        if let Some(first) = playbooks.get(p) {
            let (line, col) = s.position("practice");
            diags.push(
                Diagnostic::error(
                    "duplicate-playbook",
                    s.path.clone(),
                    line,
                    col,
                    format!("practice `{p}` already has a playbook, `{}`; expected one playbook per practice", first.path.display()),
                )
                .with_help("merge the two playbooks, or give this one a different `practice`"),
            );
        } else {
            playbooks.insert(p, s);
        }
    }
    let known: Vec<&str> = {
        let mut v: Vec<&str> = studies
            .iter()
            .filter_map(|s| s.practice.as_deref())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    for s in studies.iter().filter(|s| s.kind == Kind::Challenge) {
        for p in &s.practices {
            if known.binary_search(&p.as_str()).is_err() {
                let (line, _) = s.position("practices");
                diags.push(
                    Diagnostic::error(
                        "unknown-practice",
                        s.path.clone(),
                        line,
                        0,
                        format!("unknown practice `{p}` in `practices`; expected the practice of a playbook or case study"),
                    )
                    .with_help_opt(suggestion(p, known.iter().copied())),
                );
            }
        }
    }
    diags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn config() -> Config {
        parse_config(
            "title = \"T\"\nbase_url = \"https://e.org/\"\n[[cities]]\nkey = \"edinburgh\"\nname = \"Edinburgh\"\ncountry = \"UK\"\n\
             [[cities]]\nkey = \"london\"\nname = \"London\"\ncountry = \"UK\"\n[[themes]]\nkey = \"procurement\"\nname = \"Procurement\"\n",
        )
        .unwrap()
    }

    fn file(rel: &str, text: &str) -> SourceFile {
        SourceFile {
            path: PathBuf::from("content").join(rel),
            rel: PathBuf::from(rel),
            text: text.to_owned(),
            hash: 0,
        }
    }

    const CASE: &str = "---\ntitle: Heat in Leith\nkind: case-study\ndate: 2021-03-05\nthemes: [procurement]\ncity: edinburgh\npractice: heat-pumps\nstage: pilot\n---\nBody\n";

    #[test]
    fn valid_case_study() {
        let s = parse_study(&file("case-studies/Heat in Leith.md", CASE), &config()).unwrap();
        assert_eq!(s.route, "case-studies/heat-in-leith/");
        assert_eq!(s.stage, Some(Stage::Pilot));
        assert_eq!(s.body_line, 10);
    }

    #[test]
    fn every_problem_of_a_file_is_reported() {
        let text = CASE.replace("city: edinburgh", "city: edinbrugh").replace(
            "stage: pilot",
            "stage: scaled-up\nreplicated_from: edinbrugh\ncolour: red",
        );
        let diags = parse_study(&file("a.md", &text), &config()).unwrap_err();
        let codes: Vec<_> = diags.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(
            codes,
            [
                ("unknown-city", 6),
                ("unknown-stage", 8),
                ("unknown-city", 9),
                ("unknown-field", 10)
            ]
        );
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `edinburgh`?"));
        assert_eq!(diags[0].column, 7);
    }

    #[test]
    fn pages_route_by_folder() {
        assert_eq!(
            route_for(
                Kind::Page,
                std::path::Path::new("network/Partners.md"),
                "partners"
            ),
            "network/partners/"
        );
    }
}
