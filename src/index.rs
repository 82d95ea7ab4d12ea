//! Pure: validated studies -> the cross-city indexes (practices, cities,
//! themes, replication edges and the matrix). Recomputed on every build; cheap,
//! and so never stale.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::config::Config;
use crate::date::Date;
use crate::model::{Kind, Study};
use crate::text::humanise;

/// A practice: the "what works" shared by a playbook and its case studies.
#[derive(Debug, Clone, PartialEq)]
pub struct Practice {
    /// The slug front matter uses.
    pub slug: String,
    /// The playbook's title, or the slug humanised.
    pub name: String,
    /// Index of its playbook in the studies.
    pub playbook: Option<usize>,
    /// Where it was first developed: playbook `origin`, else the city of the earliest case.
    pub origin: Option<String>,
    /// Theme keys, in site.toml order.
    pub themes: Vec<String>,
    /// Its case studies, sorted by city key, date, then route (the CSV order).
    pub cases: Vec<usize>,
    /// Challenge studies that name it.
    pub challenges: Vec<usize>,
}

impl Practice {
    /// The route of the practice page.
    pub fn route(&self) -> String {
        format!("practices/{}/", self.slug)
    }
}

/// One cell of the replication matrix: a practice in a city.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// The latest-dated case study there (ties broken by route).
    pub latest: usize,
    /// Earlier case studies there, oldest first.
    pub earlier: Vec<usize>,
}

/// What one city did and studied.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CityIndex {
    /// Practices that originated here (indexes into `practices`).
    pub originated: Vec<usize>,
    /// Practices adopted here: (practice, the city learned from, latest case here).
    pub adopted: Vec<(usize, Option<String>, usize)>,
    /// Case studies here, newest first.
    pub cases: Vec<usize>,
    /// Challenge studies that studied this city, newest first.
    pub challenges: Vec<usize>,
    /// Playbooks whose practice originated here.
    pub playbooks: Vec<usize>,
    /// Every study above, newest first, for the city's feed.
    pub all_newest: Vec<usize>,
}

/// Studies and practices under one theme.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ThemeIndex {
    /// Every study with the theme, newest first.
    pub studies: Vec<usize>,
    /// Studies grouped by city key (site.toml order); studies without a city are under "".
    pub by_city: Vec<(String, Vec<usize>)>,
    /// Practices with the theme.
    pub practices: Vec<usize>,
}

/// A replication edge: practices learned in `to` from `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// City key the practice came from.
    pub from: String,
    /// City key that adopted it.
    pub to: String,
    /// Practice indexes, sorted.
    pub practices: Vec<usize>,
}

/// All cross-city indexes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Indexes {
    /// Practices sorted by slug.
    pub practices: Vec<Practice>,
    /// Per city, in site.toml order.
    pub cities: Vec<CityIndex>,
    /// Per theme, in site.toml order.
    pub themes: Vec<ThemeIndex>,
    /// Replication edges, sorted by (from, to) in site.toml order.
    pub edges: Vec<Edge>,
    /// Matrix cells keyed by (practice index, city index).
    pub cells: BTreeMap<(usize, usize), Cell>,
    /// Studies (not pages), newest first: date desc, then route.
    pub newest: Vec<usize>,
}

impl Indexes {
    /// The practice with this slug.
    pub fn practice(&self, slug: &str) -> Option<(usize, &Practice)> {
        self.practices
            .binary_search_by(|p| p.slug.as_str().cmp(slug))
            .ok()
            .map(|i| (i, &self.practices[i]))
    }
}

/// Sort key for "newest first".
fn newest_key(s: &Study) -> (std::cmp::Reverse<Option<Date>>, &str) {
    (std::cmp::Reverse(s.date), s.route.as_str())
}

