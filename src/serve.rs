//! The preview server: tiny_http serving the current in-memory snapshot of
//! the site, with live reload and an error overlay injected at response time
//! (so what `serve` renders is byte-identical to what `build` writes).
//!
//! Every rebuild goes through the same [`Session`] as `build`; a snapshot is
//! published by swapping one `Arc`. Requests are answered only from the
//! snapshot's map of output paths, so nothing outside the output can be read.

use std::collections::HashMap;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{Header, Method, Request, Response, StatusCode};

use crate::build::{BuildOptions, Session, Sink};
use crate::config::load_config;
use crate::error::{Diagnostic, Error, Result};
use crate::text::escape_html;
use crate::watch::{Change, SiteWatcher};

/// The path, under the site's base path, of the live-reload endpoint.
pub const POLL_PATH: &str = "__casebook/poll";
/// How long a reload poll waits for a change before answering "no change".
pub const POLL_TIMEOUT: Duration = Duration::from_secs(25);
const MAX_URL: usize = 2048;
const WORKERS: usize = 4;

/// Options for `casebook serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// What to build.
    pub build: BuildOptions,
    /// Address to bind; 127.0.0.1 unless told otherwise.
    pub bind: IpAddr,
    /// First port to try; 0 picks a free one.
    pub port: u16,
}

/// Files of one build, by output path (`case-studies/x/index.html`).
#[derive(Default)]
pub struct MemorySink {
    files: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl Sink for MemorySink {
    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.files
            .lock()
            .map_err(|_| Error::Usage("snapshot lock poisoned".into()))?
            .insert(rel.to_owned(), Arc::from(bytes));
        Ok(())
    }

    fn clear(&self) {
        if let Ok(mut files) = self.files.lock() {
            files.clear();
        }
    }
}

impl MemorySink {
    /// A sink holding the files of the last snapshot, for a render that only replaces what changed.
    pub fn with_files(files: HashMap<String, Arc<[u8]>>) -> Self {
        MemorySink {
            files: Mutex::new(files),
        }
    }

    /// The files collected.
    pub fn into_files(self) -> HashMap<String, Arc<[u8]>> {
        self.files.into_inner().unwrap_or_default()
    }
}

/// What the browser is told to do after a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadKind {
    /// Reload the page.
    Page,
    /// Only stylesheets changed: swap them in place.
    Css,
}

/// The published state: the last good site and, while a rebuild fails, its errors.
pub struct Snapshot {
    /// Counts published states; the browser polls for a newer one.
    pub generation: u64,
    /// The last good build.
    pub files: Arc<HashMap<String, Arc<[u8]>>>,
    /// Rendered overlay HTML while the latest rebuild failed.
    pub errors: Option<String>,
    /// How the browser should apply this generation.
    pub kind: ReloadKind,
}

struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    changed: (Mutex<u64>, Condvar),
    base_path: String,
    host_names: Vec<String>,
}

/// A running preview server.
pub struct Server {
    shared: Arc<Shared>,
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    session: Session,
}

/// What one rebuild did, for the terminal.
#[derive(Debug)]
pub struct RebuildOutcome {
    /// The new generation.
    pub generation: u64,
    /// The errors, when the rebuild failed (the last good site is still served).
    pub errors: Vec<Diagnostic>,
    /// How long the rebuild took.
    pub took: Duration,
}

