//! The static search index: small JSON files that the theme's `search.js`
//! fetches on demand, so a query downloads only what it needs.
//!
//! - `search-index/meta.json`: document count, chunk size, shard and facet names;
//! - `search-index/facet-NAME.json`: document ids per city, theme, kind or stage;
//! - `search-index/terms-XX.json`: postings (`[doc, score, …]`) for the terms
//!   starting with `XX`; a shard over 64 KiB is split by the next character
//!   (`terms-XXY.json`), and a term belongs to the longest name that prefixes it;
//! - `search-index/docs-N.json`: title, URL, summary and facets of documents
//!   `N*DOC_CHUNK ..`, fetched only for the results shown.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use serde::Serialize;
use serde_json::json;

use crate::site::Site;

/// Documents per `docs-N.json` chunk.
pub const DOC_CHUNK: usize = 64;
/// A shard over this many bytes is split by the next character of its terms.
pub const SHARD_BYTES: usize = 64 * 1024;
/// Summaries in the index are cut to this many characters.
const SUMMARY_CHARS: usize = 180;

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

/// Calls `f` with each search term of `text`, in order: runs of letters and
/// digits (as `char::is_alphanumeric` says), lowercased, without one-character
/// words and stopwords. One pass over the bytes: ASCII is classified through a
/// table, noting capitals on the way; only other characters are decoded.
pub fn for_each_term<'a>(text: &'a str, mut f: impl FnMut(Cow<'a, str>)) {
    const SEPARATOR: u8 = 0;
    const LOWER: u8 = 1;
    const UPPER: u8 = 2;
    const DECODE: u8 = 3;
    static CLASS: [u8; 256] = {
        let mut t = [DECODE; 256];
        let mut b = 0;
        while b < 128 {
            t[b] = match b as u8 {
                b'a'..=b'z' | b'0'..=b'9' => LOWER,
                b'A'..=b'Z' => UPPER,
                _ => SEPARATOR,
            };
            b += 1;
        }
        t
    };
    // The class of the non-ASCII character at `i`, and its width.
    let decode = |i: usize| -> (u8, usize) {
        let c = text[i..].chars().next().unwrap_or(' ');
        let class = if !c.is_alphanumeric() {
            SEPARATOR
        } else if c.is_uppercase() {
            UPPER
        } else {
            LOWER
        };
        (class, c.len_utf8())
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let (class, width) = match CLASS[usize::from(bytes[i])] {
            DECODE => decode(i),
            ascii => (ascii, 1),
        };
        if class == SEPARATOR {
            i += width;
            continue;
        }
        let start = i;
        let mut upper = class == UPPER;
        i += width;
        while i < bytes.len() {
            match CLASS[usize::from(bytes[i])] {
                LOWER => i += 1,
                UPPER => {
                    upper = true;
                    i += 1;
                }
                SEPARATOR => break,
                _ => match decode(i) {
                    (SEPARATOR, _) => break,
                    (class, width) => {
                        upper |= class == UPPER;
                        i += width;
                    }
                },
            }
        }
        if let Some(t) = term(&text[start..i], upper) {
            f(t);
        }
    }
}

/// A word as a search term: two characters or more, lowercase, not a stopword.
/// `upper`: the word has a capital letter.
fn term(w: &str, upper: bool) -> Option<Cow<'_, str>> {
    if w.len() < 2 || (w.len() < 5 && w.chars().nth(1).is_none()) {
        return None;
    }
    let t = match (upper, w.is_ascii()) {
        (false, _) => Cow::Borrowed(w),
        (true, true) => Cow::Owned(w.to_ascii_lowercase()),
        (true, false) => Cow::Owned(w.to_lowercase()),
    };
    (t.len() > 5 || !is_stopword(&t)).then_some(t)
}

/// Words too common to help a search.
fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "an" | "and"
            | "are"
            | "as"
            | "at"
            | "be"
            | "by"
            | "for"
            | "from"
            | "has"
            | "have"
            | "in"
            | "is"
            | "it"
            | "its"
            | "of"
            | "on"
            | "or"
            | "that"
            | "the"
            | "their"
            | "this"
            | "to"
            | "was"
            | "were"
            | "which"
            | "with"
    )
}

/// Postings of one term: (document, score) pairs, documents ascending.
type Postings = Vec<(u32, u32)>;

/// Rough JSON size of a shard, to keep each download small.
fn shard_bytes(terms: &[(String, Postings)]) -> usize {
    terms.iter().map(|(t, p)| t.len() + 4 + p.len() * 8).sum()
}

