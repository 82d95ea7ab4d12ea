//! The Markdown pass: pulldown-cmark with heading ids, link rewriting,
//! footnotes, raw-HTML policy and code highlighting.
//!
//! Rendering is split in two so the expensive part can be cached by content
//! hash: [`render_markdown`] depends only on the body, its folder and the
//! HTML policy, and leaves a token in place of every internal link;
//! [`resolve_links`] is cheap and always runs, against the current routes.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;

use crate::highlight::highlight_block;
use crate::text::escape_html;

const TOKEN: &str = "casebook:link:";

/// Where an internal link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// Another content file (path relative to `content/`), with an optional anchor.
    Content(PathBuf, Option<String>),
    /// An anchor on the same page.
    SamePage(String),
    /// A root-relative path (`/images/x.png`) that must gain the base path.
    Root(String),
}

/// An internal link found in the body, to be resolved after all files are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalLink {
    /// What it points at.
    pub target: LinkTarget,
    /// The destination as the author wrote it.
    pub written: String,
    /// 0-based line within the body.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A problem in the body, positioned relative to the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyProblem {
    /// Stable code.
    pub code: &'static str,
    /// 0-based line within the body.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Whether it is only a warning.
    pub warning: bool,
}

/// A heading, for the table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Heading {
    /// 2 or 3.
    pub level: u8,
    /// Its anchor id.
    pub id: String,
    /// Its text.
    pub text: String,
}

/// A body rendered to HTML with link tokens still in place.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// HTML with `casebook:link:N` tokens in link and image URLs.
    pub html: String,
    /// The internal links, indexed by token number.
    pub links: Vec<LocalLink>,
    /// Every id a link may target on this page (headings, footnotes).
    pub anchors: HashSet<String>,
    /// `##` and `###` headings.
    pub toc: Arc<[Heading]>,
    /// Errors and warnings found while rendering.
    pub problems: Vec<BodyProblem>,
    /// Plain text of the body, for search.
    pub text: Arc<String>,
    /// Words in `text`, for reading time.
    pub words: usize,
    /// Whether any code block was highlighted.
    pub has_code: bool,
    /// Hash of `anchors`, so link resolution can tell when a target's headings changed.
    pub anchors_key: u64,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders a body. `rel` is the file's path relative to `content/`, for relative links.
