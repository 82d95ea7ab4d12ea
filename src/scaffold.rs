//! `casebook new` and `casebook init`: files that pass `check` from the start
//! and headings that guide an author through a good study.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::{load_config, Config};
use crate::date::Date;
use crate::error::{io_error, suggestion, Error, Result};
use crate::model::{Kind, Stage};
use crate::text::slugify;

/// What `casebook new` was asked for.
#[derive(Debug, Clone, Default)]
pub struct NewStudy {
    /// `case-study`, `playbook`, `challenge` or `page`.
    pub kind: String,
    /// The title.
    pub title: String,
    /// City key (case study).
    pub city: Option<String>,
    /// Practice slug (case study, playbook).
    pub practice: Option<String>,
    /// Stage (case study).
    pub stage: Option<String>,
    /// Theme keys.
    pub themes: Vec<String>,
}

fn usage_vocab(what: &str, word: &str, valid: &[&str]) -> Error {
    let hint = suggestion(word, valid.iter().copied())
        .unwrap_or_else(|| format!("expected one of: {}", valid.join(", ")));
    Error::Usage(format!("unknown {what} `{word}`; {hint}"))
}

/// Writes a new content file with valid front matter; returns its path. Never overwrites.
pub fn new_study(root: &Path, req: &NewStudy, today: Date) -> Result<PathBuf> {
    let config = load_config(root)?;
    let kinds = Kind::ALL.map(Kind::as_str);
    let kind = Kind::parse(&req.kind).ok_or_else(|| usage_vocab("kind", &req.kind, &kinds))?;
    let slug = slugify(&req.title);
    if req.title.trim().is_empty() || slug.is_empty() {
        return Err(Error::Usage(
            "the title must contain letters or digits".into(),
        ));
    }
    let cities: Vec<&str> = config.cities.iter().map(|c| c.key.as_str()).collect();
    let themes: Vec<&str> = config.themes.iter().map(|t| t.key.as_str()).collect();
    if let Some(c) = &req.city {
        if !cities.contains(&c.as_str()) {
            return Err(usage_vocab("city", c, &cities));
        }
    }
    for t in &req.themes {
        if !themes.contains(&t.as_str()) {
            return Err(usage_vocab("theme", t, &themes));
        }
    }
    if let Some(s) = &req.stage {
        if Stage::parse(s).is_none() {
            return Err(usage_vocab("stage", s, &Stage::ALL.map(Stage::as_str)));
        }
    }
    if let Some(p) = &req.practice {
        if slugify(p) != *p {
            return Err(Error::Usage(format!(
                "invalid practice `{p}`; did you mean `{}`?",
                slugify(p)
            )));
        }
    }
    if kind.is_study() && themes.is_empty() {
        return Err(Error::Usage(
            "site.toml defines no [[themes]]; add one before writing a study".into(),
        ));
    }
    if kind == Kind::CaseStudy && cities.is_empty() {
        return Err(Error::Usage(
            "site.toml defines no [[cities]]; add one before writing a case study".into(),
        ));
    }
    let folder = if kind.is_study() {
        root.join("content").join(kind.section())
    } else {
        root.join("content")
    };
    let path = folder.join(format!("{slug}.md"));
    if path.exists() {
        return Err(Error::Usage(format!(
            "`{}` already exists; choose another title or edit that file",
            path.display()
        )));
    }
    let text = study_text(&config, kind, req, &slug, today);
    fs::create_dir_all(&folder).map_err(io_error("create", &folder))?;
    // create_new: never overwrite, even if the file appeared since the check above.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error("create", &path))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io_error("write", &path))?;
    Ok(path)
}