/// Adds `terms` under `name`, splitting by the next character while the shard
/// is over [`SHARD_BYTES`]: the client picks the longest listed name that
/// prefixes its term. Only plain ASCII names are split.
fn split_shard(
    name: String,
    terms: Vec<(String, Postings)>,
    out: &mut BTreeMap<String, Vec<(String, Postings)>>,
) {
    let splittable = name.len() < 8
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !splittable || terms.len() < 2 || shard_bytes(&terms) <= SHARD_BYTES {
        out.insert(name, terms);
        return;
    }
    let depth = name.len() + 1;
    let mut here = Vec::new();
    let mut deeper: BTreeMap<String, Vec<(String, Postings)>> = BTreeMap::new();
    for (term, list) in terms {
        match term.get(..depth).filter(|p| {
            p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }) {
            Some(prefix) if term.len() > depth || term.len() == depth => deeper
                .entry(prefix.to_owned())
                .or_default()
                .push((term, list)),
            _ => here.push((term, list)),
        }
    }
    if !here.is_empty() {
        out.insert(name, here);
    }
    for (sub, list) in deeper {
        split_shard(sub, list, out);
    }
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
    let docs: &[usize] = &site.indexes.newest;
    // Postings per block of documents, built in parallel: one map per block,
    // keyed by terms borrowed from the text where they are already lowercase.
    // A document's repeated term adds to its last posting (ids only grow).
    let blocks: Vec<FxHashMap<Cow<str>, Postings>> = docs
        .par_chunks(256)
        .enumerate()
        .map(|(b, block)| {
            let mut local: FxHashMap<Cow<str>, Postings> = FxHashMap::default();
            for (k, &i) in block.iter().enumerate() {
                let id = (b * 256 + k) as u32;
                let s = &site.studies[i];
                for (text, weight) in [
                    (s.title.as_str(), 8u32),
                    (s.summary.as_str(), 3),
                    (site.bodies[i].text(), 1),
                ] {
                    for_each_term(text, |t| {
                        let list = local.entry(t).or_default();
                        match list.last_mut() {
                            Some((doc, score)) if *doc == id => *score = (*score + weight).min(255),
                            _ => list.push((id, weight)),
                        }
                    });
                }
            }
            local
        })
        .collect();
    let mut postings: FxHashMap<Cow<str>, Postings> = FxHashMap::default();
    for block in blocks {
        for (term, list) in block {
            match postings.get_mut(term.as_ref()) {
                Some(v) => v.extend(list),
                None => {
                    postings.insert(term, list);
                }
            }
        }
    }
    let mut by_two: BTreeMap<String, Vec<(String, Postings)>> = BTreeMap::new();
    for (term, list) in postings {
        by_two
            .entry(shard_of(&term))
            .or_default()
            .push((term.into_owned(), list));
    }
    let mut shards: BTreeMap<String, Vec<(String, Postings)>> = BTreeMap::new();
    for (name, terms) in by_two {
        split_shard(name, terms, &mut shards);
    }
    let mut facets: BTreeMap<&str, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    for (id, &i) in docs.iter().enumerate() {
        let s = &site.studies[i];
        let mut add = |facet: &'static str, key: &str| {
            facets
                .entry(facet)
                .or_default()
                .entry(key.to_owned())
                .or_default()
                .push(id)
        };
        add("kind", s.kind.as_str());
        for city in s.city.iter().chain(&s.cities) {
            add("city", city);
        }
        for t in &s.themes {
            add("theme", t);
        }
        if let Some(st) = s.stage {
            add("stage", st.as_str());
        }
    }
    let mut files = Vec::with_capacity(shards.len() + docs.len() / DOC_CHUNK + 6);
    let shard_names: Vec<&String> = shards.keys().collect();
    let facet_names: Vec<&str> = facets.keys().copied().collect();
    files.push((
        "search-index/meta.json".to_owned(),
        json!({"docs": docs.len(), "chunk": DOC_CHUNK, "shards": shard_names, "facets": facet_names}).to_string(),
    ));
    // Each facet in its own file: fetched only when a visitor filters by it.
    for (name, values) in &facets {
        files.push((
            format!("search-index/facet-{name}.json"),
            json!(values).to_string(),
        ));
    }
    let shard_files: Vec<(String, String)> = shards
        .into_par_iter()
        .map(|(name, mut terms)| {
            terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut out = String::from("{");
            for (n, (term, list)) in terms.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                // Terms are letters and digits only: nothing in them needs a JSON escape.
                let _ = write!(out, "\"{term}\":[");
                let mut num = itoa::Buffer::new();
                for (k, (doc, score)) in list.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(num.format(*doc));
                    out.push(',');
                    out.push_str(num.format(*score));
                }
                out.push(']');
            }
            out.push('}');
            (format!("search-index/terms-{name}.json"), out)
        })
        .collect();
    files.extend(shard_files);
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

    fn terms(text: &str) -> Vec<Cow<'_, str>> {
        let mut out = Vec::new();
        for_each_term(text, |t| out.push(t));
        out
    }

    #[test]
    fn terms_are_lowercase_words_without_stopwords() {
        let t = terms("The Heat-Pump Accelerator in München, 2021");
        assert_eq!(t, ["heat", "pump", "accelerator", "münchen", "2021"]);
        let t = terms("ÉCOLE Ökostrom x é Zürich's CO₂ 5G ½ ǅx");
        assert_eq!(t, ["école", "ökostrom", "zürich", "co₂", "5g", "ǅx"]);
        assert!(terms("").is_empty());
        assert!(terms("—  ").is_empty());
        assert_eq!(terms("éa Éb aÉ"), ["éa", "éb", "aé"]);
        // The same as splitting on everything else and lowercasing, by std.
        for text in [
            "no\u{a0}break em\u{2003}space é Ünïcode ΣΊΣΥΦΟΣ",
            "x-y_z 2021 CO₂ ½ tab\tand\nline \u{1F600}emoji",
            "The AND of It: a an ab",
        ] {
            let std: Vec<String> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 2)
                .map(str::to_lowercase)
                .filter(|w| !is_stopword(w))
                .collect();
            assert_eq!(terms(text), std, "{text:?}");
        }
    }

    #[test]
    fn shards_are_file_name_safe() {
        assert_eq!(shard_of("heat"), "he");
        assert_eq!(shard_of("ünd"), "fc_n");
    }
}
