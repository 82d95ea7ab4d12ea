//! Splits the `---` block off a content file and parses it as YAML.
//!
//! This is the only module that knows about serde_yaml: it hands the rest of
//! the crate a plain [`Value`] tree and file-line positions, so the YAML
//! library could be swapped without touching validation.

/// Front matter larger than this is refused before YAML sees it.
pub const MAX_FRONT_MATTER_BYTES: usize = 64 * 1024;

/// A YAML value, independent of the YAML library.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string (unquoted dates such as `2021-03-05` are strings too).
    Str(String),
    /// A sequence.
    List(Vec<Value>),
    /// A mapping, in source order.
    Map(Vec<(String, Value)>),
}

impl Value {
    /// What kind of value this is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "nothing".into(),
            Value::Bool(b) => format!("the boolean `{b}`"),
            Value::Int(i) => format!("the number `{i}`"),
            Value::Float(f) => format!("the number `{f}`"),
            Value::Str(s) => format!("the text `{}`", truncate(s, 40)),
            Value::List(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// One top-level key of the front matter with its position in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The key.
    pub key: String,
    /// Its value.
    pub value: Value,
    /// 1-based file line of the key.
    pub line: usize,
    /// 1-based column of the key.
    pub column: usize,
    /// Last file line that belongs to this field's value.
    pub end_line: usize,
}

/// Parsed front matter and where the body starts.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontMatter<'a> {
    /// The top-level fields, in source order.
    pub fields: Vec<Field>,
    /// The Markdown after the closing fence.
    pub body: &'a str,
    /// File line on which `body` starts.
    pub body_line: usize,
}

/// A front-matter problem, positioned in file lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Stable diagnostic code.
    pub code: &'static str,
    /// 1-based file line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl<'a> FrontMatter<'a> {
    /// The field with this key.
    pub fn get(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

/// Position of `needle` inside a field's lines of `text`, falling back to the key.
pub fn locate(text: &str, field: &Field, needle: &str) -> (usize, usize) {
    if !needle.is_empty() {
        for (i, line) in text
            .lines()
            .enumerate()
            .skip(field.line - 1)
            .take(field.end_line + 1 - field.line)
        {
            let start = if i + 1 == field.line {
                line.find(':').map_or(0, |c| c + 1)
            } else {
                0
            };
            if let Some(pos) = line[start..].find(needle) {
                return (i + 1, line[..start + pos].chars().count() + 1);
            }
        }
    }
    (field.line, field.column)
}

/// Splits `text` (already LF-normalised) into YAML and body, and parses the YAML.
pub fn parse_front_matter(text: &str) -> Result<FrontMatter<'_>, Problem> {
    let problem = |code, line, column, message: String, help: Option<&str>| Problem {
        code,
        line,
        column,
        message,
        help: help.map(str::to_owned),
    };
    if text.trim().is_empty() {
        return Err(problem(
            "empty-file",
            1,
            1,
            "the file is empty; expected front matter between `---` lines, then Markdown".into(),
            Some("start with `---`, a `title:` and a `kind:` line, and a closing `---`, or run `casebook new`"),
        ));
    }
    let first = text.lines().next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(problem(
            "missing-front-matter",
            1,
            1,
            format!(
                "expected the file to start with a `---` line opening the front matter, found `{}`",
                truncate(first, 40)
            ),
            Some("add front matter at the top: `---`, `title: …`, `kind: …`, `---`"),
        ));
    }
    let yaml_start = first.len() + 1;
    let mut offset = yaml_start.min(text.len());
    let mut close = None;
    for (line_no, line) in (2..).zip(text[offset..].split_inclusive('\n')) {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            close = Some((offset, offset + line.len(), line_no));
            break;
        }
        offset += line.len();
    }
    let Some((yaml_end, body_start, close_line)) = close else {
        return Err(problem(
            "unclosed-front-matter",
            1,
            1,
            "the front matter opened on line 1 is never closed; expected a `---` line after the YAML".into(),
            Some("add a line `---` after the last front-matter field"),
        ));
    };
    let yaml = &text[yaml_start.min(yaml_end)..yaml_end];
    if yaml.len() > MAX_FRONT_MATTER_BYTES {
        return Err(problem(
            "front-matter-too-large",
            2,
            1,
            format!(
                "the front matter is {} bytes; expected at most {MAX_FRONT_MATTER_BYTES}",
                yaml.len()
            ),
            Some("move long text into the Markdown body"),
        ));
    }
    let value = parse_yaml(yaml).map_err(|(line, column, message)| Problem {
        code: "yaml-syntax",
        line: line + 1,
        column,
        message,
        help: Some("check indentation, and quote text that contains `: ` or starts with a special character".into()),
    })?;
    let entries = match value {
        Value::Map(entries) => entries,
        Value::Null => {
            return Err(problem(
                "empty-front-matter",
                1,
                1,
                "the front matter is empty; expected at least `title` and `kind`".into(),
                None,
            ))
        }
        other => {
            return Err(problem(
                "front-matter-not-mapping",
                2,
                1,
                format!(
                    "expected the front matter to be `key: value` lines, found {}",
                    other.describe()
                ),
                None,
            ))
        }
    };
    let positions = key_positions(yaml);
    let mut fields = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let (line, column, end_line) = positions
            .iter()
            .find(|(k, ..)| *k == key)
            .map_or((2, 1, close_line - 1), |(_, l, c, e)| (l + 1, *c, e + 1));
        fields.push(Field {
            key,
            value,
            line,
            column,
            end_line: end_line.max(line),
        });
    }
    Ok(FrontMatter {
        fields,
        body: &text[body_start.min(text.len())..],
        body_line: close_line + 1,
    })
}

