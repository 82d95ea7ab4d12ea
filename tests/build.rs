//! The core generator: real sites built in temp folders, output inspected.

mod common;

use std::fs;

use common::{attrs, case_study, html, snapshot, texts, TestSite};

#[test]
fn builds_every_output_of_the_spec_without_a_theme_folder() {
    let site = TestSite::new();
    site.write(
        "content/about.md",
        "---\ntitle: About us\nkind: page\nsummary: Who we are.\n---\n\nHello.\n",
    );
    let report = site.build_ok();
    assert!(
        !site.root().join("themes").exists(),
        "the embedded theme is used"
    );
    for file in [
        "index.html",
        "404.html",
        "about/index.html",
        "case-studies/index.html",
        "case-studies/heat-edinburgh/index.html",
        "playbooks/index.html",
        "playbooks/heat-compact/index.html",
        "challenges/index.html",
        "cities/index.html",
        "cities/edinburgh/index.html",
        "cities/edinburgh/atom.xml",
        "themes/index.html",
        "themes/heat/index.html",
        "themes/heat/atom.xml",
        "practices/index.html",
        "practices/heat-compact/index.html",
        "replication/index.html",
        "replication.csv",
        "replication.json",
        "atom.xml",
        "sitemap.xml",
        "robots.txt",
        "search/index.html",
        "search-index/meta.json",
        "style.css",
        "syntax.css",
        "favicon.svg",
    ] {
        assert!(site.exists(file), "missing {file}");
    }
    assert!(report.pages >= 17, "{report:?}");
    let robots = site.read("robots.txt");
    assert!(
        robots.contains("Sitemap: https://example.org/sitemap.xml"),
        "{robots}"
    );
}

#[test]
fn study_page_has_title_anchors_and_rewritten_links() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/linker.md",
        case_study(
            "Tom & Jerry <script>",
            "london",
            "heat-compact",
            "replicated",
            "2020-02-02",
            "replicated_from: edinburgh\n",
            "Read [the playbook](../playbooks/heat-compact.md#how-to-replicate) and [results](#results).\n\n## Results\n\n## Results\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~ and a note[^1].\n\n[^1]: The note.\n",
        ),
    );
    site.build_ok();
    let page = site.read("case-studies/linker/index.html");
    let doc = html(&page);
    assert_eq!(texts(&doc, "h1"), ["Tom & Jerry <script>"]);
    assert!(!page.contains("<script>\""), "title is escaped");
    assert!(
        page.contains("<h1>Tom &amp; Jerry &lt;script&gt;</h1>"),
        "escaped as the five-character table says"
    );
    assert_eq!(
        texts(&doc, "title"),
        ["Tom & Jerry <script> · Test Network"]
    );
    let hrefs = attrs(&doc, ".prose a", "href");
    assert!(
        hrefs.contains(&"/playbooks/heat-compact/#how-to-replicate".to_owned()),
        "{hrefs:?}"
    );
    assert!(hrefs.contains(&"#results".to_owned()));
    assert_eq!(attrs(&doc, ".prose h2", "id"), ["results", "results-1"]);
    assert_eq!(texts(&doc, ".prose del"), ["old"]);
    assert_eq!(
        attrs(&doc, ".prose input[type=checkbox]", "checked").len(),
        1
    );
    assert_eq!(texts(&doc, ".prose table td"), ["1", "2"]);
    assert_eq!(attrs(&doc, ".prose .footnote", "id"), ["fn-1"]);
    // The study links to its city, practice and themes.
    let all = attrs(&doc, "a", "href");
    for link in [
        "/cities/london/",
        "/practices/heat-compact/",
        "/themes/heat/",
        "/cities/edinburgh/",
    ] {
        assert!(all.iter().any(|h| h == link), "no link to {link}");
    }
}

#[test]
fn broken_links_and_anchors_are_errors_at_their_line() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/broken.md",
        case_study("Broken", "london", "heat-compact", "pilot", "2020-01-01", "", "Intro.\n\nSee [gone](../playbooks/gone.md).\n\nAnd [x](../playbooks/heat-compact.md#no-such-heading) [y](#nowhere).\n"),
    );
    let errors = site.build_errors();
    let got: Vec<(&str, usize)> = errors.iter().map(|d| (d.code, d.line)).collect();
    assert_eq!(
        got,
        [
            ("missing-link-target", 14),
            ("missing-anchor", 16),
            ("missing-anchor", 16)
        ],
        "{errors:#?}"
    );
    assert!(errors
        .iter()
        .all(|d| d.path.ends_with("content/case-studies/broken.md")));
    assert!(errors[0].message.contains("content/playbooks/gone.md"));
    assert_eq!(errors[1].column, 5);
    assert!(!site.public().exists(), "nothing written");
}