impl Server {
    /// Builds the site, binds the first free port from `opts.port` (trying the next nine), and starts serving.
    /// The outcome of the first build comes back beside the server: when it failed, the overlay is shown.
    pub fn start(opts: ServeOptions) -> Result<(Server, RebuildOutcome)> {
        let config = load_config(&opts.build.root)?;
        let mut base_path = config.base_path.clone();
        if let Some(url) = &opts.build.base_url {
            let mut c = config.clone();
            c.set_base_url(url)?;
            base_path = c.base_path;
        }
        let (http, addr) = bind(opts.bind, opts.port)?;
        let mut host_names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "[::1]".to_owned(),
        ];
        host_names.push(match opts.bind {
            IpAddr::V6(v6) => format!("[{v6}]"),
            v4 => v4.to_string(),
        });
        let shared = Arc::new(Shared {
            snapshot: RwLock::new(Arc::new(Snapshot {
                generation: 0,
                files: Arc::new(HashMap::new()),
                errors: None,
                kind: ReloadKind::Page,
            })),
            changed: (Mutex::new(0), Condvar::new()),
            base_path,
            host_names,
        });
        let http = Arc::new(http);
        for _ in 0..WORKERS {
            let http = Arc::clone(&http);
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                while let Ok(request) = http.recv() {
                    handle(&shared, request);
                }
            });
        }
        let mut session = Session::new(opts.build);
        session.enable_page_cache();
        let mut server = Server {
            shared,
            http,
            addr,
            session,
        };
        let first = server.rebuild(&[Change::Content]);
        Ok((server, first))
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the site's home page.
    pub fn url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() || self.addr.ip().is_loopback() {
            "127.0.0.1".to_owned()
        } else {
            self.addr.ip().to_string()
        };
        format!(
            "http://{host}:{}{}",
            self.addr.port(),
            self.shared.base_path
        )
    }

    /// The snapshot being served.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        read_snapshot(&self.shared)
    }

    /// Rebuilds through the session and publishes the result: a new site, or the errors over the last good one.
    pub fn rebuild(&mut self, changes: &[Change]) -> RebuildOutcome {
        let started = Instant::now();
        let old = read_snapshot(&self.shared);
        // The render replaces what changed, or clears the sink first when it redoes everything.
        let sink = MemorySink::with_files((*old.files).clone());
        let result = self.session.render_into(&sink);
        let ok = result.is_ok();
        let generation = old.generation + 1;
        if let (Ok(report), Some(_)) = (&result, std::env::var_os("CASEBOOK_TIMINGS")) {
            for (stage, d) in &report.timings {
                eprintln!("{stage:>30}: {:>8.1} ms", d.as_secs_f64() * 1000.0);
            }
        }
        let (next, errors) = match result {
            Ok(_) => {
                let css_only = !changes.is_empty()
                    && changes.iter().all(|c| *c == Change::Css)
                    && old.errors.is_none();
                let kind = if css_only {
                    ReloadKind::Css
                } else {
                    ReloadKind::Page
                };
                (
                    Snapshot {
                        generation,
                        files: Arc::new(sink.into_files()),
                        errors: None,
                        kind,
                    },
                    Vec::new(),
                )
            }
            Err(e) => {
                let diags = match &e {
                    Error::Content(d) => d.clone(),
                    other => vec![Diagnostic::error(
                        "build-failed",
                        "",
                        0,
                        0,
                        other.to_string(),
                    )],
                };
                let overlay = overlay_html(&diags);
                (
                    Snapshot {
                        generation,
                        files: Arc::clone(&old.files),
                        errors: Some(overlay),
                        kind: ReloadKind::Page,
                    },
                    diags,
                )
            }
        };
        if let Ok(mut slot) = self.shared.snapshot.write() {
            *slot = Arc::new(next);
        }
        let (lock, cvar) = &self.shared.changed;
        if let Ok(mut g) = lock.lock() {
            *g = generation;
        }
        cvar.notify_all();
        let took = started.elapsed();
        if ok {
            // The browser is reloading already; the search index follows in the same generation.
            let deferred = self.session.deferred_files();
            let current = read_snapshot(&self.shared);
            let mut files = (*current.files).clone();
            for (rel, text) in deferred {
                files.insert(rel, Arc::from(text.into_bytes()));
            }
            let next = Snapshot {
                generation: current.generation,
                files: Arc::new(files),
                errors: current.errors.clone(),
                kind: current.kind,
            };
            if let Ok(mut slot) = self.shared.snapshot.write() {
                *slot = Arc::new(next);
            }
        }
        RebuildOutcome {
            generation,
            errors,
            took,
        }
    }

    /// Watches the site and rebuilds on every change until the watcher stops.
    /// `report` is called after each rebuild (the CLI prints there).
    pub fn watch(&mut self, mut report: impl FnMut(&RebuildOutcome, &[Change])) -> Result<()> {
        let root = self.session.options().root.clone();
        let output = self.session.options().output_dir();
        let watcher = SiteWatcher::start(&root, &output)?;
        while let Some(changes) = watcher.next_batch() {
            let outcome = self.rebuild(&changes);
            report(&outcome, &changes);
        }
        Ok(())
    }

    /// Stops accepting requests.
    pub fn stop(&self) {
        self.http.unblock();
    }
}