/// Top-level keys of a block mapping: (key, line, column, last line of its value), lines 1-based in `yaml`.
fn key_positions(yaml: &str) -> Vec<(String, usize, usize, usize)> {
    let mut out: Vec<(String, usize, usize, usize)> = Vec::new();
    let mut last_content = 0;
    for (i, line) in yaml.lines().enumerate() {
        let n = i + 1;
        let starts_key = line
            .chars()
            .next()
            .is_some_and(|c| !c.is_whitespace() && c != '#' && c != '-');
        if starts_key {
            if let Some(colon) = find_key_colon(line) {
                if let Some(prev) = out.last_mut() {
                    prev.3 = last_content.max(prev.1);
                }
                let key = line[..colon]
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_owned();
                out.push((key, n, 1, n));
            }
        }
        if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            last_content = n;
        }
    }
    if let Some(prev) = out.last_mut() {
        prev.3 = last_content.max(prev.1);
    }
    out
}

fn find_key_colon(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') if i == 0 => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b':') if bytes.get(i + 1).is_none_or(|c| *c == b' ' || *c == b'\t') => {
                return Some(i)
            }
            _ => {}
        }
    }
    None
}

/// Parses YAML into a [`Value`]; errors carry (line, column) within `yaml`.
/// The plain front matter most files have is read by [`parse_simple`];
/// anything else goes to serde_yaml, which bounds recursion depth and alias
/// expansion, so hostile input fails fast.
fn parse_yaml(yaml: &str) -> Result<Value, (usize, usize, String)> {
    if let Some(value) = parse_simple(yaml) {
        return Ok(value);
    }
    parse_yaml_library(yaml)
}

/// [`parse_yaml`] through serde_yaml alone (public for the fuzz target, which
/// checks [`parse_simple`] against it).
pub fn parse_yaml_library(yaml: &str) -> Result<Value, (usize, usize, String)> {
    let value: serde_yaml::Value = serde_yaml::from_str(yaml).map_err(|e| {
        let (line, col) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        let message = e.to_string();
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_owned(),
            None => message,
        };
        (line, col, format!("invalid YAML: {message}"))
    })?;
    convert(value, 0).map_err(|m| (1, 1, m))
}