#[test]
fn raw_html_is_dropped_by_default_and_kept_when_allowed() {
    let site = TestSite::new();
    site.write("content/page.md", "---\ntitle: P\nkind: page\n---\n\n<div class=\"raw\">raw block</div>\n\nInline <b class=\"raw\">bold</b> text.\n");
    site.build_ok();
    let page = site.read("page/index.html");
    assert!(!page.contains("class=\"raw\""), "raw HTML must be omitted");
    site.edit("site.toml", |t| {
        format!("{t}\n[markdown]\nallow_html = true\n")
    });
    site.build_ok();
    assert!(site
        .read("page/index.html")
        .contains("<b class=\"raw\">bold</b>"));
}

#[test]
fn javascript_urls_are_always_errors() {
    let site = TestSite::new();
    site.edit("site.toml", |t| {
        format!("{t}\n[markdown]\nallow_html = true\n")
    });
    site.write("content/page.md", "---\ntitle: P\nkind: page\n---\n\n[click](javascript:alert(1))\n\n<a href=\"JAVASCRIPT:alert(1)\">x</a>\n");
    let errors = site.build_errors();
    assert_eq!(
        errors.iter().map(|d| (d.code, d.line)).collect::<Vec<_>>(),
        [("javascript-url", 6), ("javascript-url", 8)]
    );
}

#[test]
fn code_blocks_are_highlighted_with_a_generated_stylesheet() {
    let site = TestSite::new();
    site.write(
        "content/page.md",
        "---\ntitle: P\nkind: page\n---\n\n```yaml\nkey: value\n```\n\n```klingon\nqapla'\n```\n",
    );
    site.build_ok();
    let page = site.read("page/index.html");
    assert!(
        page.contains("<pre class=\"code\" data-lang=\"yaml\""),
        "{page}"
    );
    assert!(
        page.contains("class=\"hl-"),
        "yaml is highlighted with classes"
    );
    assert!(
        page.contains("<code>qapla&#39;\n</code>"),
        "unknown language stays plain: {page}"
    );
    assert!(site.read("syntax.css").contains(".hl-"));
}

#[test]
fn two_builds_are_byte_identical() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/b.md",
        case_study(
            "B",
            "london",
            "heat-compact",
            "scaled",
            "2021-01-01",
            "",
            "Body with `code`.\n",
        ),
    );
    site.build_ok();
    let first = snapshot(&site.public());
    fs::remove_dir_all(site.public()).unwrap();
    site.build_ok();
    let second = snapshot(&site.public());
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "{} differs", a.0);
    }
}

#[test]
fn sub_path_base_url_prefixes_every_internal_url() {
    let site = TestSite::new();
    site.write("content/about.md", "---\ntitle: About\nkind: page\n---\n\nSee [the matrix](/replication/) and ![a map](/images/map.png).\n");
    site.write("static/images/map.png", b"\x89PNG");
    site.edit("site.toml", |t| {
        t.replace("https://example.org/", "https://example.org/sub/path/")
    });
    site.build_ok();
    let mut checked = 0;
    for (file, bytes) in snapshot(&site.public()) {
        if !file.ends_with(".html") {
            continue;
        }
        let doc = html(&String::from_utf8(bytes).unwrap());
        for attr in ["href", "src", "action", "data-index"] {
            for url in attrs(&doc, &format!("[{attr}]"), attr) {
                if url.starts_with('#') || url.starts_with("https://") {
                    assert!(
                        !url.starts_with("https://")
                            || url.starts_with("https://example.org/sub/path/")
                            || url.starts_with("https://schema.org"),
                        "{file}: {url}"
                    );
                    continue;
                }
                assert!(url.starts_with("/sub/path/"), "{file}: {attr}={url}");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "checked {checked} URLs");
    let feed = site.read("atom.xml");
    assert!(
        feed.contains("<link href=\"https://example.org/sub/path/case-studies/heat-edinburgh/\"")
    );
    assert!(feed.contains("href=&quot;https://example.org/sub/path/playbooks/heat-compact/#how-to-replicate&quot;"), "feed content links are absolute");
    assert!(site
        .read("sitemap.xml")
        .contains("<loc>https://example.org/sub/path/</loc>"));
}

#[test]
fn failed_build_leaves_previous_output_untouched() {
    let site = TestSite::new();
    site.build_ok();
    let before = snapshot(&site.public());
    site.write(
        "content/case-studies/bad.md",
        case_study(
            "Bad",
            "lndon",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "",
            "x",
        ),
    );
    let errors = site.build_errors();
    assert_eq!(errors[0].code, "unknown-city");
    assert_eq!(snapshot(&site.public()), before);
    let leftovers: Vec<_> = fs::read_dir(site.root())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn removed_studies_disappear_and_unchanged_files_keep_their_timestamps() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/temp.md",
        case_study(
            "Temp",
            "london",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "",
            "x",
        ),
    );
    site.build_ok();
    assert!(site.exists("case-studies/temp/index.html"));
    let style_time = fs::metadata(site.public().join("style.css"))
        .unwrap()
        .modified()
        .unwrap();
    site.remove("content/case-studies/temp.md");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = site.build_ok();
    assert!(!site.exists("case-studies/temp/index.html"));
    assert!(
        !site.public().join("case-studies/temp").exists(),
        "the emptied folder goes too"
    );
    assert!(site.public().join("case-studies").is_dir());
    assert_eq!(
        fs::metadata(site.public().join("style.css"))
            .unwrap()
            .modified()
            .unwrap(),
        style_time
    );
    assert!(report.unchanged > 0 && report.written > 0, "{report:?}");
    // Its page, and what only it fed (its practice's page, a search shard).
    assert!(report.removed >= 1, "removals are counted: {report:?}");
    let again = site.build_ok();
    assert_eq!(
        (again.written, again.removed),
        (0, 0),
        "an unchanged site rewrites and removes nothing: {again:?}"
    );
}

#[test]
fn drafts_are_built_only_with_the_flag() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/wip.md",
        case_study(
            "WIP",
            "london",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "draft: true\n",
            "x",
        ),
    );
    site.build_ok();
    assert!(!site.exists("case-studies/wip/index.html"));
    assert!(!site.read("replication.csv").contains("wip"));
    let out = site.run(&["build", "--drafts"]);
    assert!(out.status.success());
    assert!(site.exists("case-studies/wip/index.html"));
}

