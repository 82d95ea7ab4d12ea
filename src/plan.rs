//! Pure: what pages exist, their routes, templates and the context each
//! template sees. A template gets only what its plan hands it.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::index::Indexes;
use crate::model::{Kind, Stage, Study};
use crate::site::Site;
use crate::svg;

/// Studies per page of a kind list.
pub const LIST_PAGE_SIZE: usize = 100;
/// Above this many practices the matrix is split into one page per theme.
pub const MATRIX_SPLIT_AT: usize = 120;
/// Studies shown on the home page.
const HOME_LATEST: usize = 8;
/// Studies listed per city on a theme page; the rest are one filtered search away.
pub const THEME_GROUP_SHOWN: usize = 60;
/// Case studies listed on a city page, newest first; the rest are one filtered search away.
pub const CITY_CASES_SHOWN: usize = 120;
/// Practice names listed per replication edge on the home page; the rest are counted.
const HOME_EDGE_NAMES: usize = 4;

/// Which page a plan is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageKind {
    /// `/`.
    Home,
    /// One study or page (index into `Site::studies`).
    Study(usize),
    /// A kind list, 1-based page number.
    List(Kind, usize),
    /// `/cities/`.
    Cities,
    /// `/cities/<key>/` (index into `Config::cities`).
    City(usize),
    /// `/themes/`.
    Themes,
    /// `/themes/<key>/`.
    Theme(usize),
    /// `/practices/`.
    Practices,
    /// `/practices/<slug>/`.
    Practice(usize),
    /// `/replication/`: the whole matrix, or an overview when split.
    Replication,
    /// `/replication/<theme>/`: the matrix for one theme, when split.
    ReplicationTheme(usize),
    /// `/search/`.
    Search,
    /// `/404.html`.
    NotFound,
}

/// One HTML page to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePlan {
    /// Route: `case-studies/x/` or `404.html`.
    pub route: String,
    /// Template name.
    pub template: &'static str,
    /// What it shows.
    pub kind: PageKind,
}

/// The output file of a route: `x/` -> `x/index.html`.
pub fn route_file(route: &str) -> String {
    if route.is_empty() || route.ends_with('/') {
        format!("{route}index.html")
    } else {
        route.to_owned()
    }
}

/// Every HTML page of the site, in a stable order.
pub fn plan_pages(site: &Site) -> Vec<PagePlan> {
    let mut plans = vec![PagePlan {
        route: String::new(),
        template: "home.html",
        kind: PageKind::Home,
    }];
    for (i, s) in site.studies.iter().enumerate() {
        let template = match s.kind {
            Kind::CaseStudy => "case-study.html",
            Kind::Playbook => "playbook.html",
            Kind::Challenge => "challenge.html",
            Kind::Page => "page.html",
        };
        plans.push(PagePlan {
            route: s.route.clone(),
            template,
            kind: PageKind::Study(i),
        });
    }
    for kind in Kind::STUDIES {
        let count = site
            .indexes
            .newest
            .iter()
            .filter(|&&i| site.studies[i].kind == kind)
            .count();
        let pages = count.div_ceil(LIST_PAGE_SIZE).max(1);
        for page in 1..=pages {
            plans.push(PagePlan {
                route: list_route(kind, page),
                template: "list.html",
                kind: PageKind::List(kind, page),
            });
        }
    }
    let c = &site.config;
    plans.push(PagePlan {
        route: "cities/".into(),
        template: "cities.html",
        kind: PageKind::Cities,
    });
    for (i, city) in c.cities.iter().enumerate() {
        plans.push(PagePlan {
            route: format!("cities/{}/", city.key),
            template: "city.html",
            kind: PageKind::City(i),
        });
    }
    plans.push(PagePlan {
        route: "themes/".into(),
        template: "themes.html",
        kind: PageKind::Themes,
    });
    for (i, theme) in c.themes.iter().enumerate() {
        plans.push(PagePlan {
            route: format!("themes/{}/", theme.key),
            template: "theme.html",
            kind: PageKind::Theme(i),
        });
    }
    plans.push(PagePlan {
        route: "practices/".into(),
        template: "practices.html",
        kind: PageKind::Practices,
    });
    for (i, p) in site.indexes.practices.iter().enumerate() {
        plans.push(PagePlan {
            route: p.route(),
            template: "practice.html",
            kind: PageKind::Practice(i),
        });
    }
    plans.push(PagePlan {
        route: "replication/".into(),
        template: "replication.html",
        kind: PageKind::Replication,
    });
    if matrix_is_split(&site.indexes) {
        for (i, theme) in c.themes.iter().enumerate() {
            plans.push(PagePlan {
                route: format!("replication/{}/", theme.key),
                template: "replication.html",
                kind: PageKind::ReplicationTheme(i),
            });
        }
    }
    plans.push(PagePlan {
        route: "search/".into(),
        template: "search.html",
        kind: PageKind::Search,
    });
    plans.push(PagePlan {
        route: "404.html".into(),
        template: "404.html",
        kind: PageKind::NotFound,
    });
    plans
}