/// Reads the front matter most files have, about ten times faster than
/// serde_yaml: `key: value` lines at the margin whose values are one-line
/// scalars, one-line flow lists of them (`[a, "b"]`), or block lists (`- x`)
/// of scalars or of flat `key: value` mappings. Blank and comment lines are
/// skipped. A scalar is a quoted string without escapes or inner quotes, a
/// plain string that starts with a letter, a plain date (`2021-03-05`, text as
/// in YAML), or a plain integer of up to 18 digits.
///
/// Anything else (a value with a comment after it, multi-line text, anchors,
/// tags, escapes, floats, the `null`/`true`/`false` spellings, duplicate
/// keys, tabs, control characters) gives `None`, and serde_yaml decides.
/// Whatever this reads, serde_yaml reads to the same value: tested below on
/// tricky input and every bundled file, and by the fuzz target.
pub fn parse_simple(yaml: &str) -> Option<Value> {
    if yaml.contains('\t') {
        return None;
    }
    let mut lines = yaml
        .lines()
        .filter(|l| {
            let t = l.trim_start_matches(' ');
            !t.is_empty() && !t.starts_with('#')
        })
        .peekable();
    let mut top: Vec<(String, Value)> = Vec::new();
    while let Some(line) = lines.next() {
        let (key, rest) = key_value(line)?;
        let value = if rest.is_empty() {
            block_list(&mut lines)?
        } else {
            inline_value(rest)?
        };
        if top.iter().any(|(k, _)| k == key) {
            return None;
        }
        top.push((key.to_owned(), value));
    }
    (!top.is_empty()).then_some(Value::Map(top))
}

/// `key: rest` with the key at the start of `line`; `rest` is trimmed.
fn key_value(line: &str) -> Option<(&str, &str)> {
    let end = line
        .bytes()
        .position(|b| !is_key_byte(b))
        .unwrap_or(line.len());
    let key = &line[..end];
    if !plain_key(key) {
        return None;
    }
    let rest = line[end..].strip_prefix(':')?;
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key, rest.trim_matches(' ')))
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// A key the fast reader takes: a letter or `_`, then letters, digits, `_`
/// and `-`, and not a word YAML reads as null or a boolean.
fn plain_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.bytes().all(is_key_byte)
        && !is_keyword(key)
}

/// Words YAML reads as null or a boolean when plain.
fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE"
    )
}

/// Characters YAML allows in a document, minus tab (rejected up front), the
/// byte-order mark, and U+0085/U+2028/U+2029, which libyaml reads as line breaks.
fn printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{A0}'..='\u{2027}' | '\u{202A}'..='\u{D7FF}' | '\u{E000}'..='\u{FEFE}' | '\u{FF00}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

/// A scalar or flow list on one line.
fn inline_value(s: &str) -> Option<Value> {
    if let Some(inner) = s.strip_prefix('[') {
        return flow_list(inner.strip_suffix(']')?);
    }
    if let Some(inner) = s.strip_prefix('{') {
        return flow_map(inner.strip_suffix('}')?);
    }
    let (value, rest) = scalar(s, false)?;
    rest.is_empty().then_some(value)
}

/// The scalar at the start of `s` and what follows it. In a flow list a plain
/// scalar ends at a comma and may hold only letters, digits, spaces and `_.-/`.
fn scalar(s: &str, in_flow: bool) -> Option<(Value, &str)> {
    for quote in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(quote) {
            let end = inner.find(quote)?;
            let text = &inner[..end];
            if text.contains('\\') || !text.chars().all(printable) {
                return None;
            }
            return Some((Value::Str(text.to_owned()), &inner[end + 1..]));
        }
    }
    let end = if in_flow {
        s.find(',').unwrap_or(s.len())
    } else {
        s.len()
    };
    let word = s[..end].trim_end_matches(' ');
    let rest = &s[end..];
    if let Some(n) = integer(word) {
        return Some((Value::Int(n), rest));
    }
    if let Some(x) = decimal(word) {
        return Some((Value::Float(x), rest));
    }
    if is_date(word) {
        return Some((Value::Str(word.to_owned()), rest));
    }
    let plain = word.starts_with(|c: char| c.is_ascii_alphabetic())
        && !is_keyword(word)
        && if in_flow {
            word.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'_' | b'.' | b'-' | b'/'))
        } else {
            !word.contains(": ")
                && !word.contains(" #")
                && !word.ends_with(':')
                && word.chars().all(printable)
        };
    plain.then(|| (Value::Str(word.to_owned()), rest))
}

