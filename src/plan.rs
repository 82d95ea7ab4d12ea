//! Pure: what pages exist, their routes and templates. What each template
//! sees is [`crate::context`]'s.

use crate::index::Indexes;
use crate::model::Kind;
use crate::site::Site;

/// Studies per page of a kind list.
pub const LIST_PAGE_SIZE: usize = 100;
/// Above this many practices the matrix is split into one page per theme.
pub const MATRIX_SPLIT_AT: usize = 120;
/// Studies listed per city on a theme page; the rest are one filtered search away.
pub const THEME_GROUP_SHOWN: usize = 60;
/// Case studies listed on a city page, newest first; the rest are one filtered search away.
pub const CITY_CASES_SHOWN: usize = 120;

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

pub fn list_route(kind: Kind, page: usize) -> String {
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
