//! Machine-readable outputs written by code rather than templates, so their
//! escaping and formats are guaranteed: Atom feeds, the sitemap, robots.txt,
//! and the replication CSV and JSON of SPEC §4.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::site::Site;
use crate::text::escape_html;

/// Entries per feed: enough for any reader, small enough to fetch often.
pub const FEED_ENTRIES: usize = 50;
/// The sitemaps.org limit of URLs per file.
pub const SITEMAP_MAX_URLS: usize = 50_000;

/// One feed to write: its route, title, the page it describes, and the studies in it (newest first).
struct FeedSpec<'a> {
    /// Route of the feed file, e.g. `cities/london/atom.xml`.
    pub route: String,
    /// Feed title.
    pub title: String,
    /// Route of the HTML page the feed mirrors.
    pub page_route: String,
    /// Indexes into `site.studies`, newest first.
    pub studies: &'a [usize],
}

/// Every feed: the site's, then one per city and one per theme.
fn feed_specs(site: &Site) -> Vec<FeedSpec<'_>> {
    let c = &site.config;
    let mut specs = vec![FeedSpec {
        route: "atom.xml".into(),
        title: c.title.clone(),
        page_route: String::new(),
        studies: &site.indexes.newest,
    }];
    for (city, cx) in c.cities.iter().zip(&site.indexes.cities) {
        specs.push(FeedSpec {
            route: format!("cities/{}/atom.xml", city.key),
            title: format!("{}: {}", c.title, city.name),
            page_route: format!("cities/{}/", city.key),
            studies: &cx.all_newest,
        });
    }
    for (theme, tx) in c.themes.iter().zip(&site.indexes.themes) {
        specs.push(FeedSpec {
            route: format!("themes/{}/atom.xml", theme.key),
            title: format!("{}: {}", c.title, theme.name),
            page_route: format!("themes/{}/", theme.key),
            studies: &tx.studies,
        });
    }
    specs
}

/// Every feed, or with `touching` only those showing one of those studies, as
/// (route, XML), built in parallel. A study in several feeds has its content
/// absolutised and escaped once.
pub fn atom_feeds(site: &Site, touching: Option<&HashSet<usize>>) -> Vec<(String, String)> {
    use rayon::prelude::*;
    let mut specs = feed_specs(site);
    if let Some(touching) = touching {
        specs.retain(|spec| {
            spec.studies
                .iter()
                .take(FEED_ENTRIES)
                .any(|i| touching.contains(i))
        });
    }
    let mut shown: Vec<usize> = specs
        .iter()
        .flat_map(|spec| spec.studies.iter().copied().take(FEED_ENTRIES))
        .collect();
    shown.sort_unstable();
    shown.dedup();
    let c = &site.config;
    let contents: HashMap<usize, String> = shown
        .into_par_iter()
        .map(|i| {
            let html = absolutise(&site.bodies[i].html, &c.base_path, &c.base_url);
            (i, escape_html(&html))
        })
        .collect();
    specs
        .par_iter()
        .map(|spec| (spec.route.clone(), atom_feed(site, spec, &contents)))
        .collect()
}

