//! Walks `content/`, skips what is not content, and reads each Markdown file
//! with its path attached.

use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use walkdir::WalkDir;

use crate::error::Diagnostic;
use crate::text::line_col;

/// Content files larger than this are refused: a case study is a few
/// thousand words, and a runaway file should not stall every build.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// One Markdown file of `content/`, decoded and normalised.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the site root, as shown in diagnostics (`content/about.md`).
    pub path: PathBuf,
    /// Path relative to `content/` (`about.md`), used for URLs and links.
    pub rel: PathBuf,
    /// The text: UTF-8, BOM removed, CRLF turned into LF.
    pub text: String,
    /// Hash of `text`, for the render cache.
    pub hash: u64,
}

/// Whether a file in `content/` is an editor's temporary file or otherwise not content.
pub fn is_ignored_name(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
        || name.contains("___jb_")
        || name == "4913"
}

/// Whether `path` names a Markdown content file (not a temp file).
pub fn is_content_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    !is_ignored_name(name) && path.extension().is_some_and(|e| e == "md")
}

/// Reads every content file under `root/content`, sorted by path.
/// Problems (unreadable, too large, not UTF-8, symlink loops or escapes) are returned beside the files.
pub fn load_sources(root: &Path) -> (Vec<Arc<SourceFile>>, Vec<Diagnostic>) {
    load(root, None)
}

/// A file's modification time and length, to tell whether it changed since it was read.
type Stamp = (Option<std::time::SystemTime>, u64);

/// Files read by an earlier run, by path, with the modification time and length they had.
#[derive(Default)]
pub struct ReadCache {
    files:
        std::collections::HashMap<PathBuf, (Option<std::time::SystemTime>, u64, Arc<SourceFile>)>,
}

/// Like [`load_sources`], but a file whose modification time and length are
/// unchanged since `cache` was filled is taken from the cache instead of read.
/// The cache is refilled with exactly this run's files.
pub fn load_sources_cached(
    root: &Path,
    cache: &mut ReadCache,
) -> (Vec<Arc<SourceFile>>, Vec<Diagnostic>) {
    load(root, Some(cache))
}

