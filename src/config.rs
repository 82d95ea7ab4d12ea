//! `site.toml`: the raw file (serde, unknown keys denied) and the validated [`Config`].

use std::collections::BTreeSet;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{suggestion, Diagnostic, Error, Result};
use crate::text::{line_col, slugify};

/// The name of the configuration file at a site's root.
pub const CONFIG_FILE: &str = "site.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: Spanned<String>,
    base_url: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default = "default_language")]
    language: Spanned<String>,
    #[serde(default = "default_theme")]
    theme: Spanned<String>,
    #[serde(default)]
    stale_after_days: Option<u32>,
    #[serde(default)]
    markdown: RawMarkdown,
    #[serde(default)]
    cities: Vec<RawCity>,
    #[serde(default)]
    themes: Vec<RawTheme>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMarkdown {
    #[serde(default)]
    allow_html: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCity {
    key: Spanned<String>,
    name: String,
    country: String,
    lat: Option<Spanned<f64>>,
    lon: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTheme {
    key: Spanned<String>,
    name: String,
    description: Option<String>,
}

fn default_language() -> Spanned<String> {
    Spanned::new(0..0, "en".to_owned())
}

fn default_theme() -> Spanned<String> {
    Spanned::new(0..0, "default".to_owned())
}

/// A city of the network: the closed vocabulary of `city`, `origin`, `cities`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct City {
    /// What front matter uses, e.g. `edinburgh`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Country, for display.
    pub country: String,
    /// Latitude in degrees, when known.
    pub lat: Option<f64>,
    /// Longitude in degrees, when known.
    pub lon: Option<f64>,
}

/// A theme: the closed vocabulary of `themes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Theme {
    /// What front matter uses, e.g. `procurement`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// One line on what the theme covers.
    pub description: Option<String>,
}

/// The validated site configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Site title.
    pub title: String,
    /// Absolute base URL, always ending in `/`.
    pub base_url: String,
    /// The path part of `base_url`, starting and ending in `/`, e.g. `/connected-clusters/`.
    pub base_path: String,
    /// One-line description for meta tags and feeds.
    pub description: String,
    /// BCP 47 language tag for `<html lang>`.
    pub language: String,
    /// Theme name: a folder under `themes/`, or `default` (embedded).
    pub theme: String,
    /// Days after which a `reviewed` date is stale.
    pub stale_after_days: u32,
    /// Whether raw HTML in Markdown is kept.
    pub allow_html: bool,
    /// The cities, in site.toml order.
    pub cities: Vec<City>,
    /// The themes, in site.toml order.
    pub themes: Vec<Theme>,
}

impl Config {
    /// The city with this key.
    pub fn city(&self, key: &str) -> Option<&City> {
        self.cities.iter().find(|c| c.key == key)
    }

    /// The theme with this key.
    pub fn theme(&self, key: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.key == key)
    }

    /// Site-relative URL of a route (`case-studies/x/` -> `/base/case-studies/x/`).
    pub fn url(&self, route: &str) -> String {
        format!("{}{}", self.base_path, route)
    }

    /// Absolute URL of a route.
    pub fn permalink(&self, route: &str) -> String {
        format!("{}{}", self.base_url, route)
    }

    /// Replaces the base URL, as `--base-url` does.
    pub fn set_base_url(&mut self, url: &str) -> Result<()> {
        let (base_url, base_path) = split_base_url(url)
            .map_err(|msg| Error::Usage(format!("invalid --base-url `{url}`: {msg}")))?;
        self.base_url = base_url;
        self.base_path = base_path;
        Ok(())
    }
}

/// Reads and validates `site.toml` in `root`.
pub fn load_config(root: &Path) -> Result<Config> {
    let path = root.join(CONFIG_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Usage(format!(
                "no `{CONFIG_FILE}` in `{}`: run casebook in a site folder, pass `--root DIR`, or create a site with `casebook init`",
                root.display()
            )))
        }
        Err(e) => {
            return Err(Error::Content(vec![Diagnostic::error(
                "unreadable-file",
                CONFIG_FILE,
                0,
                0,
                format!("failed to read `{CONFIG_FILE}`: {e}"),
            )]))
        }
    };
    parse_config(&text).map_err(Error::Content)
}

