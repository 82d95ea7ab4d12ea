//! Pure: the context each template sees. A template gets only what its plan
//! hands it.
//!
//! Contexts are `serde_json::Value` trees because that is what Tera renders.
//! They are built by moving values into place ([`obj!`]), never through
//! `json!` around a finished `Value` (which would copy it again), and the
//! pieces many pages share — city, theme, stage and practice references,
//! practice summaries, rendered cards — are built once per build and cloned.

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::index::{Edge, Indexes};
use crate::model::{Kind, Stage, Study};
use crate::plan::{
    list_route, matrix_is_split, number_display, sdg_name, PageKind, PagePlan, CITY_CASES_SHOWN,
    LIST_PAGE_SIZE, THEME_GROUP_SHOWN,
};
use crate::site::Site;
use crate::svg;

/// Studies shown on the home page.
const HOME_LATEST: usize = 8;
/// Practice names listed per replication edge on the home page; the rest are counted.
const HOME_EDGE_NAMES: usize = 4;

/// A JSON object from `"key" => value` pairs; each value is moved in with `Value::from`.
macro_rules! obj {
    ($($k:literal => $v:expr),* $(,)?) => {{
        let mut m = Map::new();
        $( m.insert($k.to_owned(), Value::from($v)); )*
        Value::Object(m)
    }};
}

/// Which header a page gets: (nav section, the page's URL when it is itself in the nav).
pub type ChromeKey = (String, String);

/// References many pages embed, built once per build.
struct Refs {
    /// `city_ref` per city key.
    cities: HashMap<String, Value>,
    /// `theme_ref` per theme key.
    themes: HashMap<String, Value>,
    /// `stage_ref` per stage, in [`Stage::ALL`] order.
    stages: Vec<Value>,
    /// `practice_ref` per practice index.
    practices: Vec<Value>,
    /// Practice summaries, each built the first time a page asks for it.
    summaries: Vec<OnceLock<Value>>,
    /// The replication map's cities, drawn the first time a page needs a map.
    map: OnceLock<Option<svg::MapLayout>>,
}

impl Refs {
    fn new(site: &Site) -> Refs {
        let c = &site.config;
        let ix = &site.indexes;
        Refs {
            cities: c
                .cities
                .iter()
                .map(|city| {
                    let v = obj! {
                        "key" => city.key.as_str(),
                        "name" => city.name.as_str(),
                        "country" => city.country.as_str(),
                        "url" => c.url(&format!("cities/{}/", city.key)),
                        "lat" => city.lat,
                        "lon" => city.lon,
                    };
                    (city.key.clone(), v)
                })
                .collect(),
            themes: c
                .themes
                .iter()
                .map(|t| {
                    let v = obj! {
                        "key" => t.key.as_str(),
                        "name" => t.name.as_str(),
                        "url" => c.url(&format!("themes/{}/", t.key)),
                    };
                    (t.key.clone(), v)
                })
                .collect(),
            stages: Stage::ALL
                .iter()
                .map(|s| obj! {"key" => s.as_str(), "label" => s.label(), "symbol" => s.symbol()})
                .collect(),
            practices: ix
                .practices
                .iter()
                .map(|p| obj! {"slug" => p.slug.as_str(), "name" => p.name.as_str(), "url" => c.url(&p.route())})
                .collect(),
            summaries: ix.practices.iter().map(|_| OnceLock::new()).collect(),
            map: OnceLock::new(),
        }
    }
}

/// Template contexts, built once per site and then per page.
pub struct Contexts<'a> {
    site: &'a Site,
    base: Map<String, Value>,
    refs: Refs,
    /// `{card, row}` per study: its rendered snippets.
    snippets: Vec<Value>,
    chrome: HashMap<ChromeKey, Value>,
}