fn yaml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn study_text(config: &Config, kind: Kind, req: &NewStudy, slug: &str, today: Date) -> String {
    let mut fm = vec![
        format!("title: {}", yaml_string(req.title.trim())),
        format!("kind: {kind}"),
    ];
    let themes = if req.themes.is_empty() {
        vec![config
            .themes
            .first()
            .map(|t| t.key.clone())
            .unwrap_or_default()]
    } else {
        req.themes.clone()
    };
    let practice = req.practice.clone().unwrap_or_else(|| slug.to_owned());
    match kind {
        Kind::Page => fm.push("summary: \"One sentence on what this page is for.\"".into()),
        _ => {
            fm.push(
                "summary: \"One or two sentences: what happened, where, and why it matters.\""
                    .into(),
            );
            fm.push(format!("date: {today}"));
            fm.push(format!("themes: [{}]", themes.join(", ")));
        }
    }
    match kind {
        Kind::CaseStudy => {
            let city = req
                .city
                .clone()
                .unwrap_or_else(|| config.cities[0].key.clone());
            fm.push(format!("city: {city}"));
            fm.push(format!("practice: {practice}"));
            fm.push(format!(
                "stage: {}   # pilot | replicated | scaled | discontinued",
                req.stage.as_deref().unwrap_or("pilot")
            ));
            fm.push(
                "# replicated_from: london   # the city the practice was learned from, if any"
                    .into(),
            );
            fm.push("partners: []".into());
            fm.push("# outcomes:\n#   - {metric: \"CO2 avoided\", value: 1200, unit: \"t/yr\", year: 2024}".into());
            fm.push(
                "# funding:\n#   - {source: \"ERDF\", amount: 2000000, currency: \"EUR\"}".into(),
            );
        }
        Kind::Playbook => {
            fm.push(format!("practice: {practice}"));
            if let Some(c) = &req.city {
                fm.push(format!("origin: {c}"));
            } else {
                fm.push(
                    "# origin: edinburgh   # the city where the practice was first developed"
                        .into(),
                );
            }
        }
        Kind::Challenge => {
            let cities = req
                .city
                .clone()
                .map(|c| format!("[{c}]"))
                .unwrap_or_else(|| "[]".into());
            fm.push(format!("cities: {cities}"));
            fm.push(match &req.practice {
                Some(p) => format!("practices: [{p}]"),
                None => "practices: []".into(),
            });
        }
        Kind::Page => {}
    }
    fm.push(format!("reviewed: {today}"));
    let headings: &[(&str, &str)] = match kind {
        Kind::CaseStudy => &[
            (
                "Context",
                "What was the problem, and what had been tried before?",
            ),
            (
                "What was done",
                "The practice as this city ran it: steps, scale, timeline.",
            ),
            (
                "Who was involved",
                "Partners on the supply and demand side, and who led.",
            ),
            (
                "Results",
                "What changed, with numbers where you have them (also in `outcomes`).",
            ),
            (
                "What made it work",
                "The conditions another city would need.",
            ),
            ("Barriers", "What slowed it down or nearly stopped it."),
            (
                "How to replicate",
                "Advice for the next city; link to the playbook if there is one.",
            ),
        ],
        Kind::Playbook => &[
            (
                "When it fits",
                "The conditions under which this practice works.",
            ),
            (
                "How to replicate",
                "Numbered steps, in order, with who does what.",
            ),
            ("What to measure", "The outcomes to track from the start."),
            (
                "Pitfalls",
                "What went wrong elsewhere, and how to avoid it.",
            ),
        ],
        Kind::Challenge => &[
            (
                "Why it happens",
                "The structural cause: rules, finance, skills, data.",
            ),
            (
                "What has helped",
                "Practices and reforms that eased it, with links.",
            ),
            ("What is still missing", "What nobody has solved yet."),
        ],
        Kind::Page => &[],
    };
    let mut body = String::from("Start with a short paragraph a busy reader can stop after.\n");
    for (h, hint) in headings {
        body.push_str(&format!("\n## {h}\n\n_{hint}_\n"));
    }
    format!("---\n{}\n---\n\n{body}", fm.join("\n"))
}

const INIT_SITE: &str = r#"# A casebook site. Every key is explained in casebook's README.
title = "Our City Network"
base_url = "https://example.org/"
description = "Sharing what works in low-carbon innovation between our cities"
language = "en"
theme = "default"
stale_after_days = 730