/// Parses and validates the text of a `site.toml`.
pub fn parse_config(text: &str) -> Result<Config, Vec<Diagnostic>> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| vec![toml_diagnostic(text, &e)])?;
    let mut diags = Vec::new();
    let at = |span: &Range<usize>, code: &'static str, msg: String| {
        let (line, col) = line_col(text, span.start);
        Diagnostic::error(code, CONFIG_FILE, line, col, msg).with_source(text, span.len())
    };

    let (base_url, base_path) = match split_base_url(raw.base_url.get_ref()) {
        Ok(parts) => parts,
        Err(msg) => {
            diags.push(
                at(&raw.base_url.span(), "invalid-base-url", format!("invalid `base_url`: {msg}"))
                    .with_help("write an absolute URL such as `https://example.org/` or `https://example.org/sub/path/`"),
            );
            (String::new(), "/".to_owned())
        }
    };
    if raw.title.get_ref().trim().is_empty() {
        diags.push(at(
            &raw.title.span(),
            "empty-title",
            "`title` is empty; expected the site's name".into(),
        ));
    }
    let language = raw.language.get_ref().clone();
    if language.is_empty()
        || !language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        diags.push(at(
            &raw.language.span(),
            "invalid-language",
            format!(
                "invalid `language` `{language}`; expected a language tag such as `en` or `en-GB`"
            ),
        ));
    }
    let theme = raw.theme.get_ref().clone();
    if theme.is_empty() || slugify(&theme) != theme {
        diags.push(at(
            &raw.theme.span(),
            "invalid-theme-name",
            format!("invalid `theme` `{theme}`; expected the name of a folder under `themes/`"),
        ));
    }

    let mut cities = Vec::new();
    let mut seen = BTreeSet::new();
    for c in raw.cities {
        let key = c.key.get_ref().clone();
        check_key(&key, "city", &mut seen, |code, msg, help| {
            diags.push(at(&c.key.span(), code, msg).with_help_opt(help))
        });
        for (value, axis, limit) in [(&c.lat, "lat", 90.0), (&c.lon, "lon", 180.0)] {
            if let Some(v) = value {
                if !(-limit..=limit).contains(v.get_ref()) {
                    diags.push(at(
                        &v.span(),
                        "invalid-coordinate",
                        format!("`{axis}` of city `{key}` is {}; expected a value from -{limit} to {limit}", v.get_ref()),
                    ));
                }
            }
        }
        cities.push(City {
            key,
            name: c.name,
            country: c.country,
            lat: c.lat.map(|v| *v.get_ref()),
            lon: c.lon.map(|v| *v.get_ref()),
        });
    }
    let mut themes = Vec::new();
    let mut seen = BTreeSet::new();
    for t in raw.themes {
        let key = t.key.get_ref().clone();
        check_key(&key, "theme", &mut seen, |code, msg, help| {
            diags.push(at(&t.key.span(), code, msg).with_help_opt(help))
        });
        themes.push(Theme {
            key,
            name: t.name,
            description: t.description,
        });
    }

    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Config {
        title: raw.title.into_inner(),
        base_url,
        base_path,
        description: raw.description,
        language,
        theme,
        stale_after_days: raw.stale_after_days.unwrap_or(730),
        allow_html: raw.markdown.allow_html,
        cities,
        themes,
    })
}

/// Checks a vocabulary key: a non-empty slug, not seen before.
fn check_key(
    key: &str,
    what: &str,
    seen: &mut BTreeSet<String>,
    mut report: impl FnMut(&'static str, String, Option<String>),
) {
    let slug = slugify(key);
    if key.is_empty() || slug != key {
        report(
            "invalid-key",
            format!("invalid {what} key `{key}`; expected lowercase letters, digits and hyphens"),
            (!slug.is_empty()).then(|| format!("did you mean `{slug}`?")),
        );
    } else if !seen.insert(key.to_owned()) {
        report(
            "duplicate-key",
            format!("{what} key `{key}` is defined twice; expected each key once"),
            None,
        );
    }
}

/// Splits an absolute base URL into (base URL ending in `/`, its path ending in `/`).
fn split_base_url(url: &str) -> Result<(String, String), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            "expected an absolute URL starting with `https://` or `http://`".to_owned()
        })?;
    if url
        .chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>' || c == '?' || c == '#')
    {
        return Err("expected no spaces, quotes, query or fragment".into());
    }
    let host_end = rest.find('/').unwrap_or(rest.len());
    if host_end == 0 {
        return Err("expected a host name after the scheme".into());
    }
    let mut path = rest[host_end..].to_owned();
    if !path.ends_with('/') {
        path.push('/');
    }
    if path.contains("//") || path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err("expected a path without empty, `.` or `..` segments".into());
    }
    let base = format!("{}{}", &url[..url.len() - rest.len() + host_end], path);
    Ok((base, path))
}