/// `0`, or up to 18 digits not starting with 0, optionally negative.
fn integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let plain = digits == "0" && digits.len() == s.len()
        || (1..=18).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| s.parse().ok()).flatten()
}

/// A plain decimal such as `1.4` or `-0.25`: an integer as [`integer`] reads
/// it, a point, and up to 15 digits.
fn decimal(s: &str) -> Option<f64> {
    let (whole, fraction) = s.split_once('.')?;
    let plain = (integer(whole).is_some() || whole == "-0")
        && (1..=15).contains(&fraction.len())
        && fraction.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| s.parse().ok()).flatten()
}

/// `YYYY-MM-DD`, which YAML (as serde_yaml reads it) keeps as text.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The comma-separated items of a one-line flow collection, without its
/// brackets; `item` reads one and returns it with what follows it.
fn flow_items<'a, T>(
    inner: &'a str,
    mut item: impl FnMut(&'a str) -> Option<(T, &'a str)>,
) -> Option<Vec<T>> {
    let mut items = Vec::new();
    let mut rest = inner.trim_start_matches(' ');
    if rest.trim_end_matches(' ').is_empty() {
        return Some(items);
    }
    loop {
        let (value, after) = item(rest)?;
        items.push(value);
        let after = after.trim_start_matches(' ');
        match after.strip_prefix(',') {
            Some(next) => rest = next.trim_start_matches(' '),
            None if after.is_empty() => return Some(items),
            None => return None,
        }
        if rest.is_empty() {
            return None;
        }
    }
}

/// The items of a one-line flow list (`[a, "b"]`), without its brackets.
fn flow_list(inner: &str) -> Option<Value> {
    flow_items(inner, |s| scalar(s, true)).map(Value::List)
}

/// The entries of a one-line flow mapping (`{key: value, …}`), without its braces.
fn flow_map(inner: &str) -> Option<Value> {
    let entries = flow_items(inner, |s| {
        let (key, after) = s.split_once(": ")?;
        let (value, after) = scalar(after.trim_start_matches(' '), true)?;
        plain_key(key).then(|| ((key.to_owned(), value), after))
    })?;
    let unique = entries
        .iter()
        .enumerate()
        .all(|(i, (key, _))| entries[..i].iter().all(|(k, _)| k != key));
    unique.then_some(Value::Map(entries))
}

/// A block list under a key (`- x` lines at one indentation), or null when
/// the next line is another key.
fn block_list<'a>(lines: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Option<Value> {
    let Some(first) = lines.peek() else {
        return Some(Value::Null);
    };
    let indent = first.len() - first.trim_start_matches(' ').len();
    if !first[indent..].starts_with("- ") {
        return (indent == 0).then_some(Value::Null);
    }
    let mut items = Vec::new();
    while let Some(line) = lines.next_if(|l| {
        l.len() > indent + 2
            && l[..indent].bytes().all(|b| b == b' ')
            && l[indent..].starts_with("- ")
    }) {
        let rest = line[indent + 2..].trim_end_matches(' ');
        if rest.starts_with(' ') {
            return None;
        }
        match key_value(rest) {
            Some((key, value)) if !value.is_empty() => {
                let mut entries = vec![(key.to_owned(), inline_value(value)?)];
                let inner = indent + 2;
                while let Some(line) = lines.next_if(|l| {
                    l.len() > inner
                        && l[..inner].bytes().all(|b| b == b' ')
                        && l.as_bytes()[inner] != b' '
                }) {
                    let (key, value) = key_value(&line[inner..])?;
                    if value.is_empty() || entries.iter().any(|(k, _)| k == key) {
                        return None;
                    }
                    entries.push((key.to_owned(), inline_value(value)?));
                }
                items.push(Value::Map(entries));
            }
            Some(_) => return None,
            None => items.push(inline_value(rest)?),
        }
    }
    Some(Value::List(items))
}

