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
/// serde_yaml bounds recursion depth and alias expansion, so hostile input fails fast.
fn parse_yaml(yaml: &str) -> Result<Value, (usize, usize, String)> {
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