/// Whether the matrix is too large for one page.
pub fn matrix_is_split(ix: &Indexes) -> bool {
    ix.practices.len() > MATRIX_SPLIT_AT
}

fn list_route(kind: Kind, page: usize) -> String {
    if page == 1 {
        format!("{}/", kind.section())
    } else {
        format!("{}/page/{page}/", kind.section())
    }
}

/// Numbers for readers: `1,200`, `0.35`, `2,000,000`.
pub fn number_display(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let digits = (v.abs() as i64).to_string();
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        if v < 0.0 {
            format!("-{out}")
        } else {
            out
        }
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Which header a page gets: (nav section, the page's URL when it is itself in the nav).
pub type ChromeKey = (String, String);

/// Template contexts, built once per site and then per page.
pub struct Contexts<'a> {
    site: &'a Site,
    base: Map<String, Value>,
    snippets: Vec<(Value, Value)>,
    chrome: HashMap<ChromeKey, Value>,
}

impl<'a> Contexts<'a> {
    /// Prepares the parts every page shares.
    pub fn new(site: &'a Site) -> Self {
        let c = &site.config;
        let nav: Vec<Value> = [
            ("case-studies", "Case studies", "case-studies/"),
            ("practices", "Practices", "practices/"),
            ("replication", "Replication", "replication/"),
            ("cities", "Cities", "cities/"),
            ("themes", "Themes", "themes/"),
            ("playbooks", "Playbooks", "playbooks/"),
            ("challenges", "Challenges", "challenges/"),
        ]
        .iter()
        .map(|(key, title, route)| json!({"key": key, "title": title, "url": c.url(route)}))
        .collect();
        let about = site
            .studies
            .iter()
            .find(|s| s.kind == Kind::Page && s.route == "about/")
            .map(|s| c.url(&s.route));
        let mut base = Map::new();
        base.insert(
            "site".into(),
            json!({
                "title": c.title,
                "description": c.description,
                "base_url": c.base_url,
                "base_path": c.base_path,
                "language": c.language,
                "nav": nav,
                "about_url": about,
                "home_url": c.url(""),
                "feed_url": c.url("atom.xml"),
                "search_url": c.url("search/"),
                "style_url": c.url("style.css"),
                "syntax_url": c.url("syntax.css"),
                "search_js_url": c.url("search.js"),
                "search_index_url": c.url("search-index/"),
                "favicon_url": c.url("favicon.svg"),
                "manifest_url": c.url("site.webmanifest"),
                "replication_csv_url": c.url("replication.csv"),
                "replication_json_url": c.url("replication.json"),
            }),
        );
        Contexts {
            site,
            base,
            snippets: Vec::new(),
            chrome: HashMap::new(),
        }
    }

    /// The contexts `header.html` and `footer.html` need: one per nav section and
    /// current nav URL, as (key, context). The key is what [`Contexts::set_chrome`] takes back.
    pub fn chrome_contexts(&self, plans: &[PagePlan]) -> Vec<(ChromeKey, Value)> {
        let mut keys: Vec<ChromeKey> = plans.iter().map(|p| self.chrome_key(p)).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|(section, url)| {
                let mut ctx = self.base.clone();
                ctx.insert("meta".into(), json!({"section": section, "url": url}));
                ((section, url), Value::Object(ctx))
            })
            .collect()
    }

    /// The header and footer HTML for each chrome key.
    pub fn set_chrome(&mut self, chrome: Vec<(ChromeKey, String, String)>) {
        self.chrome = chrome
            .into_iter()
            .map(|(k, h, f)| (k, json!({"header": h, "footer": f})))
            .collect();
    }

    /// (section, URL if the page is itself in the nav).
    fn chrome_key(&self, plan: &PagePlan) -> ChromeKey {
        let c = &self.site.config;
        let url = c.url(&plan.route);
        let in_nav = self.base["site"]["nav"]
            .as_array()
            .is_some_and(|nav| nav.iter().any(|i| i["url"] == url.as_str()));
        (self.section(plan), if in_nav { url } else { String::new() })
    }

    fn section(&self, plan: &PagePlan) -> String {
        match &plan.kind {
            PageKind::Study(i) => self.site.studies[*i].kind.section().to_owned(),
            PageKind::List(kind, _) => kind.section().to_owned(),
            PageKind::Cities | PageKind::City(_) => "cities".into(),
            PageKind::Themes | PageKind::Theme(_) => "themes".into(),
            PageKind::Practices | PageKind::Practice(_) => "practices".into(),
            PageKind::Replication | PageKind::ReplicationTheme(_) => "replication".into(),
            PageKind::Search => "search".into(),
            PageKind::Home | PageKind::NotFound => String::new(),
        }
    }

    /// The card of study `i`, as `card.html` and `row.html` see it (`item`).
    /// Built on demand rather than held for every study, to keep memory flat at scale.
    pub fn card(&self, i: usize) -> Value {
        card(self.site, &self.site.studies[i])
    }

    /// Each study's card and row, rendered once per build and reused by every list.
    pub fn set_snippets(&mut self, snippets: Vec<(String, String)>) {
        self.snippets = snippets
            .into_iter()
            .map(|(c, r)| (Value::String(c), Value::String(r)))
            .collect();
    }

    /// `{card, row}`: the rendered snippets of study `i`, for list templates.
    fn snippet(&self, i: usize) -> Value {
        let (card, row) = self
            .snippets
            .get(i)
            .cloned()
            .unwrap_or((Value::Null, Value::Null));
        json!({"card": card, "row": row})
    }

    /// The context for one page.
    pub fn context(&self, plan: &PagePlan) -> Value {
        let site = self.site;
        let c = &site.config;
        let ix = &site.indexes;
        let mut ctx = self.base.clone();
        let mut meta = json!({
            "url": c.url(&plan.route),
            "permalink": c.permalink(&plan.route),
            "section": "",
            "title": c.title,
            "description": c.description,
            "og_type": "website",
        });
        let mut set = |k: &str, v: Value| {
            ctx.insert(k.to_owned(), v);
        };
        match &plan.kind {
            PageKind::Home => {
                let latest: Vec<Value> = ix
                    .newest
                    .iter()
                    .take(HOME_LATEST)
                    .map(|&i| self.snippet(i))
                    .collect();
                let mut top: Vec<usize> = (0..ix.practices.len()).collect();
                top.sort_by_key(|&p| {
                    (
                        std::cmp::Reverse(cities_of(ix, p)),
                        ix.practices[p].slug.clone(),
                    )
                });
                top.truncate(8);
                top.sort_by(|&a, &b| {
                    ix.practices[a]
                        .name
                        .cmp(&ix.practices[b].name)
                        .then(a.cmp(&b))
                });
                set("latest", Value::Array(latest));
                set("matrix", self.matrix(&top));
                set("city_counts", self.city_summaries());
                set("theme_counts", self.theme_summaries());
                set(
                    "map_svg",
                    Value::String(svg::replication_map(
                        c,
                        ix,
                        &ix.edges,
                        "Replication map: practices carried from city to city",
                    )),
                );
                set("edges", self.edges(&ix.edges, HOME_EDGE_NAMES));
                set(
                    "stats",
                    json!({
                        "case_studies": count_kind(site, Kind::CaseStudy),
                        "playbooks": count_kind(site, Kind::Playbook),
                        "challenges": count_kind(site, Kind::Challenge),
                        "practices": ix.practices.len(),
                        "cities": c.cities.len(),
                        "replications": ix.edges.iter().map(|e| e.practices.len()).sum::<usize>(),
                    }),
                );
            }
            PageKind::Study(i) => {
                let s = &site.studies[*i];
                let body = &site.bodies[*i];
                meta["title"] = json!(s.title);
                if !s.summary.is_empty() {
                    meta["description"] = json!(s.summary);
                }
                meta["section"] = json!(s.kind.section());
                meta["og_type"] = json!(if s.kind.is_study() {
                    "article"
                } else {
                    "website"
                });
                let mut page = match self.card(*i) {
                    Value::Object(m) => m,
                    _ => Map::new(),
                };
                page.insert("content".into(), json!(body.html));
                page.insert(
                    "toc".into(),
                    json!(if body.toc().iter().filter(|h| h.level == 2).count() >= 3 {
                        body.toc().to_vec()
                    } else {
                        Vec::new()
                    }),
                );
                page.insert(
                    "reading_minutes".into(),
                    json!(body.words.div_ceil(220).max(1)),
                );
                page.insert("authors".into(), json!(s.authors));
                page.insert("partners".into(), json!(s.partners));
                page.insert("period".into(), json!(s.period));
                page.insert("updated".into(), json!(s.updated));
                page.insert(
                    "updated_display".into(),
                    json!(s.updated.map(|d| d.display())),
                );
                page.insert(
                    "reviewed_display".into(),
                    json!(s.reviewed.map(|d| d.display())),
                );
                page.insert(
                    "sdgs".into(),
                    json!(s
                        .sdgs
                        .iter()
                        .map(|n| json!({"number": n, "name": sdg_name(*n)}))
                        .collect::<Vec<_>>()),
                );
                page.insert(
                    "replicated_from".into(),
                    s.replicated_from
                        .as_deref()
                        .map_or(Value::Null, |k| city_ref(c, k)),
                );
                page.insert(
                    "origin".into(),
                    s.origin.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
                );
                page.insert(
                    "cities".into(),
                    json!(s.cities.iter().map(|k| city_ref(c, k)).collect::<Vec<_>>()),
                );
                page.insert(
                    "practices".into(),
                    json!(s
                        .practices
                        .iter()
                        .map(|p| practice_ref(site, p))
                        .collect::<Vec<_>>()),
                );
                page.insert(
                    "outcomes".into(),
                    json!(s
                        .outcomes
                        .iter()
                        .map(|o| json!({
                            "metric": o.metric, "value": number_display(o.value), "unit": o.unit,
                            "baseline": o.baseline.map(number_display), "year": o.year, "source": o.source,
                            "source_is_url": o.source.as_deref().is_some_and(|s| s.starts_with("https://") || s.starts_with("http://")),
                        }))
                        .collect::<Vec<_>>()),
                );
                page.insert(
                    "funding".into(),
                    json!(s
                        .funding
                        .iter()
                        .map(|f| json!({"source": f.source, "amount": f.amount.map(number_display), "currency": f.currency}))
                        .collect::<Vec<_>>()),
                );
                if let Some((pi, p)) = s.practice.as_deref().and_then(|slug| ix.practice(slug)) {
                    set("practice", self.practice_summary(pi));
                    let others: Vec<Value> = p
                        .cases
                        .iter()
                        .filter(|&&j| j != *i)
                        .map(|&j| self.snippet(j))
                        .collect();
                    set("related", Value::Array(others));
                    if s.kind == Kind::Playbook {
                        set(
                            "map_svg",
                            Value::String(svg::replication_map(
                                c,
                                ix,
                                &practice_edges(ix, pi),
                                &format!("Where {} has been taken up", p.name),
                            )),
                        );
                    }
                }
                set("jsonld", Value::String(json_ld(site, s)));
                set("page", Value::Object(page));
            }
            PageKind::List(kind, page) => {
                let all: Vec<usize> = ix
                    .newest
                    .iter()
                    .copied()
                    .filter(|&i| site.studies[i].kind == *kind)
                    .collect();
                let pages = all.len().div_ceil(LIST_PAGE_SIZE).max(1);
                let items: Vec<Value> = all
                    .iter()
                    .skip((page - 1) * LIST_PAGE_SIZE)
                    .take(LIST_PAGE_SIZE)
                    .map(|&i| self.snippet(i))
                    .collect();
                meta["title"] = json!(if *page > 1 {
                    format!("{} (page {page} of {pages})", kind.label_plural())
                } else {
                    kind.label_plural().to_owned()
                });
                meta["section"] = json!(kind.section());
                set("heading", json!(kind.label_plural()));
                set("kind", json!(kind.as_str()));
                set("intro", json!(list_intro(*kind)));
                set("total", json!(all.len()));
                set("items", Value::Array(items));
                set(
                    "pagination",
                    json!({
                        "current": page, "total": pages,
                        "prev_url": (*page > 1).then(|| c.url(&list_route(*kind, page - 1))),
                        "next_url": (*page < pages).then(|| c.url(&list_route(*kind, page + 1))),
                        "pages": (1..=pages).map(|n| json!({"number": n, "url": c.url(&list_route(*kind, n)), "current": n == *page})).collect::<Vec<_>>(),
                    }),
                );
            }
            PageKind::Cities => {
                meta["title"] = json!("Cities");
                meta["section"] = json!("cities");
                set("cities", self.city_summaries());
                set(
                    "map_svg",
                    Value::String(svg::replication_map(
                        c,
                        ix,
                        &ix.edges,
                        "Map of the network's cities and the practices carried between them",
                    )),
                );
            }
            PageKind::City(ci) => {
                let city = &c.cities[*ci];
                let cx = &ix.cities[*ci];
                meta["title"] = json!(city.name);
                meta["section"] = json!("cities");
                meta["description"] = json!(format!(
                    "Low-carbon practice piloted, replicated and scaled in {}, {}.",
                    city.name, city.country
                ));
                meta["feed_url"] = json!(c.url(&format!("cities/{}/atom.xml", city.key)));
                set("city", city_ref(c, &city.key));
                set(
                    "originated",
                    json!(cx
                        .originated
                        .iter()
                        .map(|&p| self.practice_summary(p))
                        .collect::<Vec<_>>()),
                );
                set(
                    "adopted",
                    json!(cx
                        .adopted
                        .iter()
                        .map(|(p, from, case)| json!({
                            "practice": self.practice_summary(*p),
                            "from": from.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
                            "case": self.card(*case),
                        }))
                        .collect::<Vec<_>>()),
                );
                set(
                    "cases",
                    json!(cx
                        .cases
                        .iter()
                        .take(CITY_CASES_SHOWN)
                        .map(|&i| self.snippet(i))
                        .collect::<Vec<_>>()),
                );
                set("cases_total", json!(cx.cases.len()));
                set(
                    "cases_more_url",
                    json!(format!(
                        "{}?city={}&kind=case-study",
                        c.url("search/"),
                        city.key
                    )),
                );
                set(
                    "challenges",
                    json!(cx
                        .challenges
                        .iter()
                        .map(|&i| self.snippet(i))
                        .collect::<Vec<_>>()),
                );
                set(
                    "playbooks",
                    json!(cx
                        .playbooks
                        .iter()
                        .map(|&i| self.snippet(i))
                        .collect::<Vec<_>>()),
                );
                set("totals", outcome_totals(site, &cx.cases));
            }
            PageKind::Themes => {
                meta["title"] = json!("Themes");
                meta["section"] = json!("themes");
                set("themes", self.theme_summaries());
            }
            PageKind::Theme(ti) => {
                let theme = &c.themes[*ti];
                let tx = &ix.themes[*ti];
                meta["title"] = json!(theme.name);
                meta["section"] = json!("themes");
                if let Some(d) = &theme.description {
                    meta["description"] = json!(d);
                }
                meta["feed_url"] = json!(c.url(&format!("themes/{}/atom.xml", theme.key)));
                set(
                    "theme",
                    json!({"key": theme.key, "name": theme.name, "description": theme.description, "url": c.url(&format!("themes/{}/", theme.key))}),
                );
                set(
                    "groups",
                    json!(tx
                        .by_city
                        .iter()
                        .map(|(city, list)| json!({
                            "city": if city.is_empty() { Value::Null } else { city_ref(c, city) },
                            "items": list.iter().take(THEME_GROUP_SHOWN).map(|&i| self.snippet(i)).collect::<Vec<_>>(),
                            "total": list.len(),
                            "more_url": format!("{}?theme={}{}", c.url("search/"), theme.key, if city.is_empty() { String::new() } else { format!("&city={city}") }),
                        }))
                        .collect::<Vec<_>>()),
                );
                set(
                    "practices",
                    json!(tx
                        .practices
                        .iter()
                        .map(|&p| self.practice_summary(p))
                        .collect::<Vec<_>>()),
                );
                set("total", json!(tx.studies.len()));
                if matrix_is_split(ix) {
                    set(
                        "matrix_url",
                        json!(c.url(&format!("replication/{}/", theme.key))),
                    );
                }
            }
            PageKind::Practices => {
                meta["title"] = json!("Practices");
                meta["section"] = json!("practices");
                set(
                    "practices",
                    json!((0..ix.practices.len())
                        .map(|p| self.practice_summary(p))
                        .collect::<Vec<_>>()),
                );
            }
            PageKind::Practice(pi) => {
                let p = &ix.practices[*pi];
                meta["title"] = json!(p.name);
                meta["section"] = json!("practices");
                meta["description"] = json!(match p.playbook {
                    Some(pb) if !site.studies[pb].summary.is_empty() =>
                        site.studies[pb].summary.clone(),
                    _ => format!("Where {} has been piloted, replicated and scaled.", p.name),
                });
                set("practice", self.practice_summary(*pi));
                set("playbook", p.playbook.map_or(Value::Null, |i| self.card(i)));
                set(
                    "cases",
                    json!(p
                        .cases
                        .iter()
                        .map(|&i| self.case_row(i))
                        .collect::<Vec<_>>()),
                );
                set("path", self.edges(&practice_edges(ix, *pi), usize::MAX));
                set("outcomes", outcome_comparison(site, &p.cases));
                set(
                    "challenges",
                    json!(p
                        .challenges
                        .iter()
                        .map(|&i| self.snippet(i))
                        .collect::<Vec<_>>()),
                );
                set(
                    "map_svg",
                    Value::String(svg::replication_map(
                        c,
                        ix,
                        &practice_edges(ix, *pi),
                        &format!("Map: where {} has been taken up", p.name),
                    )),
                );
                set("timeline_svg", Value::String(svg::timeline(site, p)));
            }
            PageKind::Replication => {
                meta["title"] = json!("Replication matrix");
                meta["section"] = json!("replication");
                if matrix_is_split(ix) {
                    set(
                        "groups",
                        json!(c
                            .themes
                            .iter()
                            .enumerate()
                            .map(|(ti, t)| json!({
                                "name": t.name,
                                "url": c.url(&format!("replication/{}/", t.key)),
                                "practices": ix.themes[ti].practices.len(),
                            }))
                            .collect::<Vec<_>>()),
                    );
                    set("city_stage_counts", self.city_stage_counts());
                } else {
                    set(
                        "matrix",
                        self.matrix(&(0..ix.practices.len()).collect::<Vec<_>>()),
                    );
                }
            }
            PageKind::ReplicationTheme(ti) => {
                let theme = &c.themes[*ti];
                meta["title"] = json!(format!("Replication matrix: {}", theme.name));
                meta["section"] = json!("replication");
                set(
                    "theme",
                    json!({"key": theme.key, "name": theme.name, "url": c.url(&format!("themes/{}/", theme.key))}),
                );
                set("overview_url", json!(c.url("replication/")));
                set("matrix", self.matrix(&ix.themes[*ti].practices));
            }
            PageKind::Search => {
                meta["title"] = json!("Search");
                meta["section"] = json!("search");
                set(
                    "cities",
                    json!(c
                        .cities
                        .iter()
                        .map(|x| city_ref(c, &x.key))
                        .collect::<Vec<_>>()),
                );
                set(
                    "themes",
                    json!(c
                        .themes
                        .iter()
                        .map(|t| theme_ref(c, &t.key))
                        .collect::<Vec<_>>()),
                );
                set(
                    "kinds",
                    json!(Kind::STUDIES
                        .iter()
                        .map(|k| json!({"key": k.as_str(), "name": k.label_plural()}))
                        .collect::<Vec<_>>()),
                );
                set(
                    "stages",
                    json!(Stage::ALL
                        .iter()
                        .map(|s| json!({"key": s.as_str(), "name": s.label()}))
                        .collect::<Vec<_>>()),
                );
            }
            PageKind::NotFound => {
                meta["title"] = json!("Page not found");
                set(
                    "latest",
                    json!(ix
                        .newest
                        .iter()
                        .take(5)
                        .map(|&i| self.snippet(i))
                        .collect::<Vec<_>>()),
                );
            }
        }
        ctx.insert("meta".into(), meta);
        ctx.insert(
            "chrome".into(),
            self.chrome
                .get(&self.chrome_key(plan))
                .cloned()
                .unwrap_or(Value::Null),
        );
        Value::Object(ctx)
    }

    fn practice_summary(&self, pi: usize) -> Value {
        let site = self.site;
        let c = &site.config;
        let ix = &site.indexes;
        let p = &ix.practices[pi];
        let mut stages = [0usize; 4];
        let mut cities: Vec<Value> = Vec::new();
        for (&(_, ci), cell) in ix.cells.range((pi, 0)..(pi + 1, 0)) {
            let city = &c.cities[ci];
            let s = &site.studies[cell.latest];
            if let Some(stage) = s.stage {
                stages[stage as usize] += 1;
            }
            cities.push(json!({"key": city.key, "name": city.name, "stage": stage_ref(s.stage), "url": c.url(&s.route)}));
        }
        json!({
            "slug": p.slug,
            "name": p.name,
            "url": c.url(&p.route()),
            "has_playbook": p.playbook.is_some(),
            "playbook_url": p.playbook.map(|i| c.url(&site.studies[i].route)),
            "origin": p.origin.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
            "themes": p.themes.iter().map(|t| theme_ref(c, t)).collect::<Vec<_>>(),
            "case_count": p.cases.len(),
            "city_count": cities.len(),
            "cities": cities,
            "stage_counts": Stage::ALL.iter().map(|s| json!({"key": s.as_str(), "label": s.label(), "symbol": s.symbol(), "count": stages[*s as usize]})).filter(|v| v["count"] != 0).collect::<Vec<_>>(),
        })
    }

    fn case_row(&self, i: usize) -> Value {
        let c = &self.site.config;
        let s = &self.site.studies[i];
        json!({
            "title": s.title,
            "url": c.url(&s.route),
            "city": s.city.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
            "stage": stage_ref(s.stage),
            "date": s.date,
            "date_display": s.date.map(|d| d.display()),
            "year": s.date.map(|d| d.year),
            "period": s.period,
            "replicated_from": s.replicated_from.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
        })
    }

    fn edges(&self, edges: &[crate::index::Edge], names: usize) -> Value {
        let c = &self.site.config;
        json!(edges
            .iter()
            .map(|e| json!({
                "from": city_ref(c, &e.from),
                "to": city_ref(c, &e.to),
                "count": e.practices.len(),
                "more": e.practices.len().saturating_sub(names),
                "practices": e.practices.iter().take(names).map(|&p| {
                    let p = &self.site.indexes.practices[p];
                    json!({"name": p.name, "url": c.url(&p.route())})
                }).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>())
    }

    fn matrix(&self, practices: &[usize]) -> Value {
        let site = self.site;
        let c = &site.config;
        let ix = &site.indexes;
        let used: Vec<usize> = (0..c.cities.len())
            .filter(|&ci| practices.iter().any(|&p| ix.cells.contains_key(&(p, ci))))
            .collect();
        let rows: Vec<Value> = practices
            .iter()
            .map(|&pi| {
                let p = &ix.practices[pi];
                let cells: Vec<Value> = used
                    .iter()
                    .map(|&ci| match ix.cells.get(&(pi, ci)) {
                        None => Value::Null,
                        Some(cell) => {
                            let s = &site.studies[cell.latest];
                            let earlier: Vec<Value> = cell
                                .earlier
                                .iter()
                                .map(|&e| {
                                    let e = &site.studies[e];
                                    json!({"url": c.url(&e.route), "stage": stage_ref(e.stage), "year": e.date.map(|d| d.year)})
                                })
                                .collect();
                            json!({"url": c.url(&s.route), "stage": stage_ref(s.stage), "year": s.date.map(|d| d.year), "earlier": earlier})
                        }
                    })
                    .collect();
                json!({"name": p.name, "url": c.url(&p.route()), "origin": p.origin, "cells": cells})
            })
            .collect();
        json!({
            "cities": used.iter().map(|&ci| city_ref(c, &c.cities[ci].key)).collect::<Vec<_>>(),
            "rows": rows,
            "stages": Stage::ALL.iter().map(|s| stage_ref(Some(*s))).collect::<Vec<_>>(),
        })
    }

    fn city_stage_counts(&self) -> Value {
        let site = self.site;
        let c = &site.config;
        json!(c
            .cities
            .iter()
            .enumerate()
            .map(|(ci, city)| {
                let mut counts = [0usize; 4];
                for ((_, cj), cell) in &site.indexes.cells {
                    if *cj == ci {
                        if let Some(st) = site.studies[cell.latest].stage {
                            counts[st as usize] += 1;
                        }
                    }
                }
                json!({"city": city_ref(c, &city.key), "counts": counts})
            })
            .collect::<Vec<_>>())
    }

    fn city_summaries(&self) -> Value {
        let c = &self.site.config;
        let ix = &self.site.indexes;
        json!(c
            .cities
            .iter()
            .zip(&ix.cities)
            .map(|(city, cx)| {
                let mut v = city_ref(c, &city.key);
                v["cases"] = json!(cx.cases.len());
                v["originated"] = json!(cx.originated.len());
                v["adopted"] = json!(cx.adopted.len());
                v["challenges"] = json!(cx.challenges.len());
                v
            })
            .collect::<Vec<_>>())
    }

    fn theme_summaries(&self) -> Value {
        let c = &self.site.config;
        let ix = &self.site.indexes;
        json!(c
            .themes
            .iter()
            .zip(&ix.themes)
            .map(|(t, tx)| {
                let mut v = theme_ref(c, &t.key);
                v["description"] = json!(t.description);
                v["studies"] = json!(tx.studies.len());
                v["practices"] = json!(tx.practices.len());
                v["cities"] = json!(tx.by_city.iter().filter(|(k, _)| !k.is_empty()).count());
                v
            })
            .collect::<Vec<_>>())
    }
}

fn cities_of(ix: &Indexes, p: usize) -> usize {
    ix.cells.range((p, 0)..(p + 1, 0)).count()
}

fn count_kind(site: &Site, kind: Kind) -> usize {
    site.studies.iter().filter(|s| s.kind == kind).count()
}

/// The replication edges of one practice.
fn practice_edges(ix: &Indexes, pi: usize) -> Vec<crate::index::Edge> {
    ix.edges
        .iter()
        .filter(|e| e.practices.contains(&pi))
        .map(|e| crate::index::Edge {
            from: e.from.clone(),
            to: e.to.clone(),
            practices: vec![pi],
        })
        .collect()
}

fn list_intro(kind: Kind) -> &'static str {
    match kind {
        Kind::CaseStudy => "What one city did, with whom, and what it achieved: each case documents a practice at a stage — piloted, replicated, scaled or discontinued.",
        Kind::Playbook => "How to replicate a practice in another city: the steps, the partners to bring in, and the pitfalls others met.",
        Kind::Challenge => "Studies of the structural barriers — finance, rules, skills, data — that hold low-carbon solutions back.",
        Kind::Page => "",
    }
}

/// `{key, name, url, country, lat, lon}` for a city key.
pub fn city_ref(c: &Config, key: &str) -> Value {
    match c.city(key) {
        Some(city) => {
            json!({"key": city.key, "name": city.name, "country": city.country, "url": c.url(&format!("cities/{}/", city.key)), "lat": city.lat, "lon": city.lon})
        }
        None => json!({"key": key, "name": key, "url": Value::Null}),
    }
}

fn theme_ref(c: &Config, key: &str) -> Value {
    let name = c.theme(key).map_or(key, |t| t.name.as_str());
    json!({"key": key, "name": name, "url": c.url(&format!("themes/{key}/"))})
}

fn stage_ref(stage: Option<Stage>) -> Value {
    match stage {
        Some(s) => json!({"key": s.as_str(), "label": s.label(), "symbol": s.symbol()}),
        None => Value::Null,
    }
}

fn practice_ref(site: &Site, slug: &str) -> Value {
    match site.indexes.practice(slug) {
        Some((_, p)) => json!({"slug": p.slug, "name": p.name, "url": site.config.url(&p.route())}),
        None => json!({"slug": slug, "name": crate::text::humanise(slug), "url": Value::Null}),
    }
}

/// The summary of a study used in every list.
fn card(site: &Site, s: &Study) -> Value {
    let c = &site.config;
    json!({
        "title": s.title,
        "url": c.url(&s.route),
        "permalink": c.permalink(&s.route),
        "kind": s.kind.as_str(),
        "kind_label": s.kind.label(),
        "summary": s.summary,
        "date": s.date,
        "date_display": s.date.map(|d| d.display()),
        "year": s.date.map(|d| d.year),
        "city": s.city.as_deref().map_or(Value::Null, |k| city_ref(c, k)),
        "stage": stage_ref(s.stage),
        "practice": s.practice.as_deref().map_or(Value::Null, |p| practice_ref(site, p)),
        "themes": s.themes.iter().map(|t| theme_ref(c, t)).collect::<Vec<_>>(),
        "draft": s.draft,
    })
}

fn practice_summary_name(site: &Site, s: &Study) -> String {
    s.practice
        .as_deref()
        .and_then(|p| site.indexes.practice(p))
        .map_or_else(String::new, |(_, p)| p.name.clone())
}

/// Outcomes of several case studies, aligned by (metric, unit): one row per metric, one column per case.
fn outcome_comparison(site: &Site, cases: &[usize]) -> Value {
    let c = &site.config;
    let mut metrics: Vec<(String, String)> = Vec::new();
    for &i in cases {
        for o in &site.studies[i].outcomes {
            let key = (o.metric.clone(), o.unit.clone());
            if !metrics.contains(&key) {
                metrics.push(key);
            }
        }
    }
    metrics.sort();
    let with_outcomes: Vec<usize> = cases
        .iter()
        .copied()
        .filter(|&i| !site.studies[i].outcomes.is_empty())
        .collect();
    json!({
        "columns": with_outcomes.iter().map(|&i| {
            let s = &site.studies[i];
            json!({"title": s.title, "url": c.url(&s.route), "city": s.city.as_deref().map_or(Value::Null, |k| city_ref(c, k)), "year": s.date.map(|d| d.year), "stage": stage_ref(s.stage)})
        }).collect::<Vec<_>>(),
        "rows": metrics.iter().map(|(metric, unit)| json!({
            "metric": metric,
            "unit": unit,
            "values": with_outcomes.iter().map(|&i| {
                site.studies[i].outcomes.iter().find(|o| &o.metric == metric && &o.unit == unit).map(|o| number_display(o.value))
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "practice_name": cases.first().map(|&i| practice_summary_name(site, &site.studies[i])),
    })
}

/// Totals per (metric, unit) over case studies; different units are never added.
fn outcome_totals(site: &Site, cases: &[usize]) -> Value {
    let mut totals: std::collections::BTreeMap<(String, String), (f64, usize)> =
        std::collections::BTreeMap::new();
    for &i in cases {
        for o in &site.studies[i].outcomes {
            let e = totals
                .entry((o.metric.clone(), o.unit.clone()))
                .or_insert((0.0, 0));
            e.0 += o.value;
            e.1 += 1;
        }
    }
    json!(totals
        .into_iter()
        .map(|((metric, unit), (total, n))| json!({"metric": metric, "unit": unit, "total": number_display(total), "cases": n}))
        .collect::<Vec<_>>())
}

/// schema.org `Article` for a study, safe to put inside `<script>`.
fn json_ld(site: &Site, s: &Study) -> String {
    let c = &site.config;
    let place = |key: &str| match c.city(key) {
        Some(city) => {
            let mut v = json!({"@type": "City", "name": city.name, "containedInPlace": {"@type": "Country", "name": city.country}});
            if let (Some(lat), Some(lon)) = (city.lat, city.lon) {
                v["geo"] = json!({"@type": "GeoCoordinates", "latitude": lat, "longitude": lon});
            }
            v
        }
        None => json!({"@type": "Place", "name": key}),
    };
    let mut places: Vec<Value> = s
        .city
        .iter()
        .chain(&s.cities)
        .chain(&s.origin)
        .map(|k| place(k))
        .collect();
    places.dedup();
    let mut v = json!({
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": s.title,
        "url": c.permalink(&s.route),
        "mainEntityOfPage": c.permalink(&s.route),
        "inLanguage": c.language,
        "publisher": {"@type": "Organization", "name": c.title, "url": c.base_url},
        "about": s.themes.iter().map(|t| json!({"@type": "Thing", "name": c.theme(t).map_or(t.as_str(), |x| x.name.as_str())})).collect::<Vec<_>>(),
        "genre": s.kind.label(),
    });
    if !s.summary.is_empty() {
        v["description"] = json!(s.summary);
    }
    if let Some(d) = s.date {
        v["datePublished"] = json!(d.to_string());
    }
    if let Some(d) = s.last_modified() {
        v["dateModified"] = json!(d.to_string());
    }
    if !places.is_empty() {
        v["spatialCoverage"] = if places.len() == 1 {
            places.remove(0)
        } else {
            Value::Array(places)
        };
    }
    if !s.authors.is_empty() {
        v["author"] = json!(s
            .authors
            .iter()
            .map(|a| json!({"@type": "Person", "name": a}))
            .collect::<Vec<_>>());
    }
    // Inside <script>, `<` could open `</script>` or `<!--`; JSON allows escaping it.
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Names of the UN Sustainable Development Goals.
pub fn sdg_name(n: u8) -> &'static str {
    const NAMES: [&str; 17] = [
        "No poverty",
        "Zero hunger",
        "Good health and well-being",
        "Quality education",
        "Gender equality",
        "Clean water and sanitation",
        "Affordable and clean energy",
        "Decent work and economic growth",
        "Industry, innovation and infrastructure",
        "Reduced inequalities",
        "Sustainable cities and communities",
        "Responsible consumption and production",
        "Climate action",
        "Life below water",
        "Life on land",
        "Peace, justice and strong institutions",
        "Partnerships for the goals",
    ];
    NAMES
        .get(usize::from(n).wrapping_sub(1))
        .copied()
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(number_display(1200.0), "1,200");
        assert_eq!(number_display(2_000_000.0), "2,000,000");
        assert_eq!(number_display(0.35), "0.35");
        assert_eq!(number_display(-45.0), "-45");
        assert_eq!(number_display(999.0), "999");
    }

    #[test]
    fn routes_map_to_files() {
        assert_eq!(route_file(""), "index.html");
        assert_eq!(route_file("cities/x/"), "cities/x/index.html");
        assert_eq!(route_file("404.html"), "404.html");
    }
}
