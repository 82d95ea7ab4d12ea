//! What visitors and machines get: metadata, feeds, sitemap and the search index.

mod common;

use common::{attrs, case_study, html, texts, TestSite};

#[test]
fn study_pages_carry_canonical_open_graph_and_json_ld() {
    let site = TestSite::new();
    site.edit("site.toml", |t| {
        t.replace("language = \"en\"", "language = \"en-GB\"")
    });
    site.build_ok();
    let page = site.read("case-studies/heat-edinburgh/index.html");
    let doc = html(&page);
    assert_eq!(attrs(&doc, "html", "lang"), ["en-GB"]);
    assert_eq!(
        attrs(&doc, "link[rel=canonical]", "href"),
        ["https://example.org/case-studies/heat-edinburgh/"]
    );
    assert_eq!(
        attrs(&doc, "meta[property='og:title']", "content"),
        ["Heat Compact in Edinburgh"]
    );
    assert_eq!(
        attrs(&doc, "meta[property='og:description']", "content"),
        ["The first heat compact."]
    );
    assert_eq!(
        attrs(&doc, "meta[property='og:type']", "content"),
        ["article"]
    );
    assert_eq!(
        attrs(&doc, "meta[property='og:locale']", "content"),
        ["en_GB"]
    );
    assert_eq!(
        attrs(&doc, "meta[name='twitter:card']", "content"),
        ["summary"]
    );
    assert_eq!(
        attrs(&doc, "meta[name=description]", "content"),
        ["The first heat compact."]
    );
    assert_eq!(
        attrs(&doc, "link[rel=manifest]", "href"),
        ["/site.webmanifest"]
    );
    assert_eq!(attrs(&doc, "link[rel=icon]", "href"), ["/favicon.svg"]);
    let ld: serde_json::Value =
        serde_json::from_str(&texts(&doc, "script[type='application/ld+json']")[0]).unwrap();
    assert_eq!(ld["@type"], "Article");
    assert_eq!(ld["headline"], "Heat Compact in Edinburgh");
    assert_eq!(ld["datePublished"], "2019-05-01");
    assert_eq!(ld["spatialCoverage"]["@type"], "City");
    assert_eq!(ld["spatialCoverage"]["name"], "Edinburgh");
    assert_eq!(ld["spatialCoverage"]["geo"]["latitude"], 55.953);
    assert_eq!(ld["about"][0]["name"], "Heat");
    assert!(site.exists("site.webmanifest") && site.exists("favicon.svg"));
}

#[test]
fn pages_reference_no_external_assets_and_work_without_script() {
    let site = TestSite::new();
    site.build_ok();
    for file in [
        "index.html",
        "case-studies/heat-edinburgh/index.html",
        "replication/index.html",
        "search/index.html",
    ] {
        let doc = html(&site.read(file));
        for (sel, attr) in [("link", "href"), ("script[src]", "src"), ("img", "src")] {
            for url in attrs(&doc, sel, attr) {
                assert!(
                    url.starts_with('/')
                        || attrs(&doc, "link[rel=canonical]", "href").contains(&url),
                    "{file}: external asset {url}"
                );
            }
        }
    }
    // Only the search page loads a script, and it is deferred enhancement over a working form.
    let home = site.read("index.html");
    assert!(
        !home.contains("<script src"),
        "home works without JavaScript"
    );
    let search = html(&site.read("search/index.html"));
    assert_eq!(attrs(&search, "form#cb-search", "action"), ["/search/"]);
    assert_eq!(attrs(&search, "script[src]", "defer").len(), 1);
}