[markdown]
allow_html = false

[[cities]]
key = "lyon"
name = "Lyon"
country = "France"
lat = 45.764
lon = 4.836

[[cities]]
key = "porto"
name = "Porto"
country = "Portugal"
lat = 41.158
lon = -8.629

[[cities]]
key = "gdansk"
name = "Gdańsk"
country = "Poland"
lat = 54.352
lon = 18.646

[[themes]]
key = "procurement"
name = "Procurement"
description = "Buying low-carbon solutions together"

[[themes]]
key = "investment"
name = "Investment"
description = "Matching projects with capital"

[[themes]]
key = "training"
name = "Training"
description = "Skills for the transition"

[[themes]]
key = "buildings"
name = "Buildings and retrofit"
"#;

const INIT_FILES: &[(&str, &str)] = &[
    (
        "content/about.md",
        "---\ntitle: \"About this network\"\nkind: page\nsummary: \"Who we are and how to read this site.\"\n---\n\nThis site shares what our cities have learned about low-carbon innovation. Each **case study** documents a practice at a stage (piloted, replicated, scaled or discontinued); each **playbook** explains how to take a practice to another city; each **structural challenge** studies a barrier that holds solutions back.\n\nThe examples that `casebook init` wrote are placeholders: replace them with your own.\n",
    ),
    (
        "content/playbooks/shared-retrofit-procurement.md",
        "---\ntitle: \"Shared Retrofit Procurement\"\nkind: playbook\nsummary: \"How neighbouring landlords can buy home retrofits together.\"\ndate: 2024-01-15\nthemes: [procurement, buildings]\npractice: shared-retrofit-procurement\norigin: lyon\n---\n\nBuy retrofit work for many owners in one tender.\n\n## How to replicate\n\n1. Find an anchor owner with many similar homes.\n2. Survey by house type.\n3. Tender in lots that local firms can win.\n\nSee the [Lyon case study](../case-studies/lyon-shared-retrofit.md).\n",
    ),
    (
        "content/case-studies/lyon-shared-retrofit.md",
        "---\ntitle: \"Shared retrofit procurement in Lyon\"\nkind: case-study\nsummary: \"An example case study: three social landlords bought retrofits together.\"\ndate: 2024-03-01\nthemes: [procurement, buildings]\ncity: lyon\npractice: shared-retrofit-procurement\nstage: pilot\npartners: [\"An example housing association\"]\noutcomes:\n  - {metric: \"Homes retrofitted\", value: 120, unit: \"homes\", year: 2024}\n---\n\nThis example shows the shape of a case study. Follow the [playbook](../playbooks/shared-retrofit-procurement.md#how-to-replicate).\n\n## Context\n\n## What was done\n\n## Results\n\n## How to replicate\n",
    ),
    (
        "content/challenges/split-incentives.md",
        "---\ntitle: \"Split incentives in rented homes\"\nkind: challenge\nsummary: \"Landlords pay for retrofits while tenants get the lower bills.\"\ndate: 2024-05-01\nthemes: [buildings, investment]\ncities: [lyon, porto]\npractices: [shared-retrofit-procurement]\n---\n\nAn example structural-challenge study.\n\n## Why it happens\n\n## What has helped\n",
    ),
];

/// Creates a new site in `dir`: site.toml, an About page and one study of each kind. Refuses to overwrite.
pub fn init_site(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.join("site.toml").exists() {
        return Err(Error::Usage(format!(
            "`{}` already has a site.toml; init creates new sites only",
            dir.display()
        )));
    }
    if dir.join("content").exists() {
        return Err(Error::Usage(format!(
            "`{}` already has a content/ folder; init creates new sites only",
            dir.display()
        )));
    }
    let mut written = Vec::new();
    for (rel, text) in std::iter::once(&("site.toml", INIT_SITE)).chain(INIT_FILES) {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        fs::write(&path, text).map_err(io_error("write", &path))?;
        written.push(path);
    }
    Ok(written)
}