/// An Atom (RFC 4287) feed with absolute links, summaries and full content;
/// `contents` holds each entry's escaped, absolutised HTML.
fn atom_feed(site: &Site, spec: &FeedSpec, contents: &HashMap<usize, String>) -> String {
    let c = &site.config;
    let entries: Vec<usize> = spec.studies.iter().copied().take(FEED_ENTRIES).collect();
    let updated = entries
        .iter()
        .filter_map(|&i| site.studies[i].last_modified())
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), |d| d.rfc3339());
    let mut x = String::with_capacity(4096 + entries.len() * 6000);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        escape_html(&c.language)
    );
    let _ = writeln!(x, "  <title>{}</title>", escape_html(&spec.title));
    if !c.description.is_empty() {
        let _ = writeln!(x, "  <subtitle>{}</subtitle>", escape_html(&c.description));
    }
    let _ = writeln!(
        x,
        "  <link href=\"{}\" rel=\"self\" type=\"application/atom+xml\"/>",
        escape_html(&c.permalink(&spec.route))
    );
    let _ = writeln!(
        x,
        "  <link href=\"{}\" rel=\"alternate\" type=\"text/html\"/>",
        escape_html(&c.permalink(&spec.page_route))
    );
    let _ = writeln!(x, "  <id>{}</id>", escape_html(&c.permalink(&spec.route)));
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(
        x,
        "  <author><name>{}</name></author>",
        escape_html(&c.title)
    );
    let _ = writeln!(x, "  <generator>casebook</generator>");
    for i in entries {
        let s = &site.studies[i];
        let link = c.permalink(&s.route);
        let _ = writeln!(x, "  <entry>");
        let _ = writeln!(x, "    <title>{}</title>", escape_html(&s.title));
        let _ = writeln!(
            x,
            "    <link href=\"{}\" rel=\"alternate\" type=\"text/html\"/>",
            escape_html(&link)
        );
        let _ = writeln!(x, "    <id>{}</id>", escape_html(&link));
        if let Some(d) = s.date {
            let _ = writeln!(x, "    <published>{}</published>", d.rfc3339());
        }
        let _ = writeln!(
            x,
            "    <updated>{}</updated>",
            s.last_modified()
                .map_or_else(|| updated.clone(), |d| d.rfc3339())
        );
        for a in &s.authors {
            let _ = writeln!(x, "    <author><name>{}</name></author>", escape_html(a));
        }
        let _ = writeln!(
            x,
            "    <category term=\"{}\" label=\"{}\"/>",
            s.kind.as_str(),
            s.kind.label()
        );
        for t in &s.themes {
            let label = c.theme(t).map_or(t.as_str(), |t| t.name.as_str());
            let _ = writeln!(
                x,
                "    <category term=\"{}\" label=\"{}\"/>",
                escape_html(t),
                escape_html(label)
            );
        }
        if !s.summary.is_empty() {
            let _ = writeln!(x, "    <summary>{}</summary>", escape_html(&s.summary));
        }
        let _ = writeln!(
            x,
            "    <content type=\"html\">{}</content>",
            contents.get(&i).map_or("", String::as_str)
        );
        let _ = writeln!(x, "  </entry>");
    }
    x.push_str("</feed>\n");
    x
}

/// Rewrites root-relative `href`/`src` under the base path to absolute URLs, for feeds.
pub fn absolutise(html: &str, base_path: &str, base_url: &str) -> String {
    let needle = format!("=\"{base_path}");
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    let mut out = String::with_capacity(html.len() + 1024);
    let mut done = 0;
    for at in finder.find_iter(html.as_bytes()) {
        let before = &html[..at];
        let attribute = before
            .strip_suffix("href")
            .or_else(|| before.strip_suffix("src"));
        if attribute.is_some_and(|b| b.ends_with(|c: char| c.is_ascii_whitespace())) {
            out.push_str(&html[done..at + 2]);
            out.push_str(base_url);
            done = at + needle.len();
        }
    }
    out.push_str(&html[done..]);
    out
}

/// The sitemap files: `sitemap.xml` alone, or an index over `sitemap-N.xml` files past 50,000 URLs.
pub fn sitemaps(site: &Site, routes: &[(String, Option<String>)]) -> Vec<(String, String)> {
    let c = &site.config;
    let urlset = |chunk: &[(String, Option<String>)]| {
        let mut x = String::with_capacity(chunk.len() * 120 + 200);
        x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for (route, lastmod) in chunk {
            let _ = write!(x, "  <url><loc>{}</loc>", escape_html(&c.permalink(route)));
            if let Some(d) = lastmod {
                let _ = write!(x, "<lastmod>{d}</lastmod>");
            }
            x.push_str("</url>\n");
        }
        x.push_str("</urlset>\n");
        x
    };
    if routes.len() <= SITEMAP_MAX_URLS {
        return vec![("sitemap.xml".into(), urlset(routes))];
    }
    let mut files = Vec::new();
    let mut index = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (n, chunk) in routes.chunks(SITEMAP_MAX_URLS).enumerate() {
        let name = format!("sitemap-{}.xml", n + 1);
        let _ = writeln!(
            index,
            "  <sitemap><loc>{}</loc></sitemap>",
            escape_html(&c.permalink(&name))
        );
        files.push((name, urlset(chunk)));
    }
    index.push_str("</sitemapindex>\n");
    files.insert(0, ("sitemap.xml".into(), index));
    files
}

