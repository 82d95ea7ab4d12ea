//! The cross-city indexes: a fixture with known replication, asserted exactly.

mod common;

use common::{attrs, html, rows, texts, TestSite};

const SITE: &str = r#"title = "Replication test"
base_url = "https://example.org/net/"

[[cities]]
key = "edinburgh"
name = "Edinburgh"
country = "UK"
lat = 55.9
lon = -3.2

[[cities]]
key = "london"
name = "London & <Thames>"
country = "UK"
lat = 51.5
lon = -0.1

[[cities]]
key = "valencia"
name = "València"
country = "Spain"
lat = 39.5
lon = -0.4

[[themes]]
key = "heat"
name = "Heat"

[[themes]]
key = "training"
name = "Training"
"#;

fn case(
    slug: &str,
    practice: &str,
    city: &str,
    stage: &str,
    date: &str,
    extra: &str,
) -> (String, String) {
    (
        format!("content/case-studies/{slug}.md"),
        format!(
            "---\ntitle: \"{slug} study\"\nkind: case-study\nsummary: \"{slug}\"\ndate: {date}\nthemes: [heat]\ncity: {city}\npractice: {practice}\nstage: {stage}\n{extra}---\n\nBody of {slug}.\n"
        ),
    )
}

fn site() -> TestSite {
    let site = TestSite::empty(SITE);
    site.write(
        "content/playbooks/alpha.md",
        "---\ntitle: 'Alpha \"Quoted\", & <Co>'\nkind: playbook\nsummary: How to alpha.\ndate: 2018-01-01\nthemes: [training, heat]\npractice: alpha\norigin: edinburgh\n---\n\nSteps.\n",
    );
    for (path, text) in [
        case("a-edi", "alpha", "edinburgh", "pilot", "2018-03-01", "outcomes:\n  - {metric: \"CO2 avoided\", value: 100, unit: \"t/yr\"}\n"),
        case("a-lon-1", "alpha", "london", "replicated", "2019-04-01", "replicated_from: edinburgh\noutcomes:\n  - {metric: \"CO2 avoided\", value: 250, unit: \"t/yr\"}\n  - {metric: \"CO2 avoided\", value: 3, unit: \"kt\"}\n"),
        case("a-lon-2", "alpha", "london", "scaled", "2021-05-01", "outcomes:\n  - {metric: \"CO2 avoided\", value: 900, unit: \"t/yr\"}\n"),
        case("a-val", "alpha", "valencia", "discontinued", "2020-06-01", "replicated_from: london\n"),
        case("b-val", "beta", "valencia", "pilot", "2019-01-01", ""),
        case("b-edi", "beta", "edinburgh", "replicated", "2020-02-01", ""),
    ] {
        site.write(&path, text);
    }
    site.write(
        "content/challenges/rules.md",
        "---\ntitle: Rules\nkind: challenge\ndate: 2021-01-01\nthemes: [heat]\ncities: [london, valencia]\npractices: [alpha]\n---\n\nx\n",
    );
    site.build_ok();
    site
}

#[test]
fn csv_is_exactly_the_spec_format_and_order() {
    let csv = site().read("replication.csv");
    let expected = "practice,practice_name,city,stage,date,replicated_from,url\r\n\
alpha,\"Alpha \"\"Quoted\"\", & <Co>\",edinburgh,pilot,2018-03-01,,https://example.org/net/case-studies/a-edi/\r\n\
alpha,\"Alpha \"\"Quoted\"\", & <Co>\",london,replicated,2019-04-01,edinburgh,https://example.org/net/case-studies/a-lon-1/\r\n\
alpha,\"Alpha \"\"Quoted\"\", & <Co>\",london,scaled,2021-05-01,,https://example.org/net/case-studies/a-lon-2/\r\n\
alpha,\"Alpha \"\"Quoted\"\", & <Co>\",valencia,discontinued,2020-06-01,london,https://example.org/net/case-studies/a-val/\r\n\
beta,Beta,edinburgh,replicated,2020-02-01,,https://example.org/net/case-studies/b-edi/\r\n\
beta,Beta,valencia,pilot,2019-01-01,,https://example.org/net/case-studies/b-val/\r\n";
    assert_eq!(csv, expected);
}