/// Builds every index from the studies that will be published.
pub fn build_indexes(config: &Config, studies: &[Arc<Study>]) -> Indexes {
    let city_pos: BTreeMap<&str, usize> = config
        .cities
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.as_str(), i))
        .collect();
    let theme_pos: BTreeMap<&str, usize> = config
        .themes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.key.as_str(), i))
        .collect();

    let mut newest: Vec<usize> = (0..studies.len())
        .filter(|&i| studies[i].kind.is_study())
        .collect();
    newest.sort_by(|&a, &b| newest_key(&studies[a]).cmp(&newest_key(&studies[b])));

    // Practices.
    let mut by_slug: BTreeMap<&str, Practice> = BTreeMap::new();
    let entry = |map: &mut BTreeMap<&'_ str, Practice>, slug: &str| -> Practice {
        map.remove(slug).unwrap_or_else(|| Practice {
            slug: slug.to_owned(),
            name: humanise(slug),
            playbook: None,
            origin: None,
            themes: Vec::new(),
            cases: Vec::new(),
            challenges: Vec::new(),
        })
    };
    for (i, s) in studies.iter().enumerate() {
        match (s.kind, s.practice.as_deref()) {
            (Kind::Playbook, Some(slug)) => {
                let mut p = entry(&mut by_slug, slug);
                if p.playbook.is_none() {
                    p.playbook = Some(i);
                    p.name = s.title.clone();
                    p.origin = s.origin.clone();
                }
                by_slug.insert(slug_ref(studies, i), p);
            }
            (Kind::CaseStudy, Some(slug)) => {
                let mut p = entry(&mut by_slug, slug);
                p.cases.push(i);
                by_slug.insert(slug_ref(studies, i), p);
            }
            _ => {}
        }
    }
    for (i, s) in studies
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == Kind::Challenge)
    {
        for slug in &s.practices {
            if let Some(p) = by_slug.get_mut(slug.as_str()) {
                p.challenges.push(i);
            }
        }
    }
    let mut practices: Vec<Practice> = by_slug.into_values().collect();
    for p in &mut practices {
        p.cases.sort_by(|&a, &b| {
            let (x, y) = (&studies[a], &studies[b]);
            (x.city.as_deref(), x.date, x.route.as_str()).cmp(&(
                y.city.as_deref(),
                y.date,
                y.route.as_str(),
            ))
        });
        if p.origin.is_none() {
            p.origin = p
                .cases
                .iter()
                .min_by(|&&a, &&b| {
                    (studies[a].date, &studies[a].route).cmp(&(studies[b].date, &studies[b].route))
                })
                .and_then(|&i| studies[i].city.clone());
        }
        let mut themes: BTreeSet<usize> = BTreeSet::new();
        for &i in p.playbook.iter().chain(&p.cases) {
            themes.extend(
                studies[i]
                    .themes
                    .iter()
                    .filter_map(|t| theme_pos.get(t.as_str()).copied()),
            );
        }
        p.themes = themes
            .into_iter()
            .map(|t| config.themes[t].key.clone())
            .collect();
        p.challenges
            .sort_by(|&a, &b| newest_key(&studies[a]).cmp(&newest_key(&studies[b])));
    }

    // Matrix cells and edges.
    let mut cells = BTreeMap::new();
    let mut edges: BTreeMap<(usize, usize), BTreeSet<usize>> = BTreeMap::new();
    let mut cities = vec![CityIndex::default(); config.cities.len()];
    for (pi, p) in practices.iter().enumerate() {
        let mut per_city: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &p.cases {
            if let Some(c) = studies[i].city.as_deref().and_then(|c| city_pos.get(c)) {
                per_city.entry(*c).or_default().push(i);
            }
        }
        for (ci, mut list) in per_city {
            list.sort_by(|&a, &b| {
                (studies[a].date, &studies[a].route).cmp(&(studies[b].date, &studies[b].route))
            });
            let latest = list.pop().expect("a city entry has at least one case");
            let city_key = &config.cities[ci].key;
            if p.origin.as_deref() != Some(city_key.as_str()) {
                let from = list
                    .iter()
                    .chain(std::iter::once(&latest))
                    .rev()
                    .find_map(|&i| studies[i].replicated_from.clone())
                    .or_else(|| p.origin.clone());
                cities[ci].adopted.push((pi, from.clone(), latest));
            }
            cells.insert(
                (pi, ci),
                Cell {
                    latest,
                    earlier: list,
                },
            );
        }
        if let Some(o) = p.origin.as_deref().and_then(|o| city_pos.get(o)) {
            cities[*o].originated.push(pi);
            if let Some(pb) = p.playbook {
                cities[*o].playbooks.push(pb);
            }
        }
        for &i in &p.cases {
            let s = &studies[i];
            let from = s.replicated_from.as_deref().or(p.origin.as_deref());
            if let (Some(from), Some(to)) = (from, s.city.as_deref()) {
                if from != to {
                    if let (Some(&f), Some(&t)) = (city_pos.get(from), city_pos.get(to)) {
                        edges.entry((f, t)).or_default().insert(pi);
                    }
                }
            }
        }
    }
    for &i in &newest {
        let s = &studies[i];
        match s.kind {
            Kind::CaseStudy => {
                if let Some(c) = s.city.as_deref().and_then(|c| city_pos.get(c)) {
                    cities[*c].cases.push(i);
                }
            }
            Kind::Challenge => {
                for c in s.cities.iter().filter_map(|c| city_pos.get(c.as_str())) {
                    cities[*c].challenges.push(i);
                }
            }
            _ => {}
        }
    }

    for city in &mut cities {
        let mut all: Vec<usize> = city
            .cases
            .iter()
            .chain(&city.challenges)
            .chain(&city.playbooks)
            .copied()
            .collect();
        all.sort_by(|&a, &b| newest_key(&studies[a]).cmp(&newest_key(&studies[b])));
        all.dedup();
        city.all_newest = all;
    }

    // Themes.
    let mut themes = vec![ThemeIndex::default(); config.themes.len()];
    for &i in &newest {
        for t in studies[i]
            .themes
            .iter()
            .filter_map(|t| theme_pos.get(t.as_str()))
        {
            themes[*t].studies.push(i);
        }
    }
    for (ti, theme) in themes.iter_mut().enumerate() {
        let key = &config.themes[ti].key;
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &i in &theme.studies {
            let s = &studies[i];
            let city = match s.kind {
                Kind::CaseStudy => s.city.as_deref(),
                Kind::Playbook => s
                    .practice
                    .as_deref()
                    .and_then(|p| practices.iter().find(|x| x.slug == p))
                    .and_then(|p| p.origin.as_deref()),
                _ => None,
            };
            let pos = city
                .and_then(|c| city_pos.get(c))
                .copied()
                .unwrap_or(usize::MAX);
            groups.entry(pos).or_default().push(i);
        }
        theme.by_city = groups
            .into_iter()
            .map(|(pos, list)| {
                (
                    config
                        .cities
                        .get(pos)
                        .map(|c| c.key.clone())
                        .unwrap_or_default(),
                    list,
                )
            })
            .collect();
        theme.practices = practices
            .iter()
            .enumerate()
            .filter(|(_, p)| p.themes.contains(key))
            .map(|(i, _)| i)
            .collect();
    }

    let edges = edges
        .into_iter()
        .map(|((f, t), ps)| Edge {
            from: config.cities[f].key.clone(),
            to: config.cities[t].key.clone(),
            practices: ps.into_iter().collect(),
        })
        .collect();

    Indexes {
        practices,
        cities,
        themes,
        edges,
        cells,
        newest,
    }
}

