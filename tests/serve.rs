//! The preview server over real HTTP on 127.0.0.1:0, and incremental rebuilds
//! that must equal a clean build.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use casebook::serve::{ServeOptions, Server};
use casebook::watch::Change;
use common::{case_study, snapshot, TestSite};

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// Sends raw bytes (so malformed and hostile requests reach the server as written).
fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    raw(
        addr,
        format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            addr.port()
        )
        .as_bytes(),
    )
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path)
}

fn generation(page: &str) -> u64 {
    let at = page.find("var g=").expect("reload script injected") + 6;
    page[at..].split(',').next().unwrap().parse().unwrap()
}

fn start(site: &TestSite) -> Server {
    let opts = ServeOptions {
        build: site.options(),
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
    };
    let (server, first) = Server::start(opts).unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    server
}

/// Starts the server with its watcher on a thread; returns the address.
fn start_watching(site: &TestSite) -> SocketAddr {
    let mut server = start(site);
    let addr = server.addr();
    thread::spawn(move || server.watch(|_, _| {}));
    // Give the watcher a moment to register before the test edits files.
    thread::sleep(Duration::from_millis(300));
    addr
}

/// Waits for the next generation after `since`, as the browser does.
fn poll(addr: SocketAddr, since: u64) -> (u64, String) {
    let reply = get(addr, &format!("/__casebook/poll?since={since}"));
    assert_eq!(reply.status, 200, "{}", reply.head);
    let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    (
        v["generation"].as_u64().unwrap(),
        v["kind"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn serves_pages_404_405_and_refuses_traversal_and_foreign_hosts() {
    let site = TestSite::new();
    site.write("static/secret-link-target.txt", "inside");
    let server = start(&site);
    let addr = server.addr();

    let home = get(addr, "/");
    assert_eq!(home.status, 200);
    assert_eq!(
        home.header("Content-Type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    assert!(
        home.body.contains("__casebook/poll"),
        "reload script injected"
    );
    assert!(
        home.header("Access-Control-Allow-Origin").is_none(),
        "no CORS"
    );
    assert_eq!(get(addr, "/case-studies/heat-edinburgh/").status, 200);
    assert_eq!(
        get(addr, "/style.css").header("Content-Type").as_deref(),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        get(addr, "/atom.xml").header("Content-Type").as_deref(),
        Some("application/atom+xml")
    );
    let folder = get(addr, "/case-studies");
    assert_eq!(folder.status, 301);
    assert_eq!(folder.header("Location").as_deref(), Some("/case-studies/"));
    let head = request(addr, "HEAD", "/");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    let missing = get(addr, "/no/such/page/");
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("Page not found"),
        "the site's 404.html"
    );

    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = request(addr, method, "/");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("Allow").as_deref(), Some("GET, HEAD"));
    }

    for path in [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/..%2f..%2fetc/passwd",
        "/..%5c..%5cetc%5cpasswd",
        "/..\\..\\etc\\passwd",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc/passwd",
        "/index.html%00.txt",
        "/C:/Windows/win.ini",
    ] {
        let r = get(addr, path);
        assert!(r.status == 400 || r.status == 404, "{path}: {}", r.status);
        assert!(!r.body.contains("root:"), "{path} leaked a file");
    }
    let long = get(addr, &format!("/{}", "a/".repeat(3000)));
    assert!(
        long.status == 400 || long.status == 414 || long.status == 404,
        "{}",
        long.status
    );

    let rebinding = raw(
        addr,
        b"GET / HTTP/1.1\r\nHost: evil.example.com\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(rebinding.status, 403);
    let localhost = raw(
        addr,
        format!(
            "GET / HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
            addr.port()
        )
        .as_bytes(),
    );
    assert_eq!(localhost.status, 200);

    // Malformed requests do not take the server down.
    for junk in [
        &b"\x00\x01\x02garbage\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GE",
    ] {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(junk).unwrap();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.read_to_end(&mut Vec::new());
    }
    assert_eq!(get(addr, "/").status, 200);
}

#[test]
fn open_reload_connections_do_not_slow_pages() {
    let site = TestSite::new();
    let server = start(&site);
    let addr = server.addr();
    let since = generation(&get(addr, "/").body);
    let mut streams = Vec::new();
    for _ in 0..32 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(
            format!("GET /__casebook/poll?since={since} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        streams.push(s);
    }
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(get(addr, "/case-studies/heat-edinburgh/").status, 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "20 pages took {:?} with 32 polls open",
        started.elapsed()
    );
}

#[test]
fn edits_reload_the_browser_and_errors_show_an_overlay_until_fixed() {
    let site = TestSite::new();
    let addr = start_watching(&site);
    let page = "/case-studies/heat-edinburgh/";
    let g0 = generation(&get(addr, page).body);

    site.edit("content/case-studies/heat-edinburgh.md", |t| {
        t.replace("Good.", "Better than expected.")
    });
    let (g1, kind) = poll(addr, g0);
    assert!(g1 > g0);
    assert_eq!(kind, "reload");
    assert!(get(addr, page).body.contains("Better than expected."));

    site.edit("content/case-studies/heat-edinburgh.md", |t| {
        t.replace("city: edinburgh", "city: edinbrugh")
    });
    let (g2, kind) = poll(addr, g1);
    assert_eq!(kind, "error");
    let broken = get(addr, page).body;
    assert!(broken.contains("casebook-error-overlay"));
    assert!(
        broken.contains("content/case-studies/heat-edinburgh.md:7:7"),
        "file and line in the overlay"
    );
    assert!(
        broken.contains("Better than expected."),
        "the last good page is still served"
    );

    site.edit("content/case-studies/heat-edinburgh.md", |t| {
        t.replace("city: edinbrugh", "city: edinburgh")
    });
    let (_, kind) = poll(addr, g2);
    assert_eq!(kind, "reload");
    assert!(!get(addr, page).body.contains("casebook-error-overlay"));
}

#[test]
fn a_stylesheet_change_swaps_css_without_a_reload() {
    let site = TestSite::new();
    site.write("static/extra.css", "body { color: red; }");
    let addr = start_watching(&site);
    let g0 = generation(&get(addr, "/").body);
    site.write("static/extra.css", "body { color: blue; }");
    let (_, kind) = poll(addr, g0);
    assert_eq!(kind, "css");
    assert!(get(addr, "/extra.css").body.contains("blue"));
}

#[test]
fn incremental_rebuilds_equal_a_clean_build() {
    let site = TestSite::new();
    site.write(
        "content/case-studies/second.md",
        case_study(
            "Second",
            "london",
            "heat-compact",
            "replicated",
            "2020-06-01",
            "replicated_from: edinburgh\n",
            "Second body.\n",
        ),
    );
    let mut server = start(&site);
    type Step = Box<dyn Fn(&TestSite)>;
    let steps: Vec<(&str, Step)> = vec![
        (
            "body edit",
            Box::new(|s: &TestSite| {
                s.edit("content/case-studies/heat-edinburgh.md", |t| {
                    t.replace("Good.", "Very good.")
                });
            }),
        ),
        (
            "city and stage change",
            Box::new(|s: &TestSite| {
                s.edit("content/case-studies/second.md", |t| {
                    t.replace("city: london", "city: valencia")
                        .replace("stage: replicated", "stage: scaled")
                });
            }),
        ),
        (
            "new study",
            Box::new(|s: &TestSite| {
                s.write(
                    "content/case-studies/third.md",
                    case_study(
                        "Third",
                        "london",
                        "new-practice",
                        "pilot",
                        "2022-01-01",
                        "",
                        "Links to [second](second.md).",
                    ),
                );
            }),
        ),
        (
            "deleted study",
            Box::new(|s: &TestSite| {
                s.remove("content/case-studies/second.md");
                s.edit("content/case-studies/third.md", |t| {
                    t.replace("Links to [second](second.md).", "No links.")
                });
            }),
        ),
        (
            "template edit",
            Box::new(|s: &TestSite| {
                s.write("templates/page.html", "{% extends \"base.html\" %}{% block content %}<p>custom {{ page.title }}</p>{% endblock content %}");
                s.write(
                    "content/about.md",
                    "---\ntitle: About\nkind: page\n---\nx\n",
                );
            }),
        ),
        (
            "site.toml edit",
            Box::new(|s: &TestSite| {
                s.edit("site.toml", |t| {
                    t.replace("A small network for tests", "A renamed network")
                });
            }),
        ),
    ];
    for (name, step) in steps {
        step(&site);
        let outcome = server.rebuild(&[Change::Content]);
        assert!(outcome.errors.is_empty(), "{name}: {:?}", outcome.errors);
        site.build_ok();
        let clean = snapshot(&site.public());
        let served = server.snapshot();
        let mut incremental: Vec<(String, Vec<u8>)> = served
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.to_vec()))
            .collect();
        incremental.sort();
        assert_eq!(incremental.len(), clean.len(), "{name}: file count");
        for (a, b) in incremental.iter().zip(&clean) {
            assert_eq!(a.0, b.0, "{name}");
            assert!(a.1 == b.1, "{name}: {} differs from a clean build", a.0);
        }
    }
}

#[test]
fn static_symlinks_leaving_the_site_are_refused() {
    let site = TestSite::new();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    std::fs::create_dir_all(site.root().join("static")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.txt"),
        site.root().join("static/secret.txt"),
    )
    .unwrap();
    let errors = site.build_errors();
    assert_eq!(errors[0].code, "symlink-outside-site");
}
