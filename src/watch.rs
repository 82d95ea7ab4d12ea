//! File watching for `serve`: notify wiring, debouncing, and a pure
//! [`classify`] that says what a changed path means for the site.

use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use crate::error::{Error, Result};
use crate::source::is_ignored_name;

/// What a change touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    /// A Markdown file or folder under `content/`.
    Content,
    /// A template (site or theme).
    Template,
    /// A stylesheet under a `static/` folder: the browser can swap it without reloading.
    Css,
    /// Any other static file.
    Static,
    /// `site.toml`.
    Config,
}

/// What a changed path means, or `None` when it cannot affect the site
/// (editor temp files, the output folder, version control, build folders).
pub fn classify(root: &Path, output: &Path, path: &Path) -> Option<Change> {
    if path.starts_with(output) {
        return None;
    }
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let name = *parts.last()?;
    if parts.iter().any(|p| is_ignored_name(p)) || name.contains(".casebook-staging-") {
        return None;
    }
    let is_css = name.ends_with(".css");
    match parts.as_slice() {
        ["site.toml"] => Some(Change::Config),
        ["content", ..] => Some(Change::Content),
        ["templates", ..] | ["themes", _, "templates", ..] => Some(Change::Template),
        ["static", ..] | ["themes", _, "static", ..] => {
            Some(if is_css { Change::Css } else { Change::Static })
        }
        ["themes", _] | ["themes"] => Some(Change::Template),
        _ => None,
    }
}

/// A running watcher over a site's sources.
pub struct SiteWatcher {
    _watcher: notify::RecommendedWatcher,
    events: Receiver<PathBuf>,
    root: PathBuf,
    output: PathBuf,
}

/// How long the tree must be quiet before a batch is handed over.
pub const QUIET: Duration = Duration::from_millis(60);
/// A batch is handed over after this long even if events keep coming.
pub const MAX_WAIT: Duration = Duration::from_millis(1500);

impl SiteWatcher {
    /// Watches `root` recursively; events under `output` are ignored.
    pub fn start(root: &Path, output: &Path) -> Result<SiteWatcher> {
        let (tx, rx) = channel();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res {
                // Reads (our own rebuilds open every file) and attribute changes are not edits.
                if matches!(
                    event.kind,
                    EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
                ) {
                    return;
                }
                for p in event.paths {
                    let _ = tx.send(p);
                }
            }
        })
        .map_err(|e| Error::Usage(format!("cannot watch `{}`: {e}", root.display())))?;
        watcher
            .watch(root, RecursiveMode::Recursive)
            .map_err(|e| Error::Usage(format!("cannot watch `{}`: {e}", root.display())))?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let output = std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf());
        Ok(SiteWatcher {
            _watcher: watcher,
            events: rx,
            root,
            output,
        })
    }

    /// Blocks until something relevant changes, then waits for the burst to
    /// settle and returns every kind of change in it (sorted, deduplicated).
    /// `None` when the watcher has stopped.
    pub fn next_batch(&self) -> Option<Vec<Change>> {
        let mut changes = Vec::new();
        loop {
            let path = self.events.recv().ok()?;
            if let Some(c) = self.classify(&path) {
                changes.push(c);
                break;
            }
        }
        let started = Instant::now();
        loop {
            let left = MAX_WAIT.saturating_sub(started.elapsed());
            match self.events.recv_timeout(QUIET.min(left)) {
                Ok(path) => {
                    if let Some(c) = self.classify(&path) {
                        changes.push(c);
                    }
                    if started.elapsed() >= MAX_WAIT {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        changes.sort();
        changes.dedup();
        Some(changes)
    }

    fn classify(&self, path: &Path) -> Option<Change> {
        let canonical = path
            .parent()
            .and_then(|p| std::fs::canonicalize(p).ok())
            .map(|p| p.join(path.file_name().unwrap_or_default()));
        classify(
            &self.root,
            &self.output,
            canonical.as_deref().unwrap_or(path),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(path: &str) -> Option<Change> {
        classify(
            Path::new("/site"),
            Path::new("/site/public"),
            Path::new(path),
        )
    }

    #[test]
    fn classifies_sources_and_ignores_noise() {
        assert_eq!(c("/site/site.toml"), Some(Change::Config));
        assert_eq!(c("/site/content/case-studies/a.md"), Some(Change::Content));
        assert_eq!(c("/site/content/new-folder"), Some(Change::Content));
        assert_eq!(c("/site/templates/page.html"), Some(Change::Template));
        assert_eq!(
            c("/site/themes/default/templates/base.html"),
            Some(Change::Template)
        );
        assert_eq!(
            c("/site/themes/default/static/style.css"),
            Some(Change::Css)
        );
        assert_eq!(c("/site/static/img/logo.png"), Some(Change::Static));
        for noise in [
            "/site/public/index.html",
            "/site/content/.a.md.swp",
            "/site/content/a.md~",
            "/site/content/4913",
            "/site/content/#a.md#",
            "/site/content/a.md___jb_tmp___",
            "/site/content/.#a.md",
            "/site/.git/index",
            "/site/target/debug/x",
            "/site/README.md",
            "/elsewhere/x.md",
            "/site/.public.casebook-staging-12/index.html",
        ] {
            assert_eq!(c(noise), None, "{noise}");
        }
    }
}
