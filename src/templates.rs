//! Tera loading: the embedded default theme, a theme folder on disk, and the
//! site's own `templates/`, each overriding the one before file by file.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tera::Tera;
use walkdir::WalkDir;

use crate::config::{Config, SitePaths};
use crate::error::Diagnostic;

macro_rules! embedded {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/themes/default/", $dir, "/", $name)) as &[u8])),*]
    };
}

/// The default theme's templates, compiled into the binary.
pub const DEFAULT_TEMPLATES: &[(&str, &[u8])] = embedded!("templates":
    "base.html", "macros.html", "home.html", "case-study.html", "playbook.html", "challenge.html", "page.html",
    "list.html", "cities.html", "city.html", "themes.html", "theme.html", "practices.html", "practice.html",
    "replication.html", "search.html", "404.html", "card.html", "row.html", "header.html", "footer.html",
);

/// The default theme's static files, compiled into the binary.
pub const DEFAULT_STATIC: &[(&str, &[u8])] = embedded!("static":
    "style.css", "favicon.svg", "search.js", "site.webmanifest",
);

/// Where one template came from, for error messages.
#[derive(Debug, Clone)]
struct TemplateSource {
    name: String,
    origin: PathBuf,
    text: String,
}

/// Loaded templates, ready to render in parallel.
pub struct Templates {
    /// The Tera instance.
    pub tera: Tera,
    /// Hash of every template's name and text, for the page cache.
    pub fingerprint: u64,
}

/// Loads the theme's templates with the site's overrides; every broken template is reported.
/// `previous`, when its sources are byte-identical, is reused rather than parsed again.
pub fn load_templates(
    paths: &SitePaths,
    config: &Config,
    previous: Option<&Arc<Templates>>,
) -> Result<Arc<Templates>, Vec<Diagnostic>> {
    let mut sources: Vec<TemplateSource> = DEFAULT_TEMPLATES
        .iter()
        .map(|(name, bytes)| TemplateSource {
            name: (*name).to_owned(),
            origin: PathBuf::from(format!("themes/default/templates/{name}")),
            text: String::from_utf8_lossy(bytes).into_owned(),
        })
        .collect();
    let mut diags = Vec::new();
    let theme_dir = paths.themes.join(&config.theme);
    if config.theme != "default" && !theme_dir.is_dir() {
        diags.push(
            Diagnostic::error(
                "unknown-theme-folder",
                "site.toml",
                0,
                0,
                format!(
                    "theme `{}` not found; expected a folder `themes/{}/`",
                    config.theme, config.theme
                ),
            )
            .with_help("use `theme = \"default\"` for the built-in theme"),
        );
    }
    overlay(
        &mut sources,
        &theme_dir.join("templates"),
        &paths.root,
        &mut diags,
    );
    overlay(&mut sources, &paths.templates, &paths.root, &mut diags);

    let fingerprint = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for s in &sources {
            (&s.name, &s.text).hash(&mut h);
        }
        h.finish()
    };
    if let Some(previous) = previous.filter(|p| p.fingerprint == fingerprint && diags.is_empty()) {
        return Ok(Arc::clone(previous));
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html", ".htm", ".xml", ".svg"]);
    // Tera's default also escapes `/`, which bloats every URL for no safety gain.
    tera.set_escape_fn(crate::text::escape_html);
    // The same escaping, into a buffer the renderer reuses (see vendor/tera).
    tera.set_escape_into_fn(crate::text::escape_html_into);
    let raw: Vec<(&str, &str)> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.text.as_str()))
        .collect();
    if let Err(e) = tera.add_raw_templates(raw) {
        let message = error_chain(&e);
        let origin = sources
            .iter()
            .find(|s| message.contains(&format!("'{}'", s.name)))
            .map_or_else(|| PathBuf::from("templates"), |s| s.origin.clone());
        diags.push(Diagnostic::error(
            "broken-template",
            origin,
            0,
            0,
            format!("template error: {message}"),
        ));
    }
    if diags.is_empty() {
        Ok(Arc::new(Templates { tera, fingerprint }))
    } else {
        Err(diags)
    }
}

fn overlay(
    sources: &mut Vec<TemplateSource>,
    dir: &Path,
    root: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    if !dir.is_dir() {
        return;
    }
    let mut files: Vec<PathBuf> = WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !crate::source::is_ignored_name(name)
        })
        .collect();
    files.sort();
    for path in files {
        let name = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let origin = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        match fs::read_to_string(&path) {
            Ok(text) => {
                sources.retain(|s| s.name != name);
                sources.push(TemplateSource { name, origin, text });
            }
            Err(e) => diags.push(Diagnostic::error(
                "unreadable-file",
                origin.clone(),
                0,
                0,
                format!("failed to read `{}`: {e}", origin.display()),
            )),
        }
    }
}

/// A Tera error with every cause, as one line.
pub fn error_chain(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}