fn read_snapshot(shared: &Shared) -> Arc<Snapshot> {
    match shared.snapshot.read() {
        Ok(s) => Arc::clone(&s),
        Err(poisoned) => Arc::clone(&poisoned.into_inner()),
    }
}

fn bind(ip: IpAddr, port: u16) -> Result<(tiny_http::Server, SocketAddr)> {
    let tries = if port == 0 { 1 } else { 10 };
    let mut last = String::new();
    for i in 0..tries {
        let Some(p) = port.checked_add(i) else { break };
        match tiny_http::Server::http(SocketAddr::new(ip, p)) {
            Ok(server) => {
                let addr = server
                    .server_addr()
                    .to_ip()
                    .unwrap_or(SocketAddr::new(ip, p));
                if i > 0 {
                    eprintln!("port {port} is taken; using {}", addr.port());
                }
                return Ok((server, addr));
            }
            Err(e) => last = format!("{ip}:{p}: {e}"),
        }
    }
    Err(Error::Usage(format!(
        "cannot listen on port {port} or the {} after it ({last}); pass --port to choose another",
        tries - 1
    )))
}

/// Where a request path leads within the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// An output file.
    File(String),
    /// The live-reload endpoint, with the generation the page has.
    Poll(u64),
    /// A folder asked for without its slash: redirect here.
    Redirect(String),
    /// Nothing there.
    NotFound,
    /// A path no well-behaved client sends (traversal, NUL, backslash, too long).
    Bad,
}