pub fn render_markdown(body: &str, rel: &Path, allow_html: bool) -> Rendered {
    // (0-based line, 1-based column) of a byte offset, for diagnostics. Events
    // come in order, so lines are counted on from the last offset asked
    // about (from the start only when one goes back): linear in the body
    // however many links it has.
    // (offset, its 0-based line, characters before it on its line)
    let counted = std::cell::Cell::new((0usize, 0usize, 0usize));
    let pos = |offset: usize| -> (usize, usize) {
        let offset = offset.min(body.len());
        let (from, mut line, mut col) = match counted.get() {
            last @ (at, _, _) if at <= offset => last,
            _ => (0, 0, 0),
        };
        let mut line_start = None;
        for newline in memchr::memchr_iter(b'\n', &body.as_bytes()[from..offset]) {
            line += 1;
            line_start = Some(from + newline + 1);
        }
        let counted_from = match line_start {
            Some(start) => {
                col = 0;
                start
            }
            None => from,
        };
        col += body
            .get(counted_from..offset)
            .map_or(0, |s| s.chars().count());
        counted.set((offset, line, col));
        (line, col + 1)
    };
    let mut out = Rendered::default();
    let mut text = String::with_capacity(body.len());
    let mut toc = Vec::new();
    // About one event per 16 bytes of Markdown in prose; growing costs copies.
    let mut events: Vec<Event> = Vec::with_capacity(body.len() / 16 + 16);
    let mut ids = IdAllocator::default();
    let mut footnotes: BTreeMap<String, usize> = BTreeMap::new();
    let mut heading: Option<(usize, HeadingLevel, Vec<Event>)> = None;
    let mut code: Option<(String, String)> = None;
    let mut image_alt: Option<(usize, String)> = None;
    let mut tables = 0;

    let parser = Parser::new_ext(body, options()).into_offset_iter();
    for (event, range) in parser {
        if let Some((lang, buf)) = code.as_mut() {
            match event {
                Event::Text(t) => buf.push_str(&t),
                Event::End(TagEnd::CodeBlock) => {
                    events.push(Event::Html(highlight_block(lang, buf).into()));
                    text.push_str(buf);
                    out.has_code = true;
                    code = None;
                }
                _ => {}
            }
            continue;
        }
        let event = match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
                continue;
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let dest = rewrite_url(&dest_url, range.start, rel, &pos, &mut out, link_type);
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                image_alt = Some((range.start, String::new()));
                let dest = rewrite_url(&dest_url, range.start, rel, &pos, &mut out, link_type);
                Event::Start(Tag::Image {
                    link_type,
                    dest_url: dest,
                    title,
                    id,
                })
            }
            Event::End(TagEnd::Image) => {
                if let Some((start, alt)) = image_alt.take() {
                    if alt.trim().is_empty() {
                        let (line, column) = pos(start);
                        out.problems.push(BodyProblem {
                            code: "image-without-alt",
                            line,
                            column,
                            message: "image has no alt text; screen readers will skip it".into(),
                            help: Some("describe the image between the brackets: `![Solar roofs on council housing](…)`".into()),
                            warning: true,
                        });
                    }
                }
                Event::End(TagEnd::Image)
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                if html.to_ascii_lowercase().contains("javascript:") {
                    let (line, column) = pos(range.start);
                    out.problems.push(BodyProblem {
                        code: "javascript-url",
                        line,
                        column,
                        message: "raw HTML contains a `javascript:` URL; scripts in content are never allowed".into(),
                        help: Some("remove the script; link to a page instead".into()),
                        warning: false,
                    });
                    continue;
                }
                if !allow_html {
                    continue;
                }
                Event::Html(html)
            }
            Event::FootnoteReference(name) => {
                let n = footnotes.len() + 1;
                let first = !footnotes.contains_key(name.as_ref());
                let n = *footnotes.entry(name.to_string()).or_insert(n);
                let id = footnote_id(&name);
                let back = if first {
                    format!(" id=\"fnref-{id}\"")
                } else {
                    String::new()
                };
                Event::Html(
                    format!("<sup class=\"footnote-ref\"><a href=\"#fn-{id}\"{back}>{n}</a></sup>")
                        .into(),
                )
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let n = footnotes.len() + 1;
                let n = *footnotes.entry(name.to_string()).or_insert(n);
                let id = footnote_id(&name);
                out.anchors.insert(format!("fn-{id}"));
                Event::Html(format!("<div class=\"footnote\" id=\"fn-{id}\"><span class=\"footnote-label\">{n}.</span>").into())
            }
            Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>\n".into()),
            Event::Start(Tag::Table(align)) => {
                tables += 1;
                // Each scrollable region needs its own name (axe landmark-unique).
                events.push(Event::Html(format!("<div class=\"table-scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table {tables}\">").into()));
                Event::Start(Tag::Table(align))
            }
            Event::End(TagEnd::Table) => {
                events.push(Event::End(TagEnd::Table));
                Event::Html("</div>\n".into())
            }
            other => other,
        };
        match &event {
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, alt)) = image_alt.as_mut() {
                    alt.push_str(t);
                }
                text.push_str(t);
            }
            Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph) => text.push(' '),
            _ => {}
        }
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((range.start, level, Vec::new()))
            }
            Event::End(TagEnd::Heading(level)) => {
                let (_, _, inner) = heading.take().unwrap_or((0, level, Vec::new()));
                let heading_text: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let id = ids.allocate(&heading_text);
                out.anchors.insert(id.clone());
                if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                    toc.push(Heading {
                        level: level as u8,
                        id: id.clone(),
                        text: heading_text.trim().to_owned(),
                    });
                }
                events.push(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id)),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
                events.extend(inner);
                events.push(Event::End(TagEnd::Heading(level)));
            }
            e => match heading.as_mut() {
                Some((_, _, inner)) => inner.push(e),
                None => events.push(e),
            },
        }
    }
    let mut html = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    out.html = html;
    out.words = crate::text::count_words(&text);
    out.text = Arc::new(text);
    out.toc = Arc::from(toc);
    let mut anchors: Vec<&String> = out.anchors.iter().collect();
    anchors.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&anchors, &mut h);
    out.anchors_key = std::hash::Hasher::finish(&h);
    out
}

fn footnote_id(name: &str) -> String {
    let slug = heading_slug(name);
    if slug.is_empty() {
        "note".into()
    } else {
        slug
    }
}

/// Unique, stable heading ids per page.
#[derive(Default)]
struct IdAllocator {
    used: HashSet<String>,
}

impl IdAllocator {
    fn allocate(&mut self, text: &str) -> String {
        let base = match heading_slug(text) {
            s if s.is_empty() => "section".to_owned(),
            s => s,
        };
        let mut id = base.clone();
        let mut n = 1;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// GitHub-style heading slug: lowercase letters and digits, spaces to hyphens, punctuation dropped.
pub fn heading_slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if c == ' ' || c == '-' || c == '_' {
            out.push(if c == '_' { '_' } else { '-' });
        }
    }
    out
}