fn slug_ref(studies: &[Arc<Study>], i: usize) -> &str {
    studies[i]
        .practice
        .as_deref()
        .expect("only called for studies with a practice")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_config;
    use crate::model::Stage;
    use std::path::PathBuf;

    fn config() -> Config {
        let mut t = String::from("title = \"T\"\nbase_url = \"https://e.org/\"\n");
        for c in ["edinburgh", "london", "valencia"] {
            t += &format!("[[cities]]\nkey = \"{c}\"\nname = \"{c}\"\ncountry = \"X\"\n");
        }
        t += "[[themes]]\nkey = \"heat\"\nname = \"Heat\"\n[[themes]]\nkey = \"procurement\"\nname = \"Procurement\"\n";
        parse_config(&t).unwrap()
    }

    fn study(kind: Kind, slug: &str, date: &str) -> Study {
        Study {
            path: PathBuf::from(format!("content/{slug}.md")),
            rel: PathBuf::from(format!("{slug}.md")),
            hash: 0,
            kind,
            title: slug.to_owned(),
            summary: String::new(),
            date: Date::parse(date),
            updated: None,
            draft: false,
            slug: slug.to_owned(),
            authors: vec![],
            themes: vec!["heat".into()],
            city: None,
            practice: None,
            stage: None,
            replicated_from: None,
            origin: None,
            cities: vec![],
            practices: vec![],
            partners: vec![],
            period: None,
            outcomes: vec![],
            funding: vec![],
            sdgs: vec![],
            reviewed: None,
            route: format!("{}/{slug}/", kind.section()),
            body: Arc::from(""),
            body_line: 1,
            positions: BTreeMap::new(),
        }
    }

    fn case(
        slug: &str,
        date: &str,
        practice: &str,
        city: &str,
        stage: Stage,
        from: Option<&str>,
    ) -> Study {
        let mut s = study(Kind::CaseStudy, slug, date);
        s.practice = Some(practice.into());
        s.city = Some(city.into());
        s.stage = Some(stage);
        s.replicated_from = from.map(Into::into);
        s
    }

    #[test]
    fn origin_is_earliest_case_without_playbook_origin() {
        let studies = vec![
            case(
                "b",
                "2020-01-01",
                "heat",
                "london",
                Stage::Replicated,
                Some("valencia"),
            ),
            case("a", "2019-01-01", "heat", "valencia", Stage::Pilot, None),
        ];
        let studies: Vec<Arc<Study>> = studies.into_iter().map(Arc::new).collect();
        let ix = build_indexes(&config(), &studies);
        let p = &ix.practices[0];
        assert_eq!(p.name, "Heat");
        assert_eq!(p.origin.as_deref(), Some("valencia"));
        assert_eq!(
            ix.edges,
            vec![Edge {
                from: "valencia".into(),
                to: "london".into(),
                practices: vec![0]
            }]
        );
        assert_eq!(ix.cities[2].originated, vec![0]);
        assert_eq!(ix.cities[1].adopted, vec![(0, Some("valencia".into()), 0)]);
    }

    #[test]
    fn playbook_origin_wins_and_latest_case_fills_the_cell() {
        let mut pb = study(Kind::Playbook, "pb", "2018-01-01");
        pb.practice = Some("heat".into());
        pb.origin = Some("edinburgh".into());
        pb.title = "Heat Compact".into();
        let studies = vec![
            pb,
            case("x1", "2019-01-01", "heat", "london", Stage::Pilot, None),
            case(
                "x2",
                "2021-01-01",
                "heat",
                "london",
                Stage::Discontinued,
                None,
            ),
        ];
        let studies: Vec<Arc<Study>> = studies.into_iter().map(Arc::new).collect();
        let ix = build_indexes(&config(), &studies);
        assert_eq!(ix.practices[0].name, "Heat Compact");
        assert_eq!(ix.practices[0].origin.as_deref(), Some("edinburgh"));
        assert_eq!(
            ix.cells[&(0, 1)],
            Cell {
                latest: 2,
                earlier: vec![1]
            }
        );
        assert_eq!(ix.cities[1].adopted, vec![(0, Some("edinburgh".into()), 2)]);
        assert_eq!(ix.newest, vec![2, 1, 0]);
    }
}