#[test]
fn site_templates_override_the_theme_file_by_file() {
    let site = TestSite::new();
    site.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<p id=\"custom\">{{ page.title }}</p>{% endblock content %}");
    site.write(
        "content/about.md",
        "---\ntitle: About\nkind: page\n---\nx\n",
    );
    site.build_ok();
    let page = site.read("about/index.html");
    assert!(page.contains("<p id=\"custom\">About</p>"));
    assert!(
        page.contains("class=\"site-header\""),
        "base.html still comes from the theme"
    );
}

#[test]
fn broken_template_is_a_diagnostic_naming_the_template() {
    let site = TestSite::new();
    site.write(
        "content/about.md",
        "---\ntitle: About\nkind: page\n---\nx\n",
    );
    site.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}{{ page.title | nosuchfilter }}{% endblock content %}");
    let errors = site.build_errors();
    assert_eq!(errors[0].code, "broken-template");
    assert!(
        errors[0].path.ends_with("templates/page.html"),
        "{:?}",
        errors[0]
    );
    assert!(
        errors[0].message.contains("nosuchfilter"),
        "{:?}",
        errors[0]
    );

    site.write(
        "templates/page.html",
        "{% extends \"base.html\" %}{% block content %}{% if %}{% endblock content %}",
    );
    let errors = site.build_errors();
    assert_eq!(errors[0].code, "broken-template");
    assert!(
        errors[0].path.ends_with("templates/page.html"),
        "{:?}",
        errors[0]
    );
    assert!(!site.public().exists());
}

#[test]
fn bom_and_crlf_parse_like_plain_files() {
    let site = TestSite::new();
    let text = case_study(
        "Windows",
        "london",
        "heat-compact",
        "pilot",
        "2020-01-01",
        "",
        "## Results\r\n\r\nDone.",
    )
    .replace('\n', "\r\n");
    site.write("content/case-studies/win.md", format!("\u{feff}{text}"));
    site.build_ok();
    assert!(site
        .read("case-studies/win/index.html")
        .contains("<h2 id=\"results\">Results</h2>"));
}

#[test]
fn cli_summary_and_exit_codes() {
    let site = TestSite::new();
    let ok = site.run(&["build"]);
    assert_eq!(ok.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout.starts_with("built ") && stdout.contains(" pages ") && stdout.contains(" s "),
        "{stdout}"
    );

    site.write(
        "content/case-studies/bad.md",
        case_study(
            "Bad",
            "edinbrugh",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "",
            "x",
        ),
    );
    let bad = site.run(&["build"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains(
            "content/case-studies/bad.md:7:7: error[unknown-city]: unknown city `edinbrugh`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("7 | city: edinbrugh"), "{stderr}");
    assert!(stderr.contains("did you mean `edinburgh`?"), "{stderr}");

    assert_eq!(
        site.run(&["build", "--no-such-flag"]).status.code(),
        Some(2)
    );
    assert_eq!(site.run(&["build", "--output", "."]).status.code(), Some(2));
    assert_eq!(
        site.run(&["build", "--output", "content/out"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        site.run(&["build", "--root", "/nonexistent/site"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn unknown_config_key_names_line_and_nearest_key() {
    let site = TestSite::new();
    site.edit("site.toml", |t| t.replace("description =", "descripton ="));
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("site.toml:3:1: error[unknown-key]"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `description`?"), "{stderr}");
}

#[test]
fn build_into_another_folder_with_base_url_override() {
    let site = TestSite::new();
    let out = site.root().join("elsewhere/site");
    let run = site.run(&[
        "build",
        "--output",
        out.to_str().unwrap(),
        "--base-url",
        "https://mirror.example.net/cc/",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let home = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(home.contains("href=\"/cc/style.css\""));
    assert!(fs::read_to_string(out.join("replication.csv"))
        .unwrap()
        .contains("https://mirror.example.net/cc/case-studies/heat-edinburgh/"));
}