fn rewrite_url<'a>(
    dest: &CowStr<'a>,
    offset: usize,
    rel: &Path,
    pos: &dyn Fn(usize) -> (usize, usize),
    out: &mut Rendered,
    link_type: LinkType,
) -> CowStr<'a> {
    let written = dest.trim();
    let (line, column) = pos(offset);
    let scheme = written
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains('/') && !s.contains('#') && !s.contains('?'));
    if let Some(scheme) = scheme {
        let s: String = scheme
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect();
        if s.eq_ignore_ascii_case("javascript")
            || s.eq_ignore_ascii_case("vbscript")
            || s.eq_ignore_ascii_case("data")
                && matches!(link_type, LinkType::Inline)
                && !written.starts_with("data:image/")
        {
            out.problems.push(BodyProblem {
                code: "javascript-url",
                line,
                column,
                message: format!("link to a `{s}:` URL; scripts in content are never allowed"),
                help: Some("link to a page or a file instead".into()),
                warning: false,
            });
            return CowStr::from("#");
        }
        return dest.clone();
    }
    if written.starts_with("//") || written.is_empty() {
        return dest.clone();
    }
    let (path, anchor) = match written.split_once('#') {
        Some((p, a)) => (p, Some(a.to_owned())),
        None => (written, None),
    };
    let target = if path.is_empty() {
        match anchor {
            Some(a) => LinkTarget::SamePage(a),
            None => return dest.clone(),
        }
    } else if let Some(root) = path.strip_prefix('/') {
        LinkTarget::Root(format!(
            "{root}{}",
            anchor.map(|a| format!("#{a}")).unwrap_or_default()
        ))
    } else if path.ends_with(".md") || path.contains(".md?") {
        let path = path.split('?').next().unwrap_or(path);
        let decoded = percent_decode(path);
        match normalise(&rel.parent().unwrap_or(Path::new("")).join(decoded)) {
            Some(p) => LinkTarget::Content(p, anchor),
            None => {
                out.problems.push(BodyProblem {
                    code: "link-outside-content",
                    line,
                    column,
                    message: format!("link `{written}` points outside `content/`"),
                    help: Some("link to a file inside `content/`, relative to this file".into()),
                    warning: false,
                });
                return dest.clone();
            }
        }
    } else {
        return dest.clone();
    };
    out.links.push(LocalLink {
        target,
        written: written.to_owned(),
        line,
        column,
    });
    CowStr::from(format!("{TOKEN}{}", out.links.len() - 1))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Resolves `.` and `..` lexically; `None` when the path climbs above its root.