/// robots.txt pointing at the sitemap.
pub fn robots(site: &Site) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        site.config.permalink("sitemap.xml")
    )
}

/// Quotes a CSV field per RFC 4180 when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `/replication.csv`: one row per case study, sorted by practice, city, date, URL; CRLF line ends.
pub fn replication_csv(site: &Site) -> String {
    let c = &site.config;
    let mut out = String::from("practice,practice_name,city,stage,date,replicated_from,url\r\n");
    for p in &site.indexes.practices {
        for &i in &p.cases {
            let s = &site.studies[i];
            let row = [
                csv_field(&p.slug),
                csv_field(&p.name),
                csv_field(s.city.as_deref().unwrap_or("")),
                csv_field(s.stage.map_or("", |st| st.as_str())),
                s.date.map(|d| d.to_string()).unwrap_or_default(),
                csv_field(s.replicated_from.as_deref().unwrap_or("")),
                csv_field(&c.permalink(&s.route)),
            ];
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out
}

#[derive(Serialize)]
struct JsonExport<'a> {
    practices: Vec<JsonPractice<'a>>,
    cities: Vec<JsonCity<'a>>,
}

#[derive(Serialize)]
struct JsonPractice<'a> {
    slug: &'a str,
    name: &'a str,
    origin: Option<&'a str>,
    playbook_url: Option<String>,
    themes: &'a [String],
    cases: Vec<JsonCase<'a>>,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    city: Option<&'a str>,
    stage: Option<&'a str>,
    date: Option<String>,
    replicated_from: Option<&'a str>,
    url: String,
}

#[derive(Serialize)]
struct JsonCity<'a> {
    key: &'a str,
    name: &'a str,
    country: &'a str,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// `/replication.json` in the SPEC's shape and order.
pub fn replication_json(site: &Site) -> String {
    let c = &site.config;
    let export = JsonExport {
        practices: site
            .indexes
            .practices
            .iter()
            .map(|p| JsonPractice {
                slug: &p.slug,
                name: &p.name,
                origin: p.origin.as_deref(),
                playbook_url: p.playbook.map(|i| c.permalink(&site.studies[i].route)),
                themes: &p.themes,
                cases: p
                    .cases
                    .iter()
                    .map(|&i| {
                        let s = &site.studies[i];
                        JsonCase {
                            city: s.city.as_deref(),
                            stage: s.stage.map(|st| st.as_str()),
                            date: s.date.map(|d| d.to_string()),
                            replicated_from: s.replicated_from.as_deref(),
                            url: c.permalink(&s.route),
                        }
                    })
                    .collect(),
            })
            .collect(),
        cities: c
            .cities
            .iter()
            .map(|x| JsonCity {
                key: &x.key,
                name: &x.name,
                country: &x.country,
                lat: x.lat,
                lon: x.lon,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&export).expect("plain data serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_per_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn absolutise_only_touches_internal_urls() {
        let html =
            "<a href=\"/sub/x/\">x</a><img src=\"/sub/i.png\"><a href=\"https://o.org/\">o</a> data=\"/sub/\" /sub/";
        assert_eq!(
            absolutise(html, "/sub/", "https://e.org/sub/"),
            "<a href=\"https://e.org/sub/x/\">x</a><img src=\"https://e.org/sub/i.png\"><a href=\"https://o.org/\">o</a> data=\"/sub/\" /sub/"
        );
        assert_eq!(
            absolutise("<a href=\"/x/\">", "/", "https://e.org/"),
            "<a href=\"https://e.org/x/\">"
        );
    }
}