/// Maps a request URL to an output file of `files`, refusing every way out of the site.
pub fn resolve(url: &str, base_path: &str, has: impl Fn(&str) -> bool) -> Resolved {
    if url.len() > MAX_URL {
        return Resolved::Bad;
    }
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    };
    let path = path.split('#').next().unwrap_or("");
    if path == base_path.trim_end_matches('/') && base_path != "/" {
        return Resolved::Redirect(base_path.to_owned());
    }
    let Some(rest) = path.strip_prefix(base_path) else {
        return Resolved::NotFound;
    };
    let Some(decoded) = percent_decode(rest) else {
        return Resolved::Bad;
    };
    if decoded.contains(['\0', '\\']) || decoded.starts_with('/') {
        return Resolved::Bad;
    }
    let segments: Vec<&str> = decoded.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        if *seg == ".."
            || *seg == "."
            || (seg.is_empty() && i != last)
            || seg.contains(':') && i == 0 && seg.len() == 2
        {
            return Resolved::Bad;
        }
    }
    if decoded == POLL_PATH {
        let since = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("since="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        return Resolved::Poll(since);
    }
    if decoded.is_empty() || decoded.ends_with('/') {
        let index = format!("{decoded}index.html");
        return if has(&index) {
            Resolved::File(index)
        } else {
            Resolved::NotFound
        };
    }
    if has(&decoded) {
        Resolved::File(decoded)
    } else if has(&format!("{decoded}/index.html")) {
        Resolved::Redirect(format!("{path}/"))
    } else {
        Resolved::NotFound
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            let (h, l) = (hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?);
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for an output path.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" if path.ends_with("atom.xml") => "application/atom+xml",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "pdf" => "application/pdf",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("static header names and ASCII values are valid")
}

fn respond(
    request: Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) {
    let head = request.method() == &Method::Head;
    let len = body.len();
    let mut headers = vec![
        header("Content-Type", content_type),
        header("Cache-Control", "no-store"),
        header("X-Content-Type-Options", "nosniff"),
        header("Referrer-Policy", "no-referrer"),
    ];
    headers.extend(extra.iter().map(|(n, v)| header(n, v)));
    let body = if head { Vec::new() } else { body };
    let response = Response::new(
        StatusCode(status),
        headers,
        Cursor::new(body),
        Some(len),
        None,
    );
    let _ = request.respond(response);
}

fn host_allowed(shared: &Shared, request: &Request) -> bool {
    let Some(host) = request.headers().iter().find(|h| h.field.equiv("Host")) else {
        return true;
    };
    let host = host.value.as_str().trim().to_ascii_lowercase();
    let name = if host.starts_with('[') {
        host.split_once(']')
            .map_or(host.clone(), |(h, _)| format!("{h}]"))
    } else {
        host.split(':').next().unwrap_or("").to_owned()
    };
    shared.host_names.contains(&name)
}

fn handle(shared: &Arc<Shared>, request: Request) {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return respond(
            request,
            405,
            "text/plain; charset=utf-8",
            b"405 method not allowed: the preview serves GET and HEAD only\n".to_vec(),
            &[("Allow", "GET, HEAD")],
        );
    }
    if !host_allowed(shared, &request) {
        return respond(
            request,
            403,
            "text/plain; charset=utf-8",
            b"403 forbidden: unknown Host header (the preview answers only to localhost)\n"
                .to_vec(),
            &[],
        );
    }
    let snapshot = read_snapshot(shared);
    let url = request.url().to_owned();
    match resolve(&url, &shared.base_path, |p| snapshot.files.contains_key(p)) {
        Resolved::File(path) => {
            let bytes = &snapshot.files[&path];
            let ct = content_type(&path);
            let body = if ct.starts_with("text/html") {
                inject(bytes, &snapshot, &shared.base_path)
            } else {
                bytes.to_vec()
            };
            respond(request, 200, ct, body, &[]);
        }
        Resolved::Poll(since) => {
            // Long-poll on its own thread so page requests never queue behind it.
            let shared = Arc::clone(shared);
            thread::spawn(move || {
                let generation = wait_for_change(&shared, since);
                let snap = read_snapshot(&shared);
                let kind = if snap.errors.is_some() {
                    "error"
                } else if snap.kind == ReloadKind::Css {
                    "css"
                } else {
                    "reload"
                };
                let body = format!("{{\"generation\":{generation},\"kind\":\"{kind}\"}}");
                respond(request, 200, "application/json", body.into_bytes(), &[]);
            });
        }
        Resolved::Redirect(to) => respond(
            request,
            301,
            "text/plain; charset=utf-8",
            format!("moved to {to}\n").into_bytes(),
            &[("Location", &to)],
        ),
        Resolved::NotFound => {
            let body = match snapshot.files.get("404.html") {
                Some(page) => inject(page, &snapshot, &shared.base_path),
                None => b"404 not found\n".to_vec(),
            };
            respond(request, 404, "text/html; charset=utf-8", body, &[]);
        }
        Resolved::Bad => respond(
            request,
            400,
            "text/plain; charset=utf-8",
            b"400 bad request\n".to_vec(),
            &[],
        ),
    }
}

fn wait_for_change(shared: &Shared, since: u64) -> u64 {
    let (lock, cvar) = &shared.changed;
    let Ok(guard) = lock.lock() else { return since };
    match cvar.wait_timeout_while(guard, POLL_TIMEOUT, |g| *g == since) {
        Ok((g, _)) => *g,
        Err(_) => since,
    }
}