pub fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Replaces link tokens with URLs from `resolve`; tokens it cannot resolve become `#`.
/// Only tokens in attribute values (`="casebook:link:N`) are touched: pulldown-cmark
/// escapes `"` in text, so an author's prose can never be mistaken for one.
pub fn resolve_links(html: &str, mut resolve: impl FnMut(usize) -> Option<String>) -> String {
    static MARKER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"=\"casebook:link:"));
    debug_assert_eq!(MARKER.needle(), format!("=\"{TOKEN}").as_bytes());
    // First the replacements, (token start, token end, text), so the result
    // is allocated once at its exact size: bodies are most of a build's memory.
    let mut swaps: Vec<(usize, usize, Cow<'static, str>)> = Vec::new();
    let mut at = 0;
    while let Some(i) = MARKER.find(&html.as_bytes()[at..]) {
        let start = at + i + 2;
        let number = start + TOKEN.len();
        let digits = html[number..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let text = match html[number..number + digits]
            .parse::<usize>()
            .ok()
            .and_then(&mut resolve)
        {
            Some(url) => Cow::Owned(escape_url(&url)),
            None if digits > 0 => Cow::Borrowed("#"),
            None => Cow::Borrowed(TOKEN),
        };
        swaps.push((start, number + digits, text));
        at = number + digits;
    }
    let size = swaps.iter().fold(html.len(), |n, (start, end, text)| {
        n - (end - start) + text.len()
    });
    let mut out = String::with_capacity(size);
    let mut copied = 0;
    for (start, end, text) in &swaps {
        out.push_str(&html[copied..*start]);
        out.push_str(text);
        copied = *end;
    }
    out.push_str(&html[copied..]);
    debug_assert_eq!(out.len(), size);
    out
}

fn escape_url(url: &str) -> String {
    escape_html(url).replace(' ', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(md: &str) -> Rendered {
        render_markdown(md, Path::new("case-studies/a.md"), false)
    }

    #[test]
    fn headings_get_unique_ids_and_toc() {
        let r = render("## Results\n\ntext\n\n## Results\n\n### What *made* it work?\n");
        assert!(
            r.html.contains("<h2 id=\"results\">Results</h2>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("<h2 id=\"results-1\">"));
        assert!(r
            .html
            .contains("<h3 id=\"what-made-it-work\">What <em>made</em> it work?</h3>"));
        assert_eq!(r.toc.len(), 3);
    }

    #[test]
    fn content_links_become_tokens_with_positions() {
        let r = render("Intro\n\nSee [the playbook](../playbooks/heat.md#how-to-replicate) and [x](#results).\n");
        assert_eq!(
            r.links[0].target,
            LinkTarget::Content(
                PathBuf::from("playbooks/heat.md"),
                Some("how-to-replicate".into())
            )
        );
        assert_eq!((r.links[0].line, r.links[0].column), (2, 5));
        assert_eq!(r.links[1].target, LinkTarget::SamePage("results".into()));
        let html = resolve_links(&r.html, |i| Some(format!("/p/{i}/")));
        assert!(html.contains("href=\"/p/0/\""), "{html}");
        let prose = render("The text casebook:link:0 stays as written.\n");
        assert!(
            resolve_links(&prose.html, |_| Some("/x/".into())).contains("casebook:link:0 stays")
        );
        assert!(html.contains("href=\"/p/1/\""));
    }

    #[test]
    fn link_positions_count_lines_and_characters_across_many_links() {
        // Links on one line, on later lines, after multi-byte characters, in a
        // list and after a footnote: each at the line and column of its `[`.
        let md = "é [a](a.md) ü [b](b.md)\n\n- x [c](c.md)\n  [d](d.md)\n\nNote[^n].\n\n[^n]: See [e](e.md).\n\n€€ [f](f.md) [g](g.md)\n";
        let r = render(md);
        let naive: Vec<(usize, usize)> = md
            .match_indices('[')
            .filter(|(i, _)| {
                md[i + 1..].starts_with(|c: char| c.is_ascii_lowercase())
                    && md[*i..]
                        .find(']')
                        .is_some_and(|j| md[i + j + 1..].starts_with('('))
            })
            .map(|(i, _)| {
                let before = &md[..i];
                let line = before.matches('\n').count();
                let start = before.rfind('\n').map_or(0, |n| n + 1);
                (line, md[start..i].chars().count() + 1)
            })
            .collect();
        let found: Vec<(usize, usize)> = r.links.iter().map(|l| (l.line, l.column)).collect();
        assert_eq!(found.len(), 7, "{found:?}");
        assert_eq!(found, naive);
    }

    #[test]
    fn raw_html_is_dropped_unless_allowed_and_scripts_always_fail() {
        let r = render("<div class=x>hi</div>\n\ntext <b>bold</b>\n");
        assert!(
            !r.html.contains("<div class=x>") && !r.html.contains("<b>"),
            "{}",
            r.html
        );
        let allowed = render_markdown("<b>bold</b>\n", Path::new("a.md"), true);
        assert!(allowed.html.contains("<b>bold</b>"));
        let bad = render("[x](javascript:alert(1)) [y]( JavaScript:alert(1))\n");
        assert_eq!(
            bad.problems
                .iter()
                .filter(|p| p.code == "javascript-url")
                .count(),
            2
        );
        assert!(!bad.html.contains("javascript"), "{}", bad.html);
    }

    #[test]
    fn tables_footnotes_tasks_strikethrough() {
        let r = render(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n~~old~~ text[^n]\n\n[^n]: A note.\n",
        );
        assert!(r.html.contains("<div class=\"table-scroll\""));
        assert!(r.html.contains("<table>"));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("<del>old</del>"));
        assert!(r.html.contains("href=\"#fn-n\""));
        assert!(r.anchors.contains("fn-n"));
    }

    #[test]
    fn links_cannot_climb_out_of_content() {
        let r = render("[x](../../../etc/passwd.md)\n");
        assert_eq!(r.problems[0].code, "link-outside-content");
    }

    #[test]
    fn code_blocks_are_highlighted_or_plain() {
        let r = render("```yaml\na: 1\n```\n\n```\nplain <x>\n```\n");
        assert!(r.has_code);
        assert!(r.html.contains("class=\"hl-"));
        assert!(r.html.contains("plain &lt;x&gt;"));
    }
}