#[test]
fn json_is_exactly_the_spec_shape_and_order() {
    let json: serde_json::Value = serde_json::from_str(&site().read("replication.json")).unwrap();
    let url = |s: &str| format!("https://example.org/net/case-studies/{s}/");
    let expected = serde_json::json!({
        "practices": [
            {
                "slug": "alpha", "name": "Alpha \"Quoted\", & <Co>", "origin": "edinburgh",
                "playbook_url": "https://example.org/net/playbooks/alpha/", "themes": ["heat", "training"],
                "cases": [
                    {"city": "edinburgh", "stage": "pilot", "date": "2018-03-01", "replicated_from": null, "url": url("a-edi")},
                    {"city": "london", "stage": "replicated", "date": "2019-04-01", "replicated_from": "edinburgh", "url": url("a-lon-1")},
                    {"city": "london", "stage": "scaled", "date": "2021-05-01", "replicated_from": null, "url": url("a-lon-2")},
                    {"city": "valencia", "stage": "discontinued", "date": "2020-06-01", "replicated_from": "london", "url": url("a-val")},
                ]
            },
            {
                "slug": "beta", "name": "Beta", "origin": "valencia", "playbook_url": null, "themes": ["heat"],
                "cases": [
                    {"city": "edinburgh", "stage": "replicated", "date": "2020-02-01", "replicated_from": null, "url": url("b-edi")},
                    {"city": "valencia", "stage": "pilot", "date": "2019-01-01", "replicated_from": null, "url": url("b-val")},
                ]
            }
        ],
        "cities": [
            {"key": "edinburgh", "name": "Edinburgh", "country": "UK", "lat": 55.9, "lon": -3.2},
            {"key": "london", "name": "London & <Thames>", "country": "UK", "lat": 51.5, "lon": -0.1},
            {"key": "valencia", "name": "València", "country": "Spain", "lat": 39.5, "lon": -0.4},
        ]
    });
    assert_eq!(json, expected);
    // Key order as the SPEC lists it.
    let text = site().read("replication.json");
    let order = [
        "\"slug\"",
        "\"name\"",
        "\"origin\"",
        "\"playbook_url\"",
        "\"themes\"",
        "\"cases\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn matrix_cells_show_latest_stage_link_and_earlier_cases() {
    let site = site();
    let doc = html(&site.read("replication/index.html"));
    assert_eq!(
        texts(&doc, ".matrix thead th"),
        ["Practice", "Edinburgh", "London & <Thames>", "València"]
    );
    assert_eq!(
        texts(&doc, ".matrix tbody th"),
        ["Alpha \"Quoted\", & <Co>", "Beta"]
    );
    let cells = texts(&doc, ".matrix tbody td");
    assert_eq!(
        cells,
        [
            "○ Pilot 2018",
            "● Scaled 2021 after replicated 2019",
            "✕ Discontinued 2020",
            "◐ Replicated 2020",
            "",
            "○ Pilot 2019"
        ]
    );
    let links = attrs(&doc, ".matrix tbody td a", "href");
    assert_eq!(
        links,
        [
            "/net/case-studies/a-edi/",
            "/net/case-studies/a-lon-2/",
            "/net/case-studies/a-lon-1/",
            "/net/case-studies/a-val/",
            "/net/case-studies/b-edi/",
            "/net/case-studies/b-val/"
        ]
    );
}

#[test]
fn city_and_practice_pages_tell_the_replication_story() {
    let site = site();
    let london = html(&site.read("cities/london/index.html"));
    let adopted = texts(&london, "#cb-adopt-h + ul li");
    assert_eq!(adopted.len(), 1);
    assert!(
        adopted[0].starts_with("Alpha \"Quoted\", & <Co>, from Edinburgh: ● Scaled"),
        "{adopted:?}"
    );
    // Totals per metric and unit: t/yr added up, kt kept apart.
    let totals = rows(&london, "table tbody tr");
    assert_eq!(totals, ["CO2 avoided 3 kt 1", "CO2 avoided 1,150 t/yr 2"]);
    assert_eq!(texts(&london, "#cb-ch-h + .cards .card-title"), ["Rules"]);

    let valencia = html(&site.read("cities/valencia/index.html"));
    assert_eq!(
        texts(&valencia, "#cb-orig-h + ul li a"),
        ["Beta"],
        "beta originated in Valencia (earliest case)"
    );

    let alpha = site.read("practices/alpha/index.html");
    let doc = html(&alpha);
    assert_eq!(texts(&doc, "h1"), ["Alpha \"Quoted\", & <Co>"]);
    assert_eq!(
        texts(&doc, ".edges li"),
        [
            "Edinburgh →to London & <Thames>: Alpha \"Quoted\", & <Co>",
            "London & <Thames> →to València: Alpha \"Quoted\", & <Co>"
        ]
    );
    // Outcomes side by side: one row per (metric, unit), a column per case with outcomes.
    assert_eq!(
        texts(&doc, ".compare thead th"),
        [
            "Measure",
            "Edinburgh 2018",
            "London & <Thames> 2019",
            "London & <Thames> 2021"
        ]
    );
    assert_eq!(
        rows(&doc, ".compare tbody tr"),
        ["CO2 avoided (kt) — 3 —", "CO2 avoided (t/yr) 100 250 900"]
    );
    // Pictures are escaped SVG with a text alternative beside them.
    assert!(alpha.contains("<svg class=\"map\""));
    assert!(
        alpha.contains(">London &amp; &lt;Thames&gt;</text>"),
        "SVG text is escaped"
    );
    assert!(alpha.contains("<svg class=\"timeline\""));
    assert!(
        !alpha.contains("<Thames>"),
        "no raw markup from data anywhere"
    );

    let beta = html(&site.read("practices/beta/index.html"));
    assert!(texts(&beta, ".page-header")
        .join(" ")
        .contains("No replication playbook has been written"));
    let playbook = html(&site.read("playbooks/alpha/index.html"));
    assert_eq!(
        texts(&playbook, ".where li"),
        [
            "Edinburgh: ○ Pilot",
            "London & <Thames>: ● Scaled",
            "València: ✕ Discontinued"
        ]
    );
}

#[test]
fn feeds_per_city_and_theme_hold_their_studies_newest_first() {
    let site = site();
    let feed = site.read("cities/valencia/atom.xml");
    let ids: Vec<&str> = feed
        .match_indices("<id>")
        .map(|(i, _)| &feed[i + 4..i + 4 + feed[i + 4..].find('<').unwrap()])
        .collect();
    assert_eq!(
        ids,
        [
            "https://example.org/net/cities/valencia/atom.xml",
            "https://example.org/net/challenges/rules/",
            "https://example.org/net/case-studies/a-val/",
            "https://example.org/net/case-studies/b-val/"
        ]
    );
    let training = site.read("themes/training/atom.xml");
    assert_eq!(training.matches("<entry>").count(), 1);
}

#[test]
fn matrix_splits_by_theme_when_large_and_stays_small() {
    let mut toml = String::from(SITE);
    for i in 0..30 {
        toml += &format!("\n[[cities]]\nkey = \"c{i}\"\nname = \"City {i}\"\ncountry = \"X\"\n");
    }
    let site = TestSite::empty(&toml);
    for p in 0..150 {
        for c in 0..3 {
            let city = format!("c{}", (p + c * 7) % 30);
            let theme = if p % 2 == 0 { "heat" } else { "training" };
            site.write(
                &format!("content/case-studies/p{p}-{c}.md"),
                format!("---\ntitle: P{p} {c}\nkind: case-study\ndate: 2020-01-0{}\nthemes: [{theme}]\ncity: {city}\npractice: practice-{p}\nstage: pilot\n---\nx\n", c + 1),
            );
        }
    }
    site.build_ok();
    let overview = site.read("replication/index.html");
    assert!(
        !overview.contains("class=\"matrix\""),
        "overview only when split"
    );
    assert!(overview.contains("href=\"/net/replication/heat/\""));
    let heat = html(&site.read("replication/heat/index.html"));
    assert_eq!(texts(&heat, ".matrix tbody tr").len(), 75);
    assert!(site.read("replication/heat/index.html").len() < 2_000_000);
}