fn convert(v: serde_yaml::Value, depth: usize) -> Result<Value, String> {
    use serde_yaml::Value as Y;
    if depth > 64 {
        return Err("invalid YAML: nested more than 64 levels deep".into());
    }
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Value::Str(s),
        Y::Sequence(items) => Value::List(
            items
                .into_iter()
                .map(|i| convert(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(m) => {
            let mut entries = Vec::with_capacity(m.len());
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => {
                        return Err(format!(
                            "invalid YAML: expected a text key, found {other:?}"
                        ))
                    }
                };
                entries.push((key, convert(v, depth + 1)?));
            }
            Value::Map(entries)
        }
        Y::Tagged(t) => convert(t.value, depth + 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn positions_are_file_lines() {
        let text = "---\ntitle: A\n\nthemes:\n  - x\n  - y\ncity: london\n---\nBody\n";
        let fm = parse_front_matter(text).unwrap();
        let themes = fm.get("themes").unwrap();
        assert_eq!((themes.line, themes.end_line), (4, 6));
        assert_eq!(locate(text, themes, "y"), (6, 5));
        assert_eq!(fm.get("city").unwrap().line, 7);
        assert_eq!(fm.body, "Body\n");
        assert_eq!(fm.body_line, 9);
    }

    #[test]
    fn yaml_errors_point_at_file_lines() {
        let err = parse_front_matter("---\ntitle: A\nkind: [page\n---\n").unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert!(err.line >= 3, "{err:?}");
    }

    #[test]
    fn missing_and_unclosed_fences() {
        assert_eq!(parse_front_matter("").unwrap_err().code, "empty-file");
        assert_eq!(
            parse_front_matter("# Title\n").unwrap_err().code,
            "missing-front-matter"
        );
        assert_eq!(
            parse_front_matter("---\ntitle: A\n").unwrap_err().code,
            "unclosed-front-matter"
        );
        assert_eq!(
            parse_front_matter("---\n---\n").unwrap_err().code,
            "empty-front-matter"
        );
        assert_eq!(
            parse_front_matter("---\n- a\n---\n").unwrap_err().code,
            "front-matter-not-mapping"
        );
    }

    /// The fast reader's value, after checking serde_yaml reads the same.
    fn agrees(yaml: &str) -> Option<Value> {
        let fast = parse_simple(yaml);
        if let Some(v) = &fast {
            assert_eq!(Ok(v.clone()), parse_yaml_library(yaml), "{yaml:?}");
        }
        fast
    }

    #[test]
    fn the_fast_reader_reads_plain_front_matter_as_serde_yaml_does() {
        let typical = "title: \"Heat: the #1 [plan], {really}\"\nkind: case-study\n\
            summary: Zürich's plan, C# and a:b — with \"quotes\" and 'more'\n\
            date: 2017-03-27\nupdated: 2021-13-45\nyear: 2021\nbelow: -40\nzero: 0\n\
            themes: [\"energy\", circular-economy, food/drink, \"a, b\", 'c']\n\
            none: []\n# a comment\n\nempty:\nwords: [yes, no, on, inf, nan]\n\
            partners:\n  - \"Public Ltd\"\n  - Plain Co\n  - 2020\n\
            outcomes:\n  - metric: \"CO2 avoided\"\n    value: 4623\n    unit: t/yr   \n\
            \x20 - metric: trees\n    value: 12\ncompact:\n- a\n- b\nlast_key-2: 'x'\n";
        let Some(Value::Map(fields)) = agrees(typical) else {
            panic!("the fast reader declined typical front matter");
        };
        assert_eq!(fields.len(), 16);
        for yaml in [
            "a: b\n",
            "a: 'q'\n",
            "a: [ ]\n",
            "a:\n",
            "a: yes\n",
            "a: inf\n",
            "a:\n# c\n  - x\n",
            "a: x  \n",
            "a:\n  - {b: \"c, d\", e: 2020, f: g h}\n  - { }\n",
            "a: {b: c}\n",
            "a: [1.4, -0.25, 0.5, 12345.678901234567]\n",
        ] {
            assert!(agrees(yaml).is_some(), "{yaml:?}");
        }
        // Declined (serde_yaml reads them), or read the same; never different.
        for yaml in [
            "a: 007\n",
            "a: 1_000\n",
            "a: 1.\n",
            "a: 01.5\n",
            "a: 1.5.2\n",
            "a: 1.5e3\n",
            "a: 1e3\n",
            "a: .5\n",
            "a: +5\n",
            "a: -0\n",
            "a: 0x1f\n",
            "a: 9223372036854775808\n",
            "a: 123456789012345678\n",
            "a: ~\n",
            "a: null\n",
            "a: True\n",
            "true: x\n",
            "Null: x\n",
            "a: 'it''s'\n",
            "a: \"x\\ny\"\n",
            "a: \"b\" c\n",
            "a: b # c\n",
            "a: b:\n",
            "a: b: c\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a: &x b\nc: *x\n",
            "a: !t b\n",
            "a: {b: c}\n",
            "a: [b, [c]]\n",
            "a: [b, ]\n",
            "a: [b c: d]\n",
            "a: [\"b\" c]\n",
            "a: [b # c]\n",
            "a: b\n  c\n",
            "a:\n  b: c\n",
            "a: b\na: c\n",
            "a: x\u{2028}y\n",
            "a: \"x\u{85}y\"\n",
            "a: \"\u{feff}x\"\n",
            "a: \"x\u{7}\"\n",
            "? a\n: b\n",
            "a:\n-\n",
            "a:\n  - b\n   - c\n",
            "a:\n  - b: c\n    d: e\n    d: f\n",
            "a:\n  - b: c\n      d: e\n",
            "a:\n  -  b\n",
            "a:\n  - b:\n",
            "a:\tb\n",
            "a:\n  - - b\n",
            "- a\n",
            "a : b\n",
            "a: {b: c, b: d}\n",
            "a: {b: c,}\n",
            "a: {b: [c]}\n",
            "a: {b}\n",
            "a: {b: c d: e}\n",
            "a: {b:c}\n",
            "a: {\"b\": c}\n",
            "a: {b: c} d\n",
            "a: {true: c}\n",
            "a: {b: 'c'' d'}\n",
            "\"a\": b\n",
            "%YAML 1.2\n",
            "",
            "# only a comment\n",
            "a: \"multi\n  line\"\n",
            "a: 'x'y\n",
            "a:b\n",
        ] {
            agrees(yaml);
        }
    }

    #[test]
    fn the_fast_reader_agrees_on_every_bundled_file() {
        let content = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
        let mut read = 0;
        for entry in walkdir::WalkDir::new(content) {
            let entry = entry.unwrap();
            if entry.path().extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let yaml = text
                .strip_prefix("---\n")
                .and_then(|t| t.split("\n---\n").next())
                .unwrap();
            read += usize::from(agrees(&format!("{yaml}\n")).is_some());
        }
        assert!(read >= 25, "the fast reader read only {read} bundled files");
    }

    #[test]
    fn alias_bomb_and_deep_nesting_fail_fast() {
        let mut bomb =
            String::from("---\na: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            bomb += &format!("l{i}: &l{i} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n");
        }
        bomb += "---\n";
        let start = std::time::Instant::now();
        assert_eq!(parse_front_matter(&bomb).unwrap_err().code, "yaml-syntax");
        assert!(start.elapsed().as_secs() < 5);
        let deep = format!(
            "---\na: {}{}\n---\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(parse_front_matter(&deep).unwrap_err().code, "yaml-syntax");
    }
}