/// Adds the reload script (and the error overlay, while errors stand) before `</body>`.
fn inject(page: &[u8], snapshot: &Snapshot, base_path: &str) -> Vec<u8> {
    let mut extra = String::new();
    if let Some(overlay) = &snapshot.errors {
        extra.push_str(overlay);
    }
    extra.push_str(&format!(
        "<script>(function(){{var g={gen},u=\"{base}{poll}?since=\";function poll(){{fetch(u+g,{{cache:\"no-store\"}}).then(function(r){{return r.json()}}).then(function(m){{if(m.generation===g){{return poll()}}if(m.kind===\"css\"){{g=m.generation;document.querySelectorAll('link[rel=\"stylesheet\"]').forEach(function(l){{var x=new URL(l.href);x.searchParams.set(\"v\",g);l.href=x.toString()}});return poll()}}location.reload()}}).catch(function(){{setTimeout(poll,1000)}})}}poll()}})();</script>",
        gen = snapshot.generation,
        base = base_path,
        poll = POLL_PATH
    ));
    let mut out = page.to_vec();
    let at = find_last(&out, b"</body>").unwrap_or(out.len());
    out.splice(at..at, extra.into_bytes());
    out
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The error overlay: every diagnostic with file, line and message, HTML-escaped.
pub fn overlay_html(diags: &[Diagnostic]) -> String {
    let mut items = String::new();
    for d in diags {
        items.push_str(&format!("<li><pre style=\"white-space:pre-wrap;margin:0;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace\">{}</pre></li>", escape_html(&d.render(false))));
    }
    format!(
        "<div id=\"casebook-error-overlay\" role=\"alert\" style=\"position:fixed;inset:0;z-index:2147483647;overflow:auto;background:rgba(20,8,8,.92);color:#fde8e8;padding:2rem;font:16px/1.5 system-ui,sans-serif\"><h2 style=\"margin:0 0 .5rem;color:#fff\">The last change broke the build</h2><p style=\"margin:0 0 1rem\">The preview still shows the last good version. Fix the problem below and save; this page reloads by itself.</p><ol style=\"padding-left:1.2rem\">{items}</ol></div>"
    )
}

/// Warns about a bind address other than loopback.
pub fn bind_warning(ip: IpAddr) -> Option<String> {
    (!ip.is_loopback()).then(|| format!("warning: serving on {ip}, reachable from other machines; the preview is meant for 127.0.0.1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(url: &str) -> Resolved {
        resolve(url, "/sub/", |p| {
            ["index.html", "a/index.html", "style.css", "404.html"].contains(&p)
        })
    }

    #[test]
    fn resolves_files_folders_and_redirects() {
        assert_eq!(r("/sub/"), Resolved::File("index.html".into()));
        assert_eq!(r("/sub"), Resolved::Redirect("/sub/".into()));
        assert_eq!(r("/sub/a/"), Resolved::File("a/index.html".into()));
        assert_eq!(r("/sub/a"), Resolved::Redirect("/sub/a/".into()));
        assert_eq!(r("/sub/style.css?v=3"), Resolved::File("style.css".into()));
        assert_eq!(r("/sub/nothing"), Resolved::NotFound);
        assert_eq!(r("/elsewhere/"), Resolved::NotFound);
        assert_eq!(r("/sub/__casebook/poll?since=7"), Resolved::Poll(7));
    }

    #[test]
    fn refuses_every_traversal_form() {
        for bad in [
            "/sub/../etc/passwd",
            "/sub/%2e%2e/etc/passwd",
            "/sub/%2E%2E%2Fetc%2Fpasswd",
            "/sub/a/..%2f..%2fetc",
            "/sub/..%5c..%5cetc",
            "/sub/a\\..\\b",
            "/sub//etc/passwd",
            "/sub/%2fetc/passwd",
            "/sub/a%00.html",
            "/sub/./index.html",
            "/sub/C:/windows",
            "/sub/%ff%fe",
        ] {
            assert_eq!(r(bad), Resolved::Bad, "{bad}");
        }
        assert_eq!(r(&format!("/sub/{}", "a".repeat(3000))), Resolved::Bad);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a/index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("atom.xml"), "application/atom+xml");
        assert_eq!(content_type("sitemap.xml"), "application/xml");
        assert_eq!(content_type("replication.csv"), "text/csv; charset=utf-8");
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }

    #[test]
    fn overlay_escapes_messages() {
        let d = Diagnostic::error("x", "content/a.md", 3, 1, "bad <script>alert(1)</script>");
        let html = overlay_html(&[d]);
        assert!(html.contains("content/a.md:3:1"));
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    }
}
