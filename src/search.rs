//! The static search index: small JSON files that the theme's `search.js`
//! fetches on demand, so a query downloads only what it needs.
//!
//! - `search-index/facets.json`: document ids per city, theme, kind and stage;
//! - `search-index/terms-XX.json`: postings (`[doc, score, …]`) for every term
//!   starting with the two characters `XX`;
//! - `search-index/docs-N.json`: title, URL, summary and facets of documents
//!   `N*DOC_CHUNK ..`, fetched only for the results shown.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use crate::site::Site;

/// Documents per `docs-N.json` chunk.
pub const DOC_CHUNK: usize = 64;
/// Summaries in the index are cut to this many characters.
const SUMMARY_CHARS: usize = 180;
/// Words too common to help a search.
const STOPWORDS: &[&str] = &[
    "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it",
    "its", "of", "on", "or", "that", "the", "their", "this", "to", "was", "were", "which", "with",
];

#[derive(Serialize)]
struct Doc<'a> {
    t: &'a str,
    u: String,
    s: String,
    k: &'a str,
    c: Option<&'a str>,
    g: Option<&'a str>,
    y: Option<i32>,
}

/// Splits text into lowercase search terms (letters and digits), dropping stopwords.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 2)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
}

/// The shard a term lives in: its first two characters, made file-name safe.
pub fn shard_of(term: &str) -> String {
    let key: String = term.chars().take(2).collect();
    if key.chars().all(|c| c.is_ascii_alphanumeric()) {
        key
    } else {
        key.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_string()
                } else {
                    format!("{:x}", c as u32)
                }
            })
            .collect::<Vec<_>>()
            .join("_")
    }
}

/// Every file of the search index, as (route, JSON text).
pub fn index_files(site: &Site) -> Vec<(String, String)> {
    let c = &site.config;
    // Documents in "newest first" order, so the first chunks hold what most searches show.
    let docs: Vec<usize> = site.indexes.newest.clone();
    let mut postings: BTreeMap<String, BTreeMap<usize, u32>> = BTreeMap::new();
    let mut facets: BTreeMap<&str, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for (id, &i) in docs.iter().enumerate() {
        let s = &site.studies[i];
        for (text, weight) in [
            (s.title.as_str(), 8u32),
            (s.summary.as_str(), 3),
            (site.bodies[i].text.as_str(), 1),
        ] {
            for t in terms(text) {
                let score = postings.entry(t).or_default().entry(id).or_insert(0);
                *score = (*score + weight).min(255);
            }
        }
        let mut add = |facet: &'static str, key: &str| {
            facets
                .entry(facet)
                .or_default()
                .entry(key.to_owned())
                .or_default()
                .push(id)
        };
        add("kind", s.kind.as_str());
        if let Some(city) = &s.city {
            add("city", city);
        }
        for city in &s.cities {
            add("city", city);
        }
        for t in &s.themes {
            add("theme", t);
        }
        if let Some(st) = s.stage {
            add("stage", st.as_str());
        }
    }
    let mut files = Vec::new();
    let mut shards: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    for (term, list) in postings {
        let flat: Vec<u32> = list.into_iter().flat_map(|(d, s)| [d as u32, s]).collect();
        shards
            .entry(shard_of(&term))
            .or_default()
            .insert(term, json!(flat));
    }
    let shard_names: Vec<&String> = shards.keys().collect();
    files.push((
        "search-index/meta.json".to_owned(),
        json!({"docs": docs.len(), "chunk": DOC_CHUNK, "shards": shard_names, "facets": facets})
            .to_string(),
    ));
    for (name, map) in &shards {
        files.push((
            format!("search-index/terms-{name}.json"),
            serde_json::Value::Object(map.clone()).to_string(),
        ));
    }
    for (n, chunk) in docs.chunks(DOC_CHUNK).enumerate() {
        let list: Vec<Doc> = chunk
            .iter()
            .map(|&i| {
                let s = &site.studies[i];
                let summary: String = s.summary.chars().take(SUMMARY_CHARS).collect();
                Doc {
                    t: &s.title,
                    u: c.url(&s.route),
                    s: summary,
                    k: s.kind.as_str(),
                    c: s.city
                        .as_deref()
                        .and_then(|k| c.city(k))
                        .map(|x| x.name.as_str()),
                    g: s.stage.map(|x| x.as_str()),
                    y: s.date.map(|d| d.year),
                }
            })
            .collect();
        files.push((
            format!("search-index/docs-{n}.json"),
            serde_json::to_string(&list).expect("plain data serialises"),
        ));
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lowercase_words_without_stopwords() {
        let t: Vec<String> = terms("The Heat-Pump Accelerator in München, 2021").collect();
        assert_eq!(t, ["heat", "pump", "accelerator", "münchen", "2021"]);
    }

    #[test]
    fn shards_are_file_name_safe() {
        assert_eq!(shard_of("heat"), "he");
        assert_eq!(shard_of("ünd"), "fc_n");
    }
}