fn load(root: &Path, cache: Option<&mut ReadCache>) -> (Vec<Arc<SourceFile>>, Vec<Diagnostic>) {
    let content = root.join("content");
    let mut diags = Vec::new();
    if !content.is_dir() {
        diags.push(
            Diagnostic::error(
                "missing-content",
                "content",
                0,
                0,
                "no `content/` folder; expected one holding the site's Markdown",
            )
            .with_help("create `content/` or run `casebook new case-study \"Title\"`"),
        );
        return (Vec::new(), diags);
    }
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    // (path, whether it or a folder above it inside content/ is a symbolic link)
    let mut paths: Vec<(PathBuf, bool)> = Vec::new();
    let mut linked_dirs: Vec<PathBuf> = Vec::new();
    let walker = WalkDir::new(&content)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_ignored_name(&e.file_name().to_string_lossy()));
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_dir() && e.path_is_symlink() => {
                linked_dirs.push(e.into_path())
            }
            Ok(e) if e.file_type().is_file() && is_content_file(e.path()) => {
                let linked =
                    e.path_is_symlink() || linked_dirs.iter().any(|d| e.path().starts_with(d));
                paths.push((e.into_path(), linked));
            }
            Ok(_) => {}
            Err(e) => {
                let path = e.path().map_or_else(|| content.clone(), Path::to_path_buf);
                let shown = display_path(root, &path);
                let (code, msg) = if e.loop_ancestor().is_some() {
                    (
                        "symlink-loop",
                        format!(
                            "`{}` is a symbolic link that loops back to a folder above it",
                            shown.display()
                        ),
                    )
                } else {
                    (
                        "unreadable-file",
                        format!("failed to read `{}`: {}", shown.display(), e),
                    )
                };
                diags.push(
                    Diagnostic::error(code, shown, 0, 0, msg)
                        .with_help("remove the link or point it at a real folder inside the site"),
                );
            }
        }
    }
    let old = cache.as_deref().map(|c| &c.files);
    type Read = (Result<Arc<SourceFile>, Diagnostic>, Option<Stamp>);
    let results: Vec<Read> = paths
        .par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map(|(p, linked)| {
            if let Some(old) = old {
                // `serve`: a stat decides whether the file read last time still stands.
                if let Ok(meta) = fs::metadata(p) {
                    let stamp = (meta.modified().ok(), meta.len());
                    if let Some((mtime, len, file)) = old.get(p) {
                        if stamp == (*mtime, *len) && mtime.is_some() {
                            return (Ok(Arc::clone(file)), Some(stamp));
                        }
                    }
                }
            }
            let escape_root = linked.then_some(canonical_root.as_path());
            match read_source(root, escape_root, &content, p) {
                Ok((file, stamp)) => (Ok(Arc::new(file)), Some(stamp)),
                Err(d) => (Err(d), None),
            }
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut next = std::collections::HashMap::new();
    for ((path, _), (r, stamp)) in paths.into_iter().zip(results) {
        match r {
            Ok(f) => {
                if let (Some((mtime, len)), true) = (stamp, cache.is_some()) {
                    next.insert(path, (mtime, len, Arc::clone(&f)));
                }
                files.push(f);
            }
            Err(d) => diags.push(d),
        }
    }
    if let Some(cache) = cache {
        cache.files = next;
    }
    (files, diags)
}

fn display_path(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// Reads one file, with the stamp (modified time, length) of what was read.
/// When it is reached through a symbolic link, `canonical_root` is the site
/// root it must not leave.
fn read_source(
    root: &Path,
    canonical_root: Option<&Path>,
    content: &Path,
    path: &Path,
) -> Result<(SourceFile, Stamp), Diagnostic> {
    use std::io::Read;
    let shown = display_path(root, path);
    let fail = |code, msg: String| Diagnostic::error(code, shown.clone(), 0, 0, msg);
    if let Some(canonical_root) = canonical_root {
        match fs::canonicalize(path) {
            Ok(real) if !real.starts_with(canonical_root) => {
                return Err(fail(
                    "symlink-outside-site",
                    format!(
                        "`{}` is a symbolic link to `{}`, outside the site",
                        shown.display(),
                        real.display()
                    ),
                )
                .with_help("copy the file into `content/` instead of linking to it"));
            }
            _ => {}
        }
    }
    let unreadable = |e: std::io::Error| {
        fail(
            "unreadable-file",
            format!("failed to read `{}`: {e}", shown.display()),
        )
    };
    // Open, fstat, one read of the length fstat gave: the path is resolved once.
    let file = fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let len = meta.len();
    if len > MAX_FILE_BYTES {
        return Err(fail(
            "file-too-large",
            format!(
                "`{}` is {} bytes; expected at most {MAX_FILE_BYTES} bytes (2 MiB)",
                shown.display(),
                len
            ),
        )
        .with_help("split the study into smaller files, or move data and images to `static/`"));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes).map_err(unreadable)?;
    let stamp = (meta.modified().ok(), len);
    let text = decode(bytes).map_err(|(offset, text_before)| {
        let (line, col) = line_col(&text_before, offset);
        Diagnostic::error(
            "not-utf8",
            shown.clone(),
            line,
            col,
            format!(
                "`{}` is not valid UTF-8 text (invalid byte at line {line}, column {col})",
                shown.display()
            ),
        )
        .with_help("save the file as UTF-8 in your editor (\"Save with encoding\" → UTF-8)")
    })?;
    let rel = path.strip_prefix(content).unwrap_or(path).to_path_buf();
    let file = SourceFile {
        hash: hash_text(&text),
        path: shown,
        rel,
        text,
    };
    Ok((file, stamp))
}

/// UTF-8 with an optional BOM; CRLF and lone CR become LF so lines count the same everywhere.
/// On failure, the byte offset of the first bad byte and the valid text before it.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, (usize, String)> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid_up_to = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        (
            valid_up_to,
            String::from_utf8_lossy(&bytes[..valid_up_to]).into_owned(),
        )
    })?;
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text
    })
}

/// A stable 64-bit hash, for cache keys: rustc-hash's, which reads 8 bytes a
/// step (SipHash, std's default, took 2 % of a 10k build's instructions here).
pub fn hash_text(text: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    text.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_temp_files_are_ignored() {
        for name in [
            ".#a.md",
            "#a.md#",
            "a.md~",
            ".a.md.swp",
            "4913",
            "a.md___jb_tmp___",
            "notes.txt",
        ] {
            assert!(!is_content_file(Path::new(name)), "{name}");
        }
        assert!(is_content_file(Path::new("case-studies/a.md")));
    }

    #[test]
    fn decode_strips_bom_and_crlf_and_locates_bad_bytes() {
        assert_eq!(
            decode(b"\xEF\xBB\xBF---\r\ntitle: x\r\n".to_vec()).unwrap(),
            "---\ntitle: x\n"
        );
        let (offset, before) = decode(b"---\ntitle: \xff\n".to_vec()).unwrap_err();
        assert_eq!(line_col(&before, offset), (2, 8));
    }
}
