//! Writing the site. Every page is rendered and validated before anything
//! touches the output folder: new and changed files go to a staging folder
//! beside it, and only a build that completed is committed, by moving those
//! files in and deleting files that are no longer produced. A failed build
//! therefore leaves the previous output byte-identical, and a file whose bytes
//! did not change is never rewritten, keeping its timestamp so static hosts and
//! rsync upload nothing.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{io_error, Error, Result};

/// New and changed files of a build, waiting in a folder beside the output; removed on drop unless committed.
pub struct Staging {
    target: PathBuf,
    dir: PathBuf,
    committed: bool,
    produced: Mutex<HashSet<String>>,
    written: AtomicUsize,
    unchanged: AtomicUsize,
    /// What the output held when the build began, listed on a thread of its own
    /// while the build runs, so commit knows what to delete without walking it then.
    previous: Option<std::thread::JoinHandle<Vec<Existing>>>,
}

/// A file or folder of the previous output: (path relative to it, depth, whether a folder).
type Existing = (String, usize, bool);

fn list_output(target: &Path) -> Vec<Existing> {
    walkdir::WalkDir::new(target)
        .min_depth(1)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|entry| {
            let rel = entry
                .path()
                .strip_prefix(target)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            (rel, entry.depth(), entry.file_type().is_dir())
        })
        .collect()
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStats {
    /// Files whose bytes are new or changed.
    pub written: usize,
    /// Files identical to the previous output (left untouched).
    pub unchanged: usize,
    /// Files of the previous output that are no longer produced (deleted).
    pub removed: usize,
}

/// Whether `path` is a regular file (not a link to one) holding exactly `bytes`.
#[cfg(unix)]
fn holds_exactly(path: &Path, bytes: &[u8]) -> bool {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    // Open, fstat, one read, close: a rebuild compares every output, so the
    // path is resolved once and a link is refused by the open itself.
    let Ok(file) = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    else {
        return false;
    };
    if !file
        .metadata()
        .is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
    {
        return false;
    }
    // Read into spare capacity (no zeroing), up to the length fstat gave.
    let mut old = Vec::with_capacity(bytes.len());
    file.take(bytes.len() as u64)
        .read_to_end(&mut old)
        .is_ok_and(|_| old == bytes)
}

