//! Writing the site: into a staging folder beside the output, then swapped in
//! whole, so a failed build leaves the previous output byte-identical.
//! A file whose bytes did not change is hard-linked from the previous output,
//! keeping its timestamp so static hosts and rsync upload nothing.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{io_error, Error, Result};

/// A staging folder that becomes the output on [`Staging::commit`], or vanishes on drop.
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
    written: AtomicUsize,
    unchanged: AtomicUsize,
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Files whose bytes are new or changed.
    pub written: usize,
    /// Files identical to the previous output (timestamps kept).
    pub unchanged: usize,
}

impl Staging {
    /// Creates an empty staging folder beside `target`.
    pub fn create(target: &Path) -> Result<Staging> {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "public".into(), |n| n.to_string_lossy().into_owned());
        let dir = parent.join(format!(".{name}.casebook-staging-{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_error("remove", &dir))?;
        }
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            committed: false,
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
        })
    }

    /// Writes `bytes` at `rel` (a `/`-separated path inside the output). Safe to call from many threads.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let rel_path = safe_relative(rel).ok_or_else(|| {
            Error::Usage(format!(
                "refusing to write `{rel}`: the path would leave the output folder"
            ))
        })?;
        let dest = self.dir.join(&rel_path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        let previous = self.target.join(&rel_path);
        if let Ok(meta) = fs::symlink_metadata(&previous) {
            if meta.is_file()
                && meta.len() == bytes.len() as u64
                && fs::read(&previous).is_ok_and(|old| old == bytes)
                && fs::hard_link(&previous, &dest).is_ok()
            {
                self.unchanged.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        }
        fs::write(&dest, bytes).map_err(io_error("write", &dest))?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Swaps the staging folder in as the output; the previous output is removed.
    pub fn commit(mut self) -> Result<WriteStats> {
        let old = self.dir.with_file_name(format!(
            "{}-old",
            self.dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ));
        let had_previous = self.target.exists();
        if had_previous {
            if old.exists() {
                fs::remove_dir_all(&old).map_err(io_error("remove", &old))?;
            }
            fs::rename(&self.target, &old).map_err(io_error("move aside", &self.target))?;
        }
        if let Err(e) = fs::rename(&self.dir, &self.target) {
            if had_previous {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(io_error("replace", &self.target)(e));
        }
        self.committed = true;
        if had_previous {
            remove_tree(&old)?;
        }
        Ok(WriteStats {
            written: self.written.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Removes a folder tree, unlinking files on every core (most are hard links to the new output).
fn remove_tree(dir: &Path) -> Result<()> {
    use rayon::prelude::*;
    let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.into_path())
        .collect();
    files.par_iter().for_each(|f| {
        let _ = fs::remove_file(f);
    });
    // Then the (now empty) folders, deepest first, a level at a time.
    let mut dirs: Vec<(usize, PathBuf)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_dir())
        .map(|e| (e.depth(), e.into_path()))
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
    for level in dirs.chunk_by(|a, b| a.0 == b.0) {
        level.par_iter().for_each(|(_, d)| {
            let _ = fs::remove_dir(d);
        });
    }
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(io_error("remove", dir))?;
    }
    Ok(())
}

/// A relative path made only of normal components, or `None`.
pub fn safe_relative(rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') {
        return None;
    }
    let path = Path::new(rel);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then(|| path.to_path_buf())
}

/// Refuses an output folder that is the site root, one of its ancestors, or inside a source folder.
pub fn check_output_path(root: &Path, output: &Path) -> Result<()> {
    let canon = |p: &Path| -> PathBuf {
        // The output may not exist yet: resolve `..` lexically, then canonicalise its deepest existing ancestor.
        let absolute = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let mut lexical = PathBuf::new();
        for c in absolute.components() {
            match c {
                Component::ParentDir => {
                    lexical.pop();
                }
                Component::CurDir => {}
                other => lexical.push(other),
            }
        }
        let mut existing = lexical;
        let mut rest = Vec::new();
        while !existing.exists() {
            match (
                existing.file_name().map(|n| n.to_os_string()),
                existing.parent(),
            ) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut out = fs::canonicalize(&existing).unwrap_or(existing);
        for name in rest.into_iter().rev() {
            out.push(name);
        }
        out
    };
    let root = canon(root);
    let out = canon(output);
    let shown = output.display();
    if root.starts_with(&out) {
        return Err(Error::Usage(format!(
            "refusing to build into `{shown}`: it is the site folder or one of its parents, and the build replaces the whole output folder"
        )));
    }
    for source in ["content", "static", "templates", "themes"] {
        if out.starts_with(root.join(source)) {
            return Err(Error::Usage(format!(
                "refusing to build into `{shown}`: it is inside the site's `{source}/` folder"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(safe_relative("a/b/index.html").is_some());
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\b",
            "a\0b",
            "./x",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn output_inside_sources_or_above_root_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("site");
        fs::create_dir_all(root.join("content")).unwrap();
        assert!(check_output_path(&root, &root.join("public")).is_ok());
        assert!(check_output_path(&root, &root).is_err());
        assert!(check_output_path(&root, dir.path()).is_err());
        assert!(check_output_path(&root, &root.join("content/out")).is_err());
        assert!(check_output_path(&root, &root.join("public/../content")).is_err());
    }

    #[test]
    fn failed_staging_leaves_target_alone_and_commit_swaps() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("old.html"), "old").unwrap();
        {
            let s = Staging::create(&target).unwrap();
            s.write("new.html", b"new").unwrap();
        }
        assert_eq!(fs::read_to_string(target.join("old.html")).unwrap(), "old");
        assert!(!target.join("new.html").exists());
        let s = Staging::create(&target).unwrap();
        s.write("new.html", b"new").unwrap();
        s.commit().unwrap();
        assert!(!target.join("old.html").exists());
        assert_eq!(fs::read_to_string(target.join("new.html")).unwrap(), "new");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no staging folders left behind"
        );
    }
}
