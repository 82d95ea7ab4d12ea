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
use std::hash::BuildHasher as _;

use hashbrown::hash_table::{Entry, HashTable};
use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};

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

/// A search term: a word of the text that is already lowercase, or its
/// lowercase form in a buffer the tokenizer reuses.
#[derive(Debug, Clone, Copy)]
pub enum Term<'a, 'b> {
    InText(&'a str),
    Lowered(&'b str),
}

impl<'a> Term<'a, '_> {
    pub fn as_str(&self) -> &str {
        match *self {
            Term::InText(t) | Term::Lowered(t) => t,
        }
    }

    /// The term to keep: borrowed from the text when it can be.
    pub fn to_key(self) -> Cow<'a, str> {
        match self {
            Term::InText(t) => Cow::Borrowed(t),
            Term::Lowered(t) => Cow::Owned(t.to_owned()),
        }
    }
}

/// Calls `f` with each search term of `text`, in order: runs of letters and
/// digits (as `char::is_alphanumeric` says), lowercased, without one-character
/// words and stopwords. Eight ASCII bytes are classified at once in a `u64`
/// and words are found by their edges, noting capitals on the way; other
/// characters are decoded one by one. Capitalised words are lowercased into
/// one reused buffer, so a term costs no allocation.
pub fn for_each_term<'a>(text: &'a str, mut f: impl for<'b> FnMut(Term<'a, 'b>)) {
    use crate::text::swar::{within, HIGH, ONES};
    let bytes = text.as_bytes();
    let mut lowered = String::new();
    // The word being read: where it started, and whether it has a capital.
    let mut word: Option<usize> = None;
    let mut upper = false;
    let mut emit = |start: usize, end: usize, upper: bool| {
        if let Some(t) = term(&text[start..end], upper, &mut lowered) {
            f(t);
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        if let Some(x) = crate::text::swar::block(bytes, i) {
            if x & HIGH == 0 {
                // ASCII letters are `a..=z` once bit 5 is set; capitals have it clear.
                let letters = within(x | (ONES * 0x20), b'a', b'z');
                let capitals = letters & !(x << 2) & HIGH;
                let alnum = letters | within(x, b'0', b'9');
                // Walk the edges between words and separators in this block.
                let mut at = 0;
                while at < 8 {
                    let ahead = HIGH << (8 * at);
                    match word {
                        Some(start) => {
                            let ends = !alnum & ahead;
                            if ends == 0 {
                                upper |= capitals & ahead != 0;
                                break;
                            }
                            let end = ends.trailing_zeros() as usize / 8;
                            let inside = ahead & !(HIGH << (8 * end));
                            upper |= capitals & inside != 0;
                            emit(start, i + end, upper);
                            word = None;
                            at = end + 1;
                        }
                        None => {
                            let starts = alnum & ahead;
                            if starts == 0 {
                                break;
                            }
                            at = starts.trailing_zeros() as usize / 8;
                            word = Some(i + at);
                            upper = false;
                        }
                    }
                }
                i += 8;
                continue;
            }
        }
        // One character: an ASCII byte by its value, anything else decoded.
        let (is_word, is_upper, width) = match bytes[i] {
            b @ 0..=0x7f => (b.is_ascii_alphanumeric(), b.is_ascii_uppercase(), 1),
            _ => {
                let c = text[i..].chars().next().unwrap_or(' ');
                (c.is_alphanumeric(), c.is_uppercase(), c.len_utf8())
            }
        };
        match (word, is_word) {
            (None, true) => {
                word = Some(i);
                upper = is_upper;
            }
            (Some(_), true) => upper |= is_upper,
            (Some(start), false) => {
                emit(start, i, upper);
                word = None;
            }
            (None, false) => {}
        }
        i += width;
    }
    if let Some(start) = word {
        emit(start, bytes.len(), upper);
    }
}

/// A word as a search term: two characters or more, lowercase, not a stopword.
/// `upper`: the word has a capital letter; it is lowercased into `buffer`.
#[inline]
fn term<'a, 'b>(w: &'a str, upper: bool, buffer: &'b mut String) -> Option<Term<'a, 'b>> {
    if w.len() < 2 || (w.len() < 5 && w.chars().nth(1).is_none()) {
        return None;
    }
    let t = if !upper {
        Term::InText(w)
    } else {
        buffer.clear();
        if w.is_ascii() {
            buffer.push_str(w);
            buffer.make_ascii_lowercase();
        } else {
            // `str::to_lowercase`, not per character: a final Σ becomes ς.
            buffer.push_str(&w.to_lowercase());
        }
        Term::Lowered(buffer)
    };
    (t.as_str().len() > 5 || !is_stopword(t.as_str())).then_some(t)
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
    // A term is hashed once and looked up by `&str`; a key is made only when
    // the block first meets the term.
    let blocks: Vec<HashTable<(Cow<str>, Postings)>> = docs
        .par_chunks(256)
        .enumerate()
        .map(|(b, block)| {
            let mut local: HashTable<(Cow<str>, Postings)> = HashTable::new();
            let hasher = FxBuildHasher;
            for (k, &i) in block.iter().enumerate() {
                let id = (b * 256 + k) as u32;
                let s = &site.studies[i];
                for (text, weight) in [
                    (s.title.as_str(), 8u32),
                    (s.summary.as_str(), 3),
                    (site.bodies[i].text(), 1),
                ] {
                    for_each_term(text, |t| {
                        let word = t.as_str();
                        let list = match local.entry(
                            hasher.hash_one(word),
                            |(key, _)| key == word,
                            |(key, _)| hasher.hash_one(key.as_ref()),
                        ) {
                            Entry::Occupied(e) => &mut e.into_mut().1,
                            Entry::Vacant(e) => {
                                &mut e.insert((t.to_key(), Vec::new())).into_mut().1
                            }
                        };
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

    fn terms(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_term(text, |t| out.push(t.as_str().to_owned()));
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
        let by_std = |text: &str| -> Vec<String> {
            text.split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 2)
                .map(str::to_lowercase)
                .filter(|w| !is_stopword(w))
                .collect()
        };
        for text in [
            "no\u{a0}break em\u{2003}space é Ünïcode ΣΊΣΥΦΟΣ",
            "x-y_z 2021 CO₂ ½ tab\tand\nline \u{1F600}emoji",
            "The AND of It: a an ab",
            "eight ch Words-in-blocks of eight, AcrossTheEdges 12345678 [brackets] @`{~",
        ] {
            assert_eq!(terms(text), by_std(text), "{text:?}");
        }
        // Words, capitals, digits, stopwords and separators across eight-byte blocks.
        let pieces = [
            "a", "Z", "9", "heat", "Pump", "THE", "and", "of", " ", "-", "@", "[", "`", "{", "/",
            ":", "é", "Ö", "₂", "½", "—", "\u{a0}", "ΣΑΣ", "x1",
        ];
        for text in crate::text::mixes(&pieces, 48, 3000) {
            assert_eq!(terms(&text), by_std(&text), "{text:?}");
        }
    }

    #[test]
    fn shards_are_file_name_safe() {
        assert_eq!(shard_of("heat"), "he");
        assert_eq!(shard_of("ünd"), "fc_n");
    }
}