impl<'a> Contexts<'a> {
    /// Drops the references, snippets and headers on a thread of their own:
    /// freeing them takes a core some milliseconds at 10k studies, and the
    /// build need not wait for it.
    pub fn free_in_background(self) {
        let Contexts {
            base,
            refs,
            snippets,
            chrome,
            ..
        } = self;
        std::thread::spawn(move || drop((base, refs, snippets, chrome)));
    }

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
        .map(|&(key, title, route)| obj! {"key" => key, "title" => title, "url" => c.url(route)})
        .collect();
        let about = site
            .studies
            .iter()
            .find(|s| s.kind == Kind::Page && s.route == "about/")
            .map(|s| c.url(&s.route));
        let mut base = Map::new();
        base.insert(
            "site".into(),
            obj! {
                "title" => c.title.as_str(),
                "description" => c.description.as_str(),
                "base_url" => c.base_url.as_str(),
                "base_path" => c.base_path.as_str(),
                "language" => c.language.as_str(),
                // Open Graph writes `en_GB` for the `en-GB` of `<html lang>`.
                "locale" => c.language.replace('-', "_"),
                "nav" => nav,
                "about_url" => about,
                "home_url" => c.url(""),
                "feed_url" => c.url("atom.xml"),
                "search_url" => c.url("search/"),
                "style_url" => c.url("style.css"),
                "syntax_url" => c.url("syntax.css"),
                "search_js_url" => c.url("search.js"),
                "search_index_url" => c.url("search-index/"),
                "favicon_url" => c.url("favicon.svg"),
                "manifest_url" => c.url("site.webmanifest"),
                "replication_csv_url" => c.url("replication.csv"),
                "replication_json_url" => c.url("replication.json"),
            },
        );
        Contexts {
            site,
            base,
            refs: Refs::new(site),
            snippets: Vec::new(),
            chrome: HashMap::default(),
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
                ctx.insert(
                    "meta".into(),
                    obj! {"section" => section.as_str(), "url" => url.as_str()},
                );
                ((section, url), Value::Object(ctx))
            })
            .collect()
    }

    /// The header and footer HTML for each chrome key.
    pub fn set_chrome(&mut self, chrome: Vec<(ChromeKey, String, String)>) {
        self.chrome = chrome
            .into_iter()
            .map(|(k, h, f)| (k, obj! {"header" => h, "footer" => f}))
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
        let site = self.site;
        let c = &site.config;
        let s = &site.studies[i];
        obj! {
            "title" => s.title.as_str(),
            "url" => c.url(&s.route),
            "permalink" => c.permalink(&s.route),
            "kind" => s.kind.as_str(),
            "kind_label" => s.kind.label(),
            "summary" => s.summary.as_str(),
            "date" => s.date.map(|d| d.to_string()),
            "date_display" => s.date.map(|d| d.display()),
            "year" => s.date.map(|d| d.year),
            "city" => self.city_ref_opt(s.city.as_deref()),
            "stage" => self.stage_ref(s.stage),
            "practice" => s.practice.as_deref().map_or(Value::Null, |p| self.practice_ref(p)),
            "themes" => self.theme_refs(&s.themes),
            "draft" => s.draft,
        }
    }

    /// Each study's card and row, rendered once per build and reused by every list.
    pub fn set_snippets(&mut self, snippets: Vec<(String, String)>) {
        self.snippets = snippets
            .into_iter()
            .map(|(card, row)| obj! {"card" => card, "row" => row})
            .collect();
    }

    /// `{card, row}`: the rendered snippets of study `i`, for list templates.
    fn snippet(&self, i: usize) -> Value {
        self.snippets
            .get(i)
            .cloned()
            .unwrap_or_else(|| obj! {"card" => Value::Null, "row" => Value::Null})
    }

    fn snippets_of(&self, studies: &[usize]) -> Value {
        Value::Array(studies.iter().map(|&i| self.snippet(i)).collect())
    }

    /// The replication map with these arrows; empty when no city has coordinates.
    fn map(&self, edges: &[Edge], title: &str) -> String {
        self.refs
            .map
            .get_or_init(|| svg::MapLayout::new(&self.site.config))
            .as_ref()
            .map_or_else(String::new, |m| m.render(edges, title))
    }

    fn city_ref(&self, key: &str) -> Value {
        self.refs
            .cities
            .get(key)
            .cloned()
            .unwrap_or_else(|| obj! {"key" => key, "name" => key, "url" => Value::Null})
    }

    fn city_ref_opt(&self, key: Option<&str>) -> Value {
        key.map_or(Value::Null, |k| self.city_ref(k))
    }

    fn theme_ref(&self, key: &str) -> Value {
        self.refs.themes.get(key).cloned().unwrap_or_else(|| {
            obj! {"key" => key, "name" => key, "url" => self.site.config.url(&format!("themes/{key}/"))}
        })
    }

    fn theme_refs(&self, keys: &[String]) -> Value {
        Value::Array(keys.iter().map(|t| self.theme_ref(t)).collect())
    }

    fn stage_ref(&self, stage: Option<Stage>) -> Value {
        stage.map_or(Value::Null, |s| self.refs.stages[s as usize].clone())
    }

    fn practice_ref(&self, slug: &str) -> Value {
        match self.site.indexes.practice(slug) {
            Some((pi, _)) => self.refs.practices[pi].clone(),
            None => {
                obj! {"slug" => slug, "name" => crate::text::humanise(slug), "url" => Value::Null}
            }
        }
    }

    /// What every page's context holds: `site`.
    pub fn shared(&self) -> Value {
        Value::Object(self.base.clone())
    }

    /// The context of one page, apart from [`Contexts::shared`]: `meta`, `chrome`
    /// and what its template shows.
    pub fn context(&self, plan: &PagePlan) -> Map<String, Value> {
        let site = self.site;
        let c = &site.config;
        let ix = &site.indexes;
        let mut ctx = Map::new();
        let mut meta = Meta {
            url: c.url(&plan.route),
            permalink: c.permalink(&plan.route),
            section: String::new(),
            title: c.title.clone(),
            description: c.description.clone(),
            og_type: "website",
            feed_url: None,
        };
        let mut set = |k: &str, v: Value| {
            ctx.insert(k.to_owned(), v);
        };
        match &plan.kind {
            PageKind::Home => {
                let latest: Vec<usize> = ix.newest.iter().take(HOME_LATEST).copied().collect();
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
                set("latest", self.snippets_of(&latest));
                set("matrix", self.matrix(&top));
                set("city_counts", self.city_summaries());
                set("theme_counts", self.theme_summaries());
                set(
                    "map_svg",
                    Value::String(self.map(
                        &ix.edges,
                        "Replication map: practices carried from city to city",
                    )),
                );
                set("edges", self.edges(&ix.edges, HOME_EDGE_NAMES));
                set(
                    "stats",
                    obj! {
                        "case_studies" => count_kind(site, Kind::CaseStudy),
                        "playbooks" => count_kind(site, Kind::Playbook),
                        "challenges" => count_kind(site, Kind::Challenge),
                        "practices" => ix.practices.len(),
                        "cities" => c.cities.len(),
                        "replications" => ix.edges.iter().map(|e| e.practices.len()).sum::<usize>(),
                    },
                );
            }
            PageKind::Study(i) => {
                let s = &site.studies[*i];
                meta.title.clone_from(&s.title);
                if !s.summary.is_empty() {
                    meta.description = s.summary.clone();
                }
                meta.section = s.kind.section().to_owned();
                if s.kind.is_study() {
                    meta.og_type = "article";
                }
                set("page", self.study_page(*i));
                // `practice` (its summary) is added by the page renderer; see `page_practice`.
                if let Some((pi, p)) = s.practice.as_deref().and_then(|slug| ix.practice(slug)) {
                    let others: Vec<usize> = p.cases.iter().copied().filter(|&j| j != *i).collect();
                    set("related", self.snippets_of(&others));
                    if s.kind == Kind::Playbook {
                        set(
                            "map_svg",
                            Value::String(self.map(
                                &practice_edges(ix, pi),
                                &format!("Where {} has been taken up", p.name),
                            )),
                        );
                    }
                }
                set("jsonld", Value::String(json_ld(site, s)));
            }
            PageKind::List(kind, page) => {
                let all: Vec<usize> = ix
                    .newest
                    .iter()
                    .copied()
                    .filter(|&i| site.studies[i].kind == *kind)
                    .collect();
                let pages = all.len().div_ceil(LIST_PAGE_SIZE).max(1);
                let shown: Vec<usize> = all
                    .iter()
                    .skip((page - 1) * LIST_PAGE_SIZE)
                    .take(LIST_PAGE_SIZE)
                    .copied()
                    .collect();
                meta.title = if *page > 1 {
                    format!("{} (page {page} of {pages})", kind.label_plural())
                } else {
                    kind.label_plural().to_owned()
                };
                meta.section = kind.section().to_owned();
                set("heading", kind.label_plural().into());
                set("kind", kind.as_str().into());
                set("intro", list_intro(*kind).into());
                set("total", all.len().into());
                set("items", self.snippets_of(&shown));
                set(
                    "pagination",
                    obj! {
                        "current" => *page,
                        "total" => pages,
                        "prev_url" => (*page > 1).then(|| c.url(&list_route(*kind, page - 1))),
                        "next_url" => (*page < pages).then(|| c.url(&list_route(*kind, page + 1))),
                        "pages" => (1..=pages)
                            .map(|n| obj! {"number" => n, "url" => c.url(&list_route(*kind, n)), "current" => n == *page})
                            .collect::<Vec<_>>(),
                    },
                );
            }
            PageKind::Cities => {
                meta.title = "Cities".into();
                meta.section = "cities".into();
                set("cities", self.city_summaries());
                set(
                    "map_svg",
                    Value::String(self.map(
                        &ix.edges,
                        "Map of the network's cities and the practices carried between them",
                    )),
                );
            }
            PageKind::City(ci) => {
                let city = &c.cities[*ci];
                let cx = &ix.cities[*ci];
                meta.title.clone_from(&city.name);
                meta.section = "cities".into();
                meta.description = format!(
                    "Low-carbon practice piloted, replicated and scaled in {}, {}.",
                    city.name, city.country
                );
                meta.feed_url = Some(c.url(&format!("cities/{}/atom.xml", city.key)));
                set("city", self.city_ref(&city.key));
                set(
                    "originated",
                    Value::Array(
                        cx.originated
                            .iter()
                            .map(|&p| self.practice_summary(p))
                            .collect(),
                    ),
                );
                set(
                    "adopted",
                    Value::Array(
                        cx.adopted
                            .iter()
                            .map(|(p, from, case)| {
                                obj! {
                                    "practice" => self.refs.practices[*p].clone(),
                                    "from" => self.city_ref_opt(from.as_deref()),
                                    "case" => self.card(*case),
                                }
                            })
                            .collect(),
                    ),
                );
                let shown = &cx.cases[..cx.cases.len().min(CITY_CASES_SHOWN)];
                set("cases", self.snippets_of(shown));
                set("cases_total", cx.cases.len().into());
                set(
                    "cases_more_url",
                    format!("{}?city={}&kind=case-study", c.url("search/"), city.key).into(),
                );
                set("challenges", self.snippets_of(&cx.challenges));
                set("playbooks", self.snippets_of(&cx.playbooks));
                set("totals", outcome_totals(site, &cx.cases));
            }
            PageKind::Themes => {
                meta.title = "Themes".into();
                meta.section = "themes".into();
                set("themes", self.theme_summaries());
            }
            PageKind::Theme(ti) => {
                let theme = &c.themes[*ti];
                let tx = &ix.themes[*ti];
                meta.title.clone_from(&theme.name);
                meta.section = "themes".into();
                if let Some(d) = &theme.description {
                    meta.description = d.clone();
                }
                meta.feed_url = Some(c.url(&format!("themes/{}/atom.xml", theme.key)));
                set(
                    "theme",
                    obj! {
                        "key" => theme.key.as_str(),
                        "name" => theme.name.as_str(),
                        "description" => theme.description.as_deref(),
                        "url" => c.url(&format!("themes/{}/", theme.key)),
                    },
                );
                set(
                    "groups",
                    Value::Array(
                        tx.by_city
                            .iter()
                            .map(|(city, list)| {
                                let more_city = if city.is_empty() {
                                    String::new()
                                } else {
                                    format!("&city={city}")
                                };
                                obj! {
                                    "city" => if city.is_empty() { Value::Null } else { self.city_ref(city) },
                                    "items" => self.snippets_of(&list[..list.len().min(THEME_GROUP_SHOWN)]),
                                    "total" => list.len(),
                                    "more_url" => format!("{}?theme={}{more_city}", c.url("search/"), theme.key),
                                }
                            })
                            .collect(),
                    ),
                );
                set(
                    "practices",
                    Value::Array(
                        tx.practices
                            .iter()
                            .map(|&p| self.practice_summary(p))
                            .collect(),
                    ),
                );
                set("total", tx.studies.len().into());
                if matrix_is_split(ix) {
                    set(
                        "matrix_url",
                        c.url(&format!("replication/{}/", theme.key)).into(),
                    );
                }
            }
            PageKind::Practices => {
                meta.title = "Practices".into();
                meta.section = "practices".into();
                set(
                    "practices",
                    Value::Array(
                        (0..ix.practices.len())
                            .map(|p| self.practice_summary(p))
                            .collect(),
                    ),
                );
            }
            PageKind::Practice(pi) => {
                let p = &ix.practices[*pi];
                meta.title.clone_from(&p.name);
                meta.section = "practices".into();
                meta.description = match p.playbook {
                    Some(pb) if !site.studies[pb].summary.is_empty() => {
                        site.studies[pb].summary.clone()
                    }
                    _ => format!("Where {} has been piloted, replicated and scaled.", p.name),
                };
                let edges = practice_edges(ix, *pi);
                set("practice", self.practice_summary(*pi));
                set("playbook", p.playbook.map_or(Value::Null, |i| self.card(i)));
                set(
                    "cases",
                    Value::Array(p.cases.iter().map(|&i| self.case_row(i)).collect()),
                );
                set("path", self.edges(&edges, usize::MAX));
                set("outcomes", self.outcome_comparison(&p.cases));
                set("challenges", self.snippets_of(&p.challenges));
                set(
                    "map_svg",
                    Value::String(
                        self.map(&edges, &format!("Map: where {} has been taken up", p.name)),
                    ),
                );
                set("timeline_svg", Value::String(svg::timeline(site, p)));
            }
            PageKind::Replication => {
                meta.title = "Replication matrix".into();
                meta.section = "replication".into();
                if matrix_is_split(ix) {
                    set(
                        "groups",
                        Value::Array(
                            c.themes
                                .iter()
                                .enumerate()
                                .map(|(ti, t)| {
                                    obj! {
                                        "name" => t.name.as_str(),
                                        "url" => c.url(&format!("replication/{}/", t.key)),
                                        "practices" => ix.themes[ti].practices.len(),
                                    }
                                })
                                .collect(),
                        ),
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
                meta.title = format!("Replication matrix: {}", theme.name);
                meta.section = "replication".into();
                set(
                    "theme",
                    obj! {
                        "key" => theme.key.as_str(),
                        "name" => theme.name.as_str(),
                        "url" => c.url(&format!("themes/{}/", theme.key)),
                    },
                );
                set("overview_url", c.url("replication/").into());
                set("matrix", self.matrix(&ix.themes[*ti].practices));
            }
            PageKind::Search => {
                meta.title = "Search".into();
                meta.section = "search".into();
                set(
                    "cities",
                    Value::Array(c.cities.iter().map(|x| self.city_ref(&x.key)).collect()),
                );
                set(
                    "themes",
                    Value::Array(c.themes.iter().map(|t| self.theme_ref(&t.key)).collect()),
                );
                set(
                    "kinds",
                    Value::Array(
                        Kind::STUDIES
                            .iter()
                            .map(|k| obj! {"key" => k.as_str(), "name" => k.label_plural()})
                            .collect(),
                    ),
                );
                set(
                    "stages",
                    Value::Array(
                        Stage::ALL
                            .iter()
                            .map(|s| obj! {"key" => s.as_str(), "name" => s.label()})
                            .collect(),
                    ),
                );
            }
            PageKind::NotFound => {
                meta.title = "Page not found".into();
                let latest: Vec<usize> = ix.newest.iter().take(5).copied().collect();
                set("latest", self.snippets_of(&latest));
            }
        }
        ctx.insert("meta".into(), meta.into_value());
        ctx.insert(
            "chrome".into(),
            self.chrome
                .get(&self.chrome_key(plan))
                .cloned()
                .unwrap_or(Value::Null),
        );
        ctx
    }

    /// `page` on a study's own page: its card and everything else the page shows.
    fn study_page(&self, i: usize) -> Value {
        let site = self.site;
        let s = &site.studies[i];
        let body = &site.bodies[i];
        let Value::Object(mut page) = self.card(i) else {
            unreachable!("a card is an object")
        };
        let mut put = |k: &str, v: Value| {
            page.insert(k.to_owned(), v);
        };
        put("content", body.html.as_str().into());
        let toc: Vec<Value> = if body.toc().iter().filter(|h| h.level == 2).count() >= 3 {
            body.toc()
                .iter()
                .map(
                    |h| obj! {"level" => h.level, "id" => h.id.as_str(), "text" => h.text.as_str()},
                )
                .collect()
        } else {
            Vec::new()
        };
        put("toc", toc.into());
        put("reading_minutes", body.words.div_ceil(220).max(1).into());
        put("authors", s.authors.as_slice().into());
        put("partners", s.partners.as_slice().into());
        put("period", s.period.as_deref().into());
        put("updated", s.updated.map(|d| d.to_string()).into());
        put("updated_display", s.updated.map(|d| d.display()).into());
        put("reviewed_display", s.reviewed.map(|d| d.display()).into());
        put(
            "sdgs",
            Value::Array(
                s.sdgs
                    .iter()
                    .map(|&n| obj! {"number" => n, "name" => sdg_name(n)})
                    .collect(),
            ),
        );
        put(
            "replicated_from",
            self.city_ref_opt(s.replicated_from.as_deref()),
        );
        put("origin", self.city_ref_opt(s.origin.as_deref()));
        put(
            "cities",
            Value::Array(s.cities.iter().map(|k| self.city_ref(k)).collect()),
        );
        put(
            "practices",
            Value::Array(s.practices.iter().map(|p| self.practice_ref(p)).collect()),
        );
        put(
            "outcomes",
            Value::Array(
                s.outcomes
                    .iter()
                    .map(|o| {
                        obj! {
                            "metric" => o.metric.as_str(),
                            "value" => number_display(o.value),
                            "unit" => o.unit.as_str(),
                            "baseline" => o.baseline.map(number_display),
                            "year" => o.year,
                            "source" => o.source.as_deref(),
                            "source_is_url" => o.source.as_deref().is_some_and(|s| s.starts_with("https://") || s.starts_with("http://")),
                        }
                    })
                    .collect(),
            ),
        );
        put(
            "funding",
            Value::Array(
                s.funding
                    .iter()
                    .map(|f| {
                        obj! {
                            "source" => f.source.as_str(),
                            "amount" => f.amount.map(number_display),
                            "currency" => f.currency.as_deref(),
                        }
                    })
                    .collect(),
            ),
        );
        Value::Object(page)
    }

    /// A practice's name, links, themes, stage counts and the latest stage in
    /// each city; built once per build, on first use.
    /// The practice whose summary a study page shows as `practice`, which
    /// [`Contexts::context`] leaves out: the page renderer groups study pages
    /// by practice and keeps the summary in a worker's context across a group,
    /// instead of copying it in for every page.
    pub fn page_practice(&self, plan: &PagePlan) -> Option<usize> {
        match plan.kind {
            PageKind::Study(i) => self.site.studies[i]
                .practice
                .as_deref()
                .and_then(|slug| self.site.indexes.practice(slug))
                .map(|(pi, _)| pi),
            _ => None,
        }
    }

    /// Practice `pi` as the pages that show one see it (`practice`).
    pub fn practice_summary(&self, pi: usize) -> Value {
        self.refs.summaries[pi]
            .get_or_init(|| {
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
                    cities.push(obj! {
                        "key" => city.key.as_str(),
                        "name" => city.name.as_str(),
                        "stage" => self.stage_ref(s.stage),
                        "url" => c.url(&s.route),
                    });
                }
                obj! {
                    "slug" => p.slug.as_str(),
                    "name" => p.name.as_str(),
                    "url" => c.url(&p.route()),
                    "has_playbook" => p.playbook.is_some(),
                    "playbook_url" => p.playbook.map(|i| c.url(&site.studies[i].route)),
                    "origin" => self.city_ref_opt(p.origin.as_deref()),
                    "themes" => self.theme_refs(&p.themes),
                    "case_count" => p.cases.len(),
                    "city_count" => cities.len(),
                    "cities" => cities,
                    "stage_counts" => Stage::ALL
                        .iter()
                        .filter(|s| stages[**s as usize] != 0)
                        .map(|s| obj! {"key" => s.as_str(), "label" => s.label(), "symbol" => s.symbol(), "count" => stages[*s as usize]})
                        .collect::<Vec<_>>(),
                }
            })
            .clone()
    }

    fn case_row(&self, i: usize) -> Value {
        let c = &self.site.config;
        let s = &self.site.studies[i];
        obj! {
            "title" => s.title.as_str(),
            "url" => c.url(&s.route),
            "city" => self.city_ref_opt(s.city.as_deref()),
            "stage" => self.stage_ref(s.stage),
            "date" => s.date.map(|d| d.to_string()),
            "date_display" => s.date.map(|d| d.display()),
            "year" => s.date.map(|d| d.year),
            "period" => s.period.as_deref(),
            "replicated_from" => self.city_ref_opt(s.replicated_from.as_deref()),
        }
    }

    fn edges(&self, edges: &[Edge], names: usize) -> Value {
        Value::Array(
            edges
                .iter()
                .map(|e| {
                    obj! {
                        "from" => self.city_ref(&e.from),
                        "to" => self.city_ref(&e.to),
                        "count" => e.practices.len(),
                        "more" => e.practices.len().saturating_sub(names),
                        "practices" => e
                            .practices
                            .iter()
                            .take(names)
                            .map(|&p| {
                                let p = &self.site.indexes.practices[p];
                                obj! {"name" => p.name.as_str(), "url" => self.site.config.url(&p.route())}
                            })
                            .collect::<Vec<_>>(),
                    }
                })
                .collect(),
        )
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
                                    obj! {"url" => c.url(&e.route), "stage" => self.stage_ref(e.stage), "year" => e.date.map(|d| d.year)}
                                })
                                .collect();
                            obj! {"url" => c.url(&s.route), "stage" => self.stage_ref(s.stage), "year" => s.date.map(|d| d.year), "earlier" => earlier}
                        }
                    })
                    .collect();
                obj! {"name" => p.name.as_str(), "url" => c.url(&p.route()), "origin" => p.origin.as_deref(), "cells" => cells}
            })
            .collect();
        obj! {
            "cities" => used.iter().map(|&ci| self.city_ref(&c.cities[ci].key)).collect::<Vec<_>>(),
            "rows" => rows,
            "stages" => self.refs.stages.clone(),
        }
    }

    fn city_stage_counts(&self) -> Value {
        let site = self.site;
        let mut counts = vec![[0usize; 4]; site.config.cities.len()];
        for (&(_, ci), cell) in &site.indexes.cells {
            if let Some(st) = site.studies[cell.latest].stage {
                counts[ci][st as usize] += 1;
            }
        }
        Value::Array(
            site.config
                .cities
                .iter()
                .zip(counts)
                .map(|(city, counts)| obj! {"city" => self.city_ref(&city.key), "counts" => counts.as_slice()})
                .collect(),
        )
    }

    fn city_summaries(&self) -> Value {
        let c = &self.site.config;
        let ix = &self.site.indexes;
        Value::Array(
            c.cities
                .iter()
                .zip(&ix.cities)
                .map(|(city, cx)| {
                    let mut v = self.city_ref(&city.key);
                    v["cases"] = cx.cases.len().into();
                    v["originated"] = cx.originated.len().into();
                    v["adopted"] = cx.adopted.len().into();
                    v["challenges"] = cx.challenges.len().into();
                    v
                })
                .collect(),
        )
    }

    fn theme_summaries(&self) -> Value {
        let c = &self.site.config;
        let ix = &self.site.indexes;
        Value::Array(
            c.themes
                .iter()
                .zip(&ix.themes)
                .map(|(t, tx)| {
                    let mut v = self.theme_ref(&t.key);
                    v["description"] = t.description.as_deref().into();
                    v["studies"] = tx.studies.len().into();
                    v["practices"] = tx.practices.len().into();
                    v["cities"] = tx
                        .by_city
                        .iter()
                        .filter(|(k, _)| !k.is_empty())
                        .count()
                        .into();
                    v
                })
                .collect(),
        )
    }

    /// Outcomes of several case studies, aligned by (metric, unit): one row per metric, one column per case.
    fn outcome_comparison(&self, cases: &[usize]) -> Value {
        let site = self.site;
        let c = &site.config;
        let mut metrics: Vec<(&str, &str)> = Vec::new();
        for &i in cases {
            for o in &site.studies[i].outcomes {
                let key = (o.metric.as_str(), o.unit.as_str());
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
        obj! {
            "columns" => with_outcomes.iter().map(|&i| {
                let s = &site.studies[i];
                obj! {
                    "title" => s.title.as_str(),
                    "url" => c.url(&s.route),
                    "city" => self.city_ref_opt(s.city.as_deref()),
                    "year" => s.date.map(|d| d.year),
                    "stage" => self.stage_ref(s.stage),
                }
            }).collect::<Vec<_>>(),
            "rows" => metrics.iter().map(|&(metric, unit)| obj! {
                "metric" => metric,
                "unit" => unit,
                "values" => with_outcomes.iter().map(|&i| {
                    site.studies[i].outcomes.iter().find(|o| o.metric == metric && o.unit == unit).map(|o| number_display(o.value))
                }).collect::<Vec<_>>(),
            }).collect::<Vec<_>>(),
            "practice_name" => cases.first().map(|&i| practice_name(site, &site.studies[i])),
        }
    }
}

/// `meta`: what `base.html` puts in `<head>`.
struct Meta {
    url: String,
    permalink: String,
    section: String,
    title: String,
    description: String,
    og_type: &'static str,
    feed_url: Option<String>,
}

impl Meta {
    fn into_value(self) -> Value {
        let mut v = obj! {
            "url" => self.url,
            "permalink" => self.permalink,
            "section" => self.section,
            "title" => self.title,
            "description" => self.description,
            "og_type" => self.og_type,
        };
        if let Some(feed) = self.feed_url {
            v["feed_url"] = feed.into();
        }
        v
    }
}

fn cities_of(ix: &Indexes, p: usize) -> usize {
    ix.cells.range((p, 0)..(p + 1, 0)).count()
}

fn count_kind(site: &Site, kind: Kind) -> usize {
    site.studies.iter().filter(|s| s.kind == kind).count()
}

fn practice_edges(ix: &Indexes, pi: usize) -> Vec<Edge> {
    ix.edges
        .iter()
        .filter(|e| e.practices.contains(&pi))
        .map(|e| Edge {
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

fn practice_name(site: &Site, s: &Study) -> String {
    s.practice
        .as_deref()
        .and_then(|p| site.indexes.practice(p))
        .map_or_else(String::new, |(_, p)| p.name.clone())
}

/// Totals per (metric, unit) over case studies; different units are never added.
fn outcome_totals(site: &Site, cases: &[usize]) -> Value {
    let mut totals: std::collections::BTreeMap<(&str, &str), (f64, usize)> =
        std::collections::BTreeMap::new();
    for &i in cases {
        for o in &site.studies[i].outcomes {
            let e = totals
                .entry((o.metric.as_str(), o.unit.as_str()))
                .or_insert((0.0, 0));
            e.0 += o.value;
            e.1 += 1;
        }
    }
    Value::Array(
        totals
            .into_iter()
            .map(|((metric, unit), (total, n))| {
                obj! {"metric" => metric, "unit" => unit, "total" => number_display(total), "cases" => n}
            })
            .collect(),
    )
}

/// schema.org `Article` for a study, safe to put inside `<script>`. Fields are
/// declared in sorted order, so the text is the same as a sorted JSON object's.
fn json_ld(site: &Site, s: &Study) -> String {
    #[derive(Serialize)]
    struct Article<'a> {
        #[serde(rename = "@context")]
        context: &'static str,
        #[serde(rename = "@type")]
        kind: &'static str,
        about: Vec<Typed<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        author: Vec<Typed<'a>>,
        #[serde(rename = "dateModified", skip_serializing_if = "Option::is_none")]
        date_modified: Option<String>,
        #[serde(rename = "datePublished", skip_serializing_if = "Option::is_none")]
        date_published: Option<String>,
        #[serde(skip_serializing_if = "str::is_empty")]
        description: &'a str,
        genre: &'static str,
        headline: &'a str,
        #[serde(rename = "inLanguage")]
        in_language: &'a str,
        #[serde(rename = "mainEntityOfPage")]
        main_entity_of_page: &'a str,
        publisher: Publisher<'a>,
        #[serde(rename = "spatialCoverage", skip_serializing_if = "Option::is_none")]
        spatial_coverage: Option<OneOrMany<Place<'a>>>,
        url: &'a str,
    }
    #[derive(Serialize)]
    struct Typed<'a> {
        #[serde(rename = "@type")]
        kind: &'static str,
        name: &'a str,
    }
    #[derive(Serialize)]
    struct Publisher<'a> {
        #[serde(rename = "@type")]
        kind: &'static str,
        name: &'a str,
        url: &'a str,
    }
    #[derive(Serialize, PartialEq)]
    struct Place<'a> {
        #[serde(rename = "@type")]
        kind: &'static str,
        #[serde(rename = "containedInPlace", skip_serializing_if = "Option::is_none")]
        contained_in_place: Option<Country<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        geo: Option<Geo>,
        name: &'a str,
    }
    #[derive(Serialize, PartialEq)]
    struct Country<'a> {
        #[serde(rename = "@type")]
        kind: &'static str,
        name: &'a str,
    }
    #[derive(Serialize, PartialEq)]
    struct Geo {
        #[serde(rename = "@type")]
        kind: &'static str,
        latitude: f64,
        longitude: f64,
    }
    #[derive(Serialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        One(T),
        Many(Vec<T>),
    }

    fn place<'a>(c: &'a crate::config::Config, key: &'a str) -> Place<'a> {
        match c.city(key) {
            Some(city) => Place {
                kind: "City",
                contained_in_place: Some(Country {
                    kind: "Country",
                    name: &city.country,
                }),
                geo: match (city.lat, city.lon) {
                    (Some(latitude), Some(longitude)) => Some(Geo {
                        kind: "GeoCoordinates",
                        latitude,
                        longitude,
                    }),
                    _ => None,
                },
                name: &city.name,
            },
            None => Place {
                kind: "Place",
                contained_in_place: None,
                geo: None,
                name: key,
            },
        }
    }

    let c = &site.config;
    let mut places: Vec<Place> = s
        .city
        .iter()
        .chain(&s.cities)
        .chain(&s.origin)
        .map(|k| place(c, k))
        .collect();
    places.dedup();
    let permalink = c.permalink(&s.route);
    let article = Article {
        context: "https://schema.org",
        kind: "Article",
        about: s
            .themes
            .iter()
            .map(|t| Typed {
                kind: "Thing",
                name: c.theme(t).map_or(t.as_str(), |x| x.name.as_str()),
            })
            .collect(),
        author: s
            .authors
            .iter()
            .map(|a| Typed {
                kind: "Person",
                name: a,
            })
            .collect(),
        date_modified: s.last_modified().map(|d| d.to_string()),
        date_published: s.date.map(|d| d.to_string()),
        description: &s.summary,
        genre: s.kind.label(),
        headline: &s.title,
        in_language: &c.language,
        main_entity_of_page: &permalink,
        publisher: Publisher {
            kind: "Organization",
            name: &c.title,
            url: &c.base_url,
        },
        spatial_coverage: match places.len() {
            0 => None,
            1 => places.pop().map(OneOrMany::One),
            _ => Some(OneOrMany::Many(places)),
        },
        url: &permalink,
    };
    let text = serde_json::to_string(&article).expect("plain data serialises");
    // Inside <script>, `<` could open `</script>` or `<!--`; JSON allows escaping it.
    let mut out = String::with_capacity(text.len() + 16);
    crate::text::replace_ascii_into(&mut out, &text, |b| match b {
        b'<' => Some("\\u003c"),
        b'>' => Some("\\u003e"),
        b'&' => Some("\\u0026"),
        _ => None,
    });
    out
}