#[test]
fn atom_feed_is_newest_first_with_absolute_links_summaries_and_content() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/newer.md",
        case_study(
            "Newer & better",
            "london",
            "heat-compact",
            "replicated",
            "2023-02-01",
            "updated: 2024-01-01\nauthors: [\"Ada\"]\n",
            "See [the pilot](heat-edinburgh.md).",
        ),
    );
    site.build_ok();
    let feed = site.read("atom.xml");
    assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">"));
    let titles: Vec<&str> = feed
        .match_indices("<title>")
        .skip(1)
        .map(|(i, _)| &feed[i + 7..i + 7 + feed[i + 7..].find('<').unwrap()])
        .collect();
    assert_eq!(
        titles,
        [
            "Newer &amp; better",
            "Heat Compact in Edinburgh",
            "Heat Compact"
        ]
    );
    assert!(feed.contains("<updated>2024-01-01T00:00:00Z</updated>"));
    assert!(feed.contains("<published>2023-02-01T00:00:00Z</published>"));
    assert!(feed.contains("<author><name>Ada</name></author>"));
    assert!(feed.contains("<summary>About Newer &amp; better.</summary>"));
    assert!(feed.contains("<content type=\"html\">&lt;p&gt;See &lt;a href=&quot;https://example.org/case-studies/heat-edinburgh/&quot;&gt;"), "{feed}");
    assert!(feed.contains("<link href=\"https://example.org/atom.xml\" rel=\"self\""));
    assert!(site
        .read("themes/heat/atom.xml")
        .contains("Newer &amp; better"));
    assert!(!site.read("cities/valencia/atom.xml").contains("<entry>"));
}

#[test]
fn sitemap_lists_every_page_with_lastmod_and_robots_points_at_it() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/upd.md",
        case_study(
            "Upd",
            "london",
            "heat-compact",
            "pilot",
            "2020-01-01",
            "updated: 2021-06-30\n",
            "x",
        ),
    );
    site.build_ok();
    let sitemap = site.read("sitemap.xml");
    assert!(sitemap.contains(
        "<url><loc>https://example.org/case-studies/upd/</loc><lastmod>2021-06-30</lastmod></url>"
    ));
    assert!(sitemap.contains("<url><loc>https://example.org/cities/london/</loc></url>"));
    assert!(!sitemap.contains("404.html"));
    let locs = sitemap.matches("<loc>").count();
    let pages = common::snapshot(&site.public())
        .iter()
        .filter(|(f, _)| f.ends_with("index.html"))
        .count();
    assert_eq!(locs, pages, "every page, once");
    assert!(site
        .read("robots.txt")
        .contains("Sitemap: https://example.org/sitemap.xml"));
}

#[test]
fn search_index_is_chunked_and_a_query_needs_little() {
    let site = TestSite::new();
    for n in 0..300 {
        site.write(
            &format!("content/case-studies/s{n}.md"),
            case_study(
                &format!("Study {n} on district heating"),
                ["london", "valencia", "edinburgh"][n % 3],
                "heat-compact",
                "replicated",
                "2021-01-01",
                "",
                &format!("Body {n} about heat pumps, procurement and tenants."),
            ),
        );
    }
    site.build_ok();
    let meta: serde_json::Value =
        serde_json::from_str(&site.read("search-index/meta.json")).unwrap();
    assert_eq!(meta["docs"], 302);
    let chunk = meta["chunk"].as_u64().unwrap() as usize;
    let cities: serde_json::Value =
        serde_json::from_str(&site.read("search-index/facet-city.json")).unwrap();
    assert_eq!(cities["valencia"].as_array().unwrap().len(), 100);
    for shard in meta["shards"].as_array().unwrap() {
        let file = site.read(&format!(
            "search-index/terms-{}.json",
            shard.as_str().unwrap()
        ));
        assert!(
            file.len() < 100_000,
            "shard {shard} is {} bytes",
            file.len()
        );
    }
    let shard: serde_json::Value =
        serde_json::from_str(&site.read("search-index/terms-di.json")).unwrap();
    let postings = shard["district"].as_array().unwrap();
    assert_eq!(postings.len(), 600, "doc and score for each of 300 studies");
    let first_doc = postings[0].as_u64().unwrap() as usize;
    let docs: serde_json::Value =
        serde_json::from_str(&site.read(&format!("search-index/docs-{}.json", first_doc / chunk)))
            .unwrap();
    assert!(docs[first_doc % chunk]["t"]
        .as_str()
        .unwrap()
        .contains("district heating"));
    assert!(docs[first_doc % chunk]["u"]
        .as_str()
        .unwrap()
        .starts_with("/case-studies/s"));
    // One query: meta + one shard + one docs chunk.
    let bytes = site.read("search-index/meta.json").len()
        + site.read("search-index/terms-di.json").len()
        + site.read("search-index/docs-0.json").len();
    assert!(bytes < 200_000, "{bytes} bytes");
}