/// A toml error as a diagnostic, with "did you mean" for an unknown key.
fn toml_diagnostic(text: &str, err: &toml::de::Error) -> Diagnostic {
    let (line, col, len) = match err.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (l, c, span.len())
        }
        None => (0, 0, 1),
    };
    let message = err.message().trim().to_owned();
    let (code, help) = match unknown_field(&message) {
        Some((field, expected)) => (
            "unknown-key",
            suggestion(&field, expected.iter().map(String::as_str)),
        ),
        None if message.starts_with("missing field") => ("missing-key", None),
        None => ("invalid-config", None),
    };
    let message = if code == "unknown-key" {
        format!("unknown key in `{CONFIG_FILE}`: {message}")
    } else {
        message
    };
    Diagnostic::error(code, CONFIG_FILE, line, col, message)
        .with_source(text, len)
        .with_help_opt(help)
}

/// Parses serde's "unknown field `x`, expected one of `a`, `b`" into (x, [a, b]).
pub(crate) fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((field.to_owned(), expected))
}

/// Where a site's parts live.
#[derive(Debug, Clone)]
pub struct SitePaths {
    /// The site root (holds site.toml).
    pub root: PathBuf,
    /// `content/`.
    pub content: PathBuf,
    /// `static/`.
    pub static_dir: PathBuf,
    /// `templates/`: per-site overrides.
    pub templates: PathBuf,
    /// `themes/`.
    pub themes: PathBuf,
}

impl SitePaths {
    /// The standard layout under `root`.
    pub fn new(root: &Path) -> Self {
        SitePaths {
            root: root.to_path_buf(),
            content: root.join("content"),
            static_dir: root.join("static"),
            templates: root.join("templates"),
            themes: root.join("themes"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "title = \"T\"\nbase_url = \"https://example.org/sub\"\n";

    #[test]
    fn base_url_keeps_its_sub_path() {
        let c = parse_config(MINIMAL).unwrap();
        assert_eq!(c.base_url, "https://example.org/sub/");
        assert_eq!(c.base_path, "/sub/");
        assert_eq!(c.url("about/"), "/sub/about/");
        assert_eq!(c.stale_after_days, 730);
    }

    #[test]
    fn unknown_key_names_line_and_suggestion() {
        let d = parse_config("title = \"T\"\nbase_url = \"https://e.org/\"\ndescripton = \"x\"\n")
            .unwrap_err();
        assert_eq!(d[0].code, "unknown-key");
        assert_eq!((d[0].line, d[0].column), (3, 1));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `description`?"));
    }

    #[test]
    fn unknown_city_key_in_table() {
        let d = parse_config(&format!(
            "{MINIMAL}[[cities]]\nkey = \"x\"\nname = \"X\"\ncountry = \"Y\"\nlatt = 3.0\n"
        ))
        .unwrap_err();
        assert_eq!(d[0].line, 7);
        assert_eq!(d[0].help.as_deref(), Some("did you mean `lat`?"));
    }

    #[test]
    fn invalid_values_are_each_reported() {
        let d = parse_config(
            "title = \"\"\nbase_url = \"example.org\"\n[[cities]]\nkey = \"Edinburgh\"\nname = \"E\"\ncountry = \"UK\"\nlat = 95.0\n",
        )
        .unwrap_err();
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "invalid-base-url",
                "empty-title",
                "invalid-key",
                "invalid-coordinate"
            ]
        );
        assert_eq!(d[2].help.as_deref(), Some("did you mean `edinburgh`?"));
        assert_eq!(d[3].line, 7);
    }
}