#[cfg(not(unix))]
fn holds_exactly(path: &Path, bytes: &[u8]) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && fs::read(path).is_ok_and(|old| old == bytes)
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
        let previous = target.is_dir().then(|| {
            let target = target.to_path_buf();
            std::thread::spawn(move || list_output(&target))
        });
        Ok(Staging {
            target: target.to_path_buf(),
            dir,
            committed: false,
            produced: Mutex::new(HashSet::new()),
            written: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            previous,
        })
    }

    /// Records `bytes` for `rel` (a `/`-separated path inside the output); stages it unless the
    /// output already holds exactly these bytes. Safe to call from many threads.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let rel_path = safe_relative(rel).ok_or_else(|| {
            Error::Usage(format!(
                "refusing to write `{rel}`: the path would leave the output folder"
            ))
        })?;
        if let Ok(mut produced) = self.produced.lock() {
            produced.insert(rel.to_owned());
        }
        if holds_exactly(&self.target.join(&rel_path), bytes) {
            self.unchanged.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let dest = self.dir.join(&rel_path);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        fs::write(&dest, bytes).map_err(io_error("write", &dest))?;
        self.written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Moves the staged files into the output and deletes files no longer produced.
    pub fn commit(mut self) -> Result<WriteStats> {
        let written = self.written.load(Ordering::Relaxed);
        let unchanged = self.unchanged.load(Ordering::Relaxed);
        if !self.target.exists() {
            // First build: the staging folder becomes the output in one rename.
            fs::rename(&self.dir, &self.target).map_err(io_error("create", &self.target))?;
            self.committed = true;
            return Ok(WriteStats {
                written,
                unchanged,
                removed: 0,
            });
        }
        let staged: Vec<PathBuf> = walkdir::WalkDir::new(&self.dir)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
        for from in staged {
            let rel = from.strip_prefix(&self.dir).unwrap_or(&from);
            let to = self.target.join(rel);
            if let Some(parent) = to.parent() {
                make_dir(parent)?;
            }
            if to.is_dir() {
                fs::remove_dir_all(&to).map_err(io_error("replace", &to))?;
            }
            fs::rename(&from, &to).map_err(io_error("move into place", &to))?;
        }
        let produced = self
            .produced
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        let previous = match self.previous.take().map(std::thread::JoinHandle::join) {
            Some(Ok(list)) => list,
            _ => list_output(&self.target),
        };
        let mut removed = 0;
        let mut dirs = Vec::new();
        for (rel, depth, is_dir) in previous {
            if is_dir {
                dirs.push((depth, rel));
                continue;
            }
            let path = self.target.join(&rel);
            if !produced.contains(&rel)
                // A staged move may have put a folder where this file was.
                && fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir())
            {
                fs::remove_file(&path).map_err(io_error("remove", &path))?;
                removed += 1;
            }
        }
        // Folders left empty by removed pages go too, deepest first; a folder
        // holding a produced file is not empty and is not tried.
        let holding: HashSet<&str> = produced
            .iter()
            .flat_map(|f| {
                std::iter::successors(f.rsplit_once('/').map(|(d, _)| d), |d| {
                    d.rsplit_once('/').map(|(p, _)| p)
                })
            })
            .collect();
        dirs.retain(|(_, d)| !holding.contains(d.as_str()));
        dirs.sort_by_key(|d| std::cmp::Reverse(d.0));
        for (_, d) in dirs {
            let _ = fs::remove_dir(self.target.join(d));
        }
        let _ = fs::remove_dir_all(&self.dir);
        self.committed = true;
        Ok(WriteStats {
            written,
            unchanged,
            removed,
        })
    }
}

/// Creates a folder and its parents, replacing a file that stands where a folder must be.
fn make_dir(dir: &Path) -> Result<()> {
    match fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut p = dir.to_path_buf();
            while !p.as_os_str().is_empty() {
                if p.is_file() {
                    fs::remove_file(&p).map_err(io_error("replace", &p))?;
                    return fs::create_dir_all(dir).map_err(io_error("create", dir));
                }
                if !p.pop() {
                    break;
                }
            }
            Err(io_error("create", dir)(e))
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
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

    /// A temporary folder holding `public/` with these files.
    fn output_with(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("public");
        fs::create_dir_all(&target).unwrap();
        for (name, text) in files {
            fs::write(target.join(name), text).unwrap();
        }
        (dir, target)
    }

    #[test]
    fn failed_staging_leaves_target_alone_and_commit_swaps() {
        let (dir, target) = output_with(&[("old.html", "old")]);
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

    #[test]
    fn only_a_regular_file_with_the_same_bytes_is_left_unchanged() {
        let (dir, target) = output_with(&[
            ("same.html", "same"),
            ("longer.html", "same!"),
            ("other.html", "diff"),
        ]);
        fs::write(dir.path().join("elsewhere.html"), "link").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("elsewhere.html"), target.join("link.html"))
            .unwrap();
        let s = Staging::create(&target).unwrap();
        for name in ["same.html", "longer.html", "other.html"] {
            s.write(name, b"same").unwrap();
        }
        s.write("link.html", b"link").unwrap();
        let stats = s.commit().unwrap();
        assert_eq!(stats.unchanged, 1, "only same.html is unchanged");
        assert_eq!(stats.written, 3);
        for name in ["same.html", "longer.html", "other.html"] {
            assert_eq!(fs::read_to_string(target.join(name)).unwrap(), "same");
        }
        let link = fs::symlink_metadata(target.join("link.html")).unwrap();
        assert!(link.is_file(), "the link became a regular file");
    }
}
