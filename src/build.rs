//! The pipeline: config -> sources -> studies -> rendered bodies (cached by
//! content hash) -> indexes -> page plans -> output.
//!
//! A [`Session`] owns the Markdown cache, so `serve` rebuilds through the same
//! entry point as `build`: the expensive stage is memoised, every cheap stage
//! always runs, and an incremental build equals a clean one by construction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::{load_config, Config, SitePaths};
use crate::context::{ChromeKey, Contexts};
use crate::date::Date;
use crate::error::{sort_diagnostics, Diagnostic, Error, Result, Severity};
use crate::export;
use crate::highlight;
use crate::index::build_indexes;
use crate::markdown::{render_markdown, resolve_links, LinkTarget, Rendered};
use crate::model::{check_corpus, parse_study, Study};
use crate::output::{check_output_path, Staging};
use crate::plan::{plan_pages, route_file, PagePlan};
use crate::search;
use crate::site::{Body, Site};
use crate::source::load_sources;
use crate::templates::{error_chain, load_templates, Templates, DEFAULT_STATIC};

/// What to build and where.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site root (holds site.toml).
    pub root: PathBuf,
    /// The output folder; `root/public` when `None`.
    pub output: Option<PathBuf>,
    /// Overrides site.toml's `base_url`.
    pub base_url: Option<String>,
    /// Whether drafts are built.
    pub drafts: bool,
}

impl BuildOptions {
    /// Defaults for a site at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            output: None,
            base_url: None,
            drafts: false,
        }
    }

    /// The output folder.
    pub fn output_dir(&self) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| self.root.join("public"))
    }
}

/// What a build or check did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// HTML pages rendered.
    pub pages: usize,
    /// All files produced (pages, feeds, exports, static files).
    pub files: usize,
    /// Files written with new bytes.
    pub written: usize,
    /// Files unchanged since the previous build.
    pub unchanged: usize,
    /// Files of the previous build no longer produced, deleted.
    pub removed: usize,
    /// Warnings (never fatal for `build`).
    pub warnings: Vec<Diagnostic>,
    /// Wall time per stage.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Owns what survives between builds: the options and the Markdown cache.
pub struct Session {
    opts: BuildOptions,
    cache: HashMap<u64, Arc<Rendered>>,
    page_cache: bool,
    reads: crate::source::ReadCache,
    parsed: HashMap<u64, Result<Arc<Study>, Vec<Diagnostic>>>,
    resolved: ResolvedCache,
    /// The parsed templates of the last render, reused while their sources are unchanged.
    templates: Option<Arc<Templates>>,
    last: Option<LastRender>,
}

/// What the previous render of a serve session produced, to redo only what a body edit touched.
struct LastRender {
    /// Templates, static files, site.toml and options.
    env_key: u64,
    snippets: Vec<(String, String)>,
    chrome: Vec<(ChromeKey, String, String)>,
    /// The site, for output deferred until after the page reload (the search index).
    site: Site,
}

/// Where rendered files go: the staging folder, a serve snapshot, or nowhere.
pub trait Sink: Sync {
    /// Stores the bytes of the file at `rel` (a `/`-separated path inside the output).
    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()>;

    /// Forgets files from an earlier render, before a full render. Sinks that
    /// start empty (staging, discard) have nothing to forget.
    fn clear(&self) {}
}

impl Sink for Staging {
    fn put(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.write(rel, bytes)
    }
}

/// A sink that keeps nothing, for `check`.
pub struct Discard;

impl Sink for Discard {
    fn put(&self, _rel: &str, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
}

/// Resolved bodies by key: the final HTML and the problems found resolving it.
type ResolvedCache = HashMap<u64, (Arc<String>, Vec<Diagnostic>)>;

/// What rendering the pages leaves for a later `serve` render: snippets and chrome.
type PagesDone = (Vec<(String, String)>, Vec<(ChromeKey, String, String)>);

struct Timer(Vec<(&'static str, Duration)>, Instant);

impl Timer {
    fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.0.push((stage, now - self.1));
        self.1 = now;
    }
}

impl Session {
    /// A session with an empty cache.
    pub fn new(opts: BuildOptions) -> Self {
        Session {
            opts,
            cache: HashMap::new(),
            page_cache: false,
            reads: crate::source::ReadCache::default(),
            parsed: HashMap::new(),
            resolved: HashMap::new(),
            templates: None,
            last: None,
        }
    }

    /// Keeps rendered Markdown and pages between runs, keyed by their inputs, so
    /// a rebuild redoes only what changed. Worth it for `serve`; a one-shot
    /// `build` would only pay for the hashing and the memory.
    pub fn enable_page_cache(&mut self) {
        self.page_cache = true;
    }

    /// The build options.
    pub fn options(&self) -> &BuildOptions {
        &self.opts
    }

    /// Builds the site and swaps it into the output folder.
    pub fn build(&mut self) -> Result<Report> {
        let output = self.opts.output_dir();
        check_output_path(&self.opts.root, &output)?;
        let staging = Staging::create(&output)?;
        let mut report = self.render_into(&staging)?;
        let started = Instant::now();
        let stats = staging.commit()?;
        report.written = stats.written;
        report.unchanged = stats.unchanged;
        report.removed = stats.removed;
        report.timings.push(("commit", started.elapsed()));
        Ok(report)
    }

    /// Validates everything a build would, renders every page, writes nothing.
    pub fn check(&mut self) -> Result<Report> {
        self.render_into(&Discard)
    }

    /// Renders the whole site into `sink`: pages, feeds, exports and static files.
    /// Pages whose template context is unchanged since this session's last render are not rendered again.
    pub fn render_into(&mut self, sink: &dyn Sink) -> Result<Report> {
        let mut timer = Timer(Vec::new(), Instant::now());
        let mut config = load_config(&self.opts.root)?;
        if let Some(url) = &self.opts.base_url {
            config.set_base_url(url)?;
        }
        timer.lap("config");
        let paths = SitePaths::new(&self.opts.root);
        // Templates need only site.toml: they are parsed while the content loads.
        let previous_templates = self.templates.clone();
        let theme_config = config.clone();
        let (loaded, templates) = rayon::join(
            || self.load(config, &mut timer),
            || load_templates(&paths, &theme_config, previous_templates.as_ref()),
        );
        let (site, warnings, same_metadata) = loaded?;
        let templates = templates.map_err(Error::Content)?;
        if self.page_cache {
            self.templates = Some(Arc::clone(&templates));
        }
        let template_key = templates.fingerprint;
        let plans = plan_pages(&site);
        let statics = collect_static(&paths, &site.config)?;
        let serve = self.page_cache;
        let env_key = if serve {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (
                template_key,
                &statics,
                serde_json::to_string(&site.config).unwrap_or_default(),
                self.opts.drafts,
            )
                .hash(&mut h);
            h.finish()
        } else {
            0
        };
        // `same_metadata`: site.toml and every study's front matter are as in the
        // last render; with the same templates, drafts and static files, only bodies differ.
        let fast = same_metadata && self.last.as_ref().is_some_and(|l| l.env_key == env_key);
        if fast {
            let last = self.last.as_ref().expect("checked above");
            // Only bodies changed: their pages and the feeds that embed them are all
            // that differs; every other output of the last render stands.
            let changed: HashSet<usize> = (0..site.bodies.len())
                .filter(|&i| site.bodies[i] != last.site.bodies[i])
                .collect();
            let feeds = export::atom_feeds(&site, Some(&changed));
            for (rel, text) in &feeds {
                sink.put(rel, text.as_bytes())?;
            }
            let mut contexts = Contexts::new(&site);
            contexts.set_snippets(last.snippets.clone());
            contexts.set_chrome(last.chrome.clone());
            write_pages(
                &templates,
                &contexts,
                &plans,
                sink,
                |p| matches!(p.kind, crate::plan::PageKind::Study(i) if changed.contains(&i)),
            )?;
            timer.lap("render changed pages");
            drop(contexts);
            if let Some(last) = self.last.as_mut() {
                last.site = site;
            }
            return Ok(Report {
                pages: changed.len(),
                files: changed.len() + feeds.len(),
                warnings,
                timings: timer.0,
                ..Report::default()
            });
        }
        sink.clear();
        timer.lap("plan");
        // Feeds, exports and the search index are built and written while the
        // pages render: they need only the site, and the two halves keep both
        // cores busy. A failure in either leaves `public/` untouched all the same.
        let (others, rendered) = rayon::join(
            || -> Result<(usize, Duration)> {
                let start = Instant::now();
                // `serve` writes the search index after the page reload; see [`Session::deferred_files`].
                let extra = extra_files(&site, &plans, !serve);
                check_collisions(&site, &plans, &extra, &statics)?;
                let failures: Vec<Result<(), Error>> = extra
                    .par_iter()
                    .map(|(rel, bytes)| sink.put(rel, bytes.as_bytes()))
                    .chain(statics.par_iter().map(|(rel, bytes)| sink.put(rel, bytes)))
                    .filter(Result::is_err)
                    .collect();
                report_failures(failures)?;
                Ok((extra.len() + statics.len(), start.elapsed()))
            },
            || -> Result<PagesDone> {
                let mut contexts = Contexts::new(&site);
                let snippets = render_snippets(&templates, &contexts, site.studies.len())?;
                // A one-shot build hands the snippets over; serve keeps a copy for the next render.
                let snippets = if serve {
                    contexts.set_snippets(snippets.clone());
                    snippets
                } else {
                    contexts.set_snippets(snippets);
                    Vec::new()
                };
                let chrome = render_chrome(&templates, &contexts, &plans)?;
                contexts.set_chrome(chrome.clone());
                write_pages(&templates, &contexts, &plans, sink, |_| true)?;
                contexts.free_in_background();
                Ok((snippets, chrome))
            },
        );
        let (other_files, others_took) = others?;
        let (snippets, chrome) = rendered?;
        timer.lap("render pages (alongside the rest)");
        timer
            .0
            .push(("feeds, exports, search, static", others_took));
        let pages = plans.len();
        if serve {
            self.last = Some(LastRender {
                env_key,
                snippets,
                chrome,
                site,
            });
        } else {
            // Freeing every study and body takes tens of milliseconds at 10k
            // studies; the commit need not wait for it.
            std::thread::spawn(move || drop(site));
        }
        Ok(Report {
            pages,
            files: pages + other_files,
            warnings,
            timings: timer.0,
            ..Report::default()
        })
    }

    /// Output a `serve` render leaves for later so the browser reloads sooner:
    /// the search index of the last render.
    pub fn deferred_files(&self) -> Vec<(String, String)> {
        match &self.last {
            Some(last) => search::index_files(&last.site),
            None => Vec::new(),
        }
    }

    /// Loads and validates the site. The flag says whether site.toml and every
    /// study's metadata equal those of `serve`'s last render (false in `build`).
    fn load(&mut self, config: Config, timer: &mut Timer) -> Result<(Site, Vec<Diagnostic>, bool)> {
        let root = self.opts.root.clone();
        let (files, mut diags) = if self.page_cache {
            crate::source::load_sources_cached(&root, &mut self.reads)
        } else {
            load_sources(&root)
        };
        timer.lap("read");
        // Validation depends on the file and on site.toml's vocabularies, nothing else.
        let config_json = serde_json::to_string(&config).unwrap_or_default();
        let config_key = crate::source::hash_text(&config_json);
        let parse_key = |f: &Arc<crate::source::SourceFile>| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (f.hash, &f.rel, config_key).hash(&mut h);
            h.finish()
        };
        // A one-shot build has no cache to look in, so computes no keys.
        let previous = self.page_cache.then_some(&self.parsed);
        let parsed: Vec<_> = files
            .par_iter()
            .with_max_len(crate::PAR_CHUNK)
            .map(|f| match previous.and_then(|p| p.get(&parse_key(f))) {
                Some(r) => r.clone(),
                None => parse_study(f, &config).map(Arc::new),
            })
            .collect();
        if self.page_cache {
            self.parsed = files
                .iter()
                .map(parse_key)
                .zip(parsed.iter().cloned())
                .collect();
        }
        let mut all = Vec::with_capacity(parsed.len());
        for r in parsed {
            match r {
                Ok(s) => all.push(s),
                Err(d) => diags.extend(d),
            }
        }
        // A one-shot build keeps each study's text in the study; the files go.
        drop(files);
        diags.extend(check_corpus(&all));
        timer.lap("front matter");

        let drafts: HashSet<PathBuf> = all
            .iter()
            .filter(|s| s.draft && !self.opts.drafts)
            .map(|s| s.rel.clone())
            .collect();
        let studies: Vec<Arc<Study>> = all
            .into_iter()
            .filter(|s| !drafts.contains(&s.rel))
            .collect();

        // Markdown and links on one side, the indexes (site.toml and front
        // matter only) on the other: the indexes' serial stretches run while
        // the bodies keep the other core busy.
        let page_cache = self.page_cache;
        let last = self.last.as_ref();
        let (body_cache, resolved_cache) = (&mut self.cache, &mut self.resolved);
        let mut warnings = Vec::new();
        let (bodies, (indexes, same_metadata)) = rayon::join(
            || {
                let rendered = render_bodies(
                    page_cache.then_some(body_cache),
                    &studies,
                    config.allow_html,
                );
                resolve_bodies(
                    &config,
                    &studies,
                    rendered,
                    &drafts,
                    &mut diags,
                    &mut warnings,
                    page_cache.then_some(resolved_cache),
                )
            },
            || {
                // While neither changed (an edit to a body), `serve` keeps the last indexes.
                let unchanged = last.filter(|l| {
                    page_cache
                        && l.site.studies.len() == studies.len()
                        && serde_json::to_string(&l.site.config).is_ok_and(|c| c == config_json)
                        && studies
                            .par_iter()
                            .zip(&l.site.studies)
                            .all(|(a, b)| Arc::ptr_eq(a, b) || a.same_metadata(b))
                });
                match unchanged {
                    Some(last) => (Arc::clone(&last.site.indexes), true),
                    None => (Arc::new(build_indexes(&config, &studies)), false),
                }
            },
        );
        timer.lap("markdown, links and indexes");

        let errors: Vec<Diagnostic> = diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            let mut errors = errors;
            sort_diagnostics(&mut errors);
            return Err(Error::Content(errors));
        }
        // Bodies are rendered and every diagnostic is made: a one-shot build frees the Markdown.
        let mut studies = studies;
        if !self.page_cache {
            for s in &mut studies {
                if let Some(s) = Arc::get_mut(s) {
                    s.body = Arc::from("");
                }
            }
        }
        let site = Site {
            config,
            studies,
            bodies,
            indexes,
        };
        warnings.extend(content_warnings(&site, Date::today()));
        sort_diagnostics(&mut warnings);
        Ok((site, warnings, same_metadata))
    }
}

/// Each study's body as HTML; with a cache (`serve`), bodies rendered by the
/// last build are reused, and the cache is refilled with exactly this build's.
fn render_bodies(
    cache: Option<&mut HashMap<u64, Arc<Rendered>>>,
    studies: &[Arc<Study>],
    allow_html: bool,
) -> Vec<Arc<Rendered>> {
    let render = |s: &Arc<Study>| Arc::new(render_markdown(&s.body, &s.rel, allow_html));
    let Some(cache) = cache else {
        return studies
            .par_iter()
            .with_max_len(crate::PAR_CHUNK)
            .map(render)
            .collect();
    };
    let keys: Vec<u64> = studies.iter().map(|s| body_key(s, allow_html)).collect();
    let previous = &*cache;
    let rendered: Vec<Arc<Rendered>> = studies
        .par_iter()
        .zip(&keys)
        .map(|(s, key)| previous.get(key).map_or_else(|| render(s), Arc::clone))
        .collect();
    // Keep exactly what this build used, so the cache never outgrows the site.
    *cache = keys.into_iter().zip(rendered.iter().cloned()).collect();
    rendered
}

fn body_key(s: &Study, allow_html: bool) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // The same file text has the same body.
    (s.hash, s.rel.parent(), allow_html).hash(&mut h);
    h.finish()
}

fn report_failures(failures: Vec<Result<(), Error>>) -> Result<()> {
    let mut diags = Vec::new();
    for f in failures {
        match f {
            Err(Error::Content(d)) => diags.extend(d),
            Err(other) => return Err(other),
            Ok(()) => {}
        }
    }
    if diags.is_empty() {
        return Ok(());
    }
    sort_diagnostics(&mut diags);
    diags.dedup_by(|a, b| a.path == b.path && a.message == b.message);
    Err(Error::Content(diags))
}

/// Each study's card and row, through `card.html` and `row.html`.
fn render_snippets(
    templates: &Templates,
    contexts: &Contexts,
    studies: usize,
) -> Result<Vec<(String, String)>> {
    (0..studies)
        .into_par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map(|i| {
            let item = [("item".to_owned(), contexts.card(i))];
            let ctx =
                tera::Context::from_value(serde_json::Value::Object(item.into_iter().collect()))
                    .map_err(|e| snippet_error("card.html", &e))?;
            let render = |name: &str| {
                templates
                    .tera
                    .render(name, &ctx)
                    .map_err(|e| snippet_error(name, &e))
            };
            Ok((render("card.html")?, render("row.html")?))
        })
        .collect()
}

/// The header and footer of each nav section, through `header.html` and `footer.html`.
fn render_chrome(
    templates: &Templates,
    contexts: &Contexts,
    plans: &[PagePlan],
) -> Result<Vec<(ChromeKey, String, String)>> {
    contexts
        .chrome_contexts(plans)
        .into_par_iter()
        .map(|(key, value)| {
            let ctx =
                tera::Context::from_value(value).map_err(|e| snippet_error("header.html", &e))?;
            let render = |name: &str| {
                templates
                    .tera
                    .render(name, &ctx)
                    .map_err(|e| snippet_error(name, &e))
            };
            Ok((key, render("header.html")?, render("footer.html")?))
        })
        .collect()
}

/// Renders the chosen pages in parallel, streaming each to the sink; every failure is reported.
fn write_pages(
    templates: &Templates,
    contexts: &Contexts,
    plans: &[PagePlan],
    sink: &dyn Sink,
    chosen: impl Fn(&PagePlan) -> bool + Sync,
) -> Result<()> {
    // Each worker keeps one Tera context holding what every page shares (`site`);
    // a page's own keys are moved in for its render and taken out after it.
    // Study pages are taken grouped by practice, and the practice's summary
    // stays in the worker's context while its pages follow one another.
    // Pages render into the worker's one buffer, as bytes: Tera's output is
    // UTF-8 by construction and the sink takes bytes.
    let mut order: Vec<(Option<usize>, &PagePlan)> = plans
        .iter()
        .filter(|p| chosen(p))
        .map(|p| (contexts.page_practice(p), p))
        .collect();
    order.sort_by_key(|(practice, _)| *practice);
    let shared = || {
        (
            tera::Context::from_value(contexts.shared()),
            Vec::new(),
            None,
        )
    };
    let failures: Vec<Result<()>> = order
        .par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map_init(shared, |(ctx, buf, held), &(practice, plan)| {
            let ctx = ctx.as_mut().map_err(|e| template_error(plan, e))?;
            if practice != *held {
                match practice {
                    Some(pi) => {
                        let summary = [("practice".to_owned(), contexts.practice_summary(pi))];
                        ctx.extend(
                            tera::Context::from_value(serde_json::Value::Object(
                                summary.into_iter().collect(),
                            ))
                            .map_err(|e| template_error(plan, &e))?,
                        );
                    }
                    None => {
                        ctx.remove("practice");
                    }
                }
                *held = practice;
            }
            let own = contexts.context(plan);
            if own.contains_key("practice") {
                // This page's own `practice` replaces the held one and goes after it.
                *held = None;
            }
            let keys: Vec<String> = own.keys().cloned().collect();
            ctx.extend(
                tera::Context::from_value(serde_json::Value::Object(own))
                    .map_err(|e| template_error(plan, &e))?,
            );
            buf.clear();
            let rendered = templates.tera.render_to(plan.template, ctx, &mut *buf);
            for k in &keys {
                ctx.remove(k);
            }
            rendered.map_err(|e| template_error(plan, &e))?;
            sink.put(&route_file(&plan.route), buf)
        })
        .filter(Result::is_err)
        .collect();
    report_failures(failures)
}

fn snippet_error(template: &str, e: &tera::Error) -> Error {
    Error::Content(vec![Diagnostic::error(
        "broken-template",
        PathBuf::from(format!("templates/{template}")),
        0,
        0,
        format!("failed to render `{template}`: {}", error_chain(e)),
    )])
}

fn template_error(plan: &PagePlan, e: &tera::Error) -> Error {
    Error::Content(vec![Diagnostic::error(
        "broken-template",
        PathBuf::from(format!("templates/{}", plan.template)),
        0,
        0,
        format!(
            "failed to render `{}` (page `/{}`): {}",
            plan.template,
            plan.route,
            error_chain(e)
        ),
    )
    .with_help(
        "fix the template, or delete the site's copy to use the theme's",
    )])
}

/// Resolves each body's link tokens against the published routes, reporting missing files and anchors.
fn resolve_bodies(
    config: &Config,
    studies: &[Arc<Study>],
    rendered: Vec<Arc<Rendered>>,
    drafts: &HashSet<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
    cache: Option<&mut ResolvedCache>,
) -> Vec<Body> {
    // A body's links resolve the same way while its own render, its place in the
    // file, and every route, draft and heading set are unchanged. (Without a
    // cache, as in a one-shot build, no keys are needed.)
    let keys: Vec<u64> = if cache.is_some() {
        let env = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (&config.base_path, config.allow_html).hash(&mut h);
            for (s, r) in studies.iter().zip(&rendered) {
                (&s.rel, &s.route, r.anchors_key).hash(&mut h);
            }
            let mut d: Vec<&PathBuf> = drafts.iter().collect();
            d.sort();
            d.hash(&mut h);
            h.finish()
        };
        studies
            .iter()
            .zip(&rendered)
            .map(|(s, r)| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                (env, &s.path, s.body_line, s.hash, r.anchors_key).hash(&mut h);
                h.finish()
            })
            .collect()
    } else {
        vec![0; studies.len()]
    };
    let previous = cache.as_deref();
    let by_rel: rustc_hash::FxHashMap<&Path, usize> = studies
        .iter()
        .enumerate()
        .map(|(i, s)| (s.rel.as_path(), i))
        .collect();
    let results: Vec<(Arc<String>, Vec<Diagnostic>)> = studies
        .par_iter()
        .zip(&rendered)
        .zip(&keys)
        .with_max_len(crate::PAR_CHUNK)
        .map(|((s, r), key)| {
            if let Some(hit) = previous.and_then(|c| c.get(key)) {
                return hit.clone();
            }
            let mut problems = Vec::new();
            let at = |line: usize, column: usize, code: &'static str, message: String| {
                let mut d = Diagnostic::error(code, s.path.clone(), s.body_line + line, column, message);
                d.source_line = s.body.lines().nth(line).map(str::to_owned);
                d
            };
            for p in &r.problems {
                let mut d = at(p.line, p.column, p.code, p.message.clone()).with_help_opt(p.help.clone());
                if p.warning {
                    d.severity = Severity::Warning;
                }
                problems.push(d);
            }
            let html = resolve_links(&r.html, |n| {
                let link = r.links.get(n)?;
                let missing_anchor = |anchor: &str, target: &Rendered, shown: &str| {
                    let known: Vec<&str> = target.anchors.iter().map(String::as_str).collect();
                    at(link.line, link.column, "missing-anchor", format!("link `{}`: `{shown}` has no heading `#{anchor}`", link.written))
                        .with_help_opt(crate::error::suggestion(anchor, known).or_else(|| Some("link to one of the target's headings, written in lowercase with hyphens".into())))
                };
                match &link.target {
                    LinkTarget::Root(path) => Some(config.url(path)),
                    LinkTarget::SamePage(anchor) => {
                        if !r.anchors.contains(anchor) {
                            problems.push(missing_anchor(anchor, r, "this page"));
                        }
                        Some(format!("#{anchor}"))
                    }
                    LinkTarget::Content(path, anchor) => match by_rel.get(path.as_path()) {
                        Some(&j) => {
                            if let Some(a) = anchor {
                                if !rendered[j].anchors.contains(a) {
                                    problems.push(missing_anchor(a, &rendered[j], &format!("content/{}", path.display())));
                                }
                            }
                            let url = config.url(&studies[j].route);
                            Some(match anchor {
                                Some(a) => format!("{url}#{a}"),
                                None => url,
                            })
                        }
                        None => {
                            let (code, message, help) = if drafts.contains(path) {
                                ("link-to-draft", format!("link `{}` points to a draft, which this build leaves out", link.written), "publish the target (remove `draft: true`) or remove the link".to_owned())
                            } else {
                                let known: Vec<String> = by_rel.keys().map(|p| p.display().to_string()).collect();
                                let near = crate::error::did_you_mean(&path.display().to_string(), known.iter().map(String::as_str));
                                (
                                    "missing-link-target",
                                    format!("link `{}` points to `content/{}`, which does not exist", link.written, path.display()),
                                    near.map_or_else(|| "links are relative to this file; check the folder and file name".to_owned(), |n| format!("did you mean `content/{n}`?")),
                                )
                            };
                            problems.push(at(link.line, link.column, code, message).with_help(help));
                            None
                        }
                    },
                }
            });
            (Arc::new(html), problems)
        })
        .collect();
    if let Some(cache) = cache {
        *cache = keys.iter().copied().zip(results.iter().cloned()).collect();
    }
    let mut htmls = Vec::with_capacity(results.len());
    for (html, problems) in results {
        for p in problems {
            if p.severity == Severity::Warning {
                warnings.push(p);
            } else {
                diags.push(p);
            }
        }
        htmls.push(html);
    }
    // Keep the headings and text (shared with the render), not the token HTML.
    rendered
        .iter()
        .zip(htmls)
        .map(|(r, html)| Body {
            html,
            words: r.words,
            toc: Arc::clone(&r.toc),
            text: Arc::clone(&r.text),
        })
        .collect()
}

/// Warnings `check` reports: stale reviews, empty summaries, practices without playbooks or cases.
pub fn content_warnings(site: &Site, today: Date) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let limit = i64::from(site.config.stale_after_days);
    for s in &site.studies {
        if let Some(r) = s.reviewed {
            let age = today.days_since_epoch() - r.days_since_epoch();
            if age > limit {
                let (line, col) = s.position("reviewed");
                out.push(
                    Diagnostic::warning(
                        "stale-review",
                        s.path.clone(),
                        line,
                        col,
                        format!("last reviewed {r}, {age} days ago (more than {limit})"),
                    )
                    .with_help(format!(
                        "check the study is still accurate, then set `reviewed: {today}`"
                    )),
                );
            }
        }
        if s.summary.trim().is_empty() {
            let (line, col) = if s.positions.contains_key("summary") {
                s.position("summary")
            } else {
                (1, 1)
            };
            out.push(
                Diagnostic::warning("empty-summary", s.path.clone(), line, col, "no `summary`; lists, feeds and search results will show nothing under the title")
                    .with_help("add `summary:` with one or two sentences"),
            );
        }
    }
    for p in &site.indexes.practices {
        if p.playbook.is_none() {
            for &i in &p.cases {
                let s = &site.studies[i];
                let (line, col) = s.position("practice");
                out.push(
                    Diagnostic::warning(
                        "practice-without-playbook",
                        s.path.clone(),
                        line,
                        col,
                        format!("practice `{}` has no playbook yet", p.slug),
                    )
                    .with_help(format!(
                        "write one with `casebook new playbook \"…\" --practice {}`",
                        p.slug
                    )),
                );
            }
        }
        if p.cases.is_empty() {
            if let Some(pb) = p.playbook {
                let s = &site.studies[pb];
                let (line, col) = s.position("practice");
                out.push(Diagnostic::warning("playbook-without-cases", s.path.clone(), line, col, format!("no case study documents practice `{}`", p.slug)).with_help(format!(
                    "add a case study with `practice: {}`, or check the slug matches the case studies'",
                    p.slug
                )));
            }
        }
    }
    out
}

/// Feeds, sitemap, robots, exports, the syntax stylesheet and the search index.
fn extra_files(site: &Site, plans: &[PagePlan], with_search: bool) -> Vec<(String, String)> {
    let (mut files, search) = rayon::join(
        || exports(site, plans),
        || {
            if with_search {
                search::index_files(site)
            } else {
                Vec::new()
            }
        },
    );
    files.extend(search);
    files
}

/// Feeds, sitemaps, robots.txt, the replication exports and the syntax stylesheet.
fn exports(site: &Site, plans: &[PagePlan]) -> Vec<(String, String)> {
    let mut files = export::atom_feeds(site, None);
    let lastmod: HashMap<&str, String> = site
        .studies
        .iter()
        .filter_map(|s| Some((s.route.as_str(), s.last_modified()?.to_string())))
        .collect();
    let routes: Vec<(String, Option<String>)> = plans
        .iter()
        .filter(|p| p.route != "404.html")
        .map(|p| (p.route.clone(), lastmod.get(p.route.as_str()).cloned()))
        .collect();
    files.extend(export::sitemaps(site, &routes));
    files.push(("robots.txt".into(), export::robots(site)));
    files.push(("replication.csv".into(), export::replication_csv(site)));
    files.push(("replication.json".into(), export::replication_json(site)));
    files.push(("syntax.css".into(), highlight::stylesheet()));
    files
}

/// Static files: the embedded default theme's, the theme folder's, then the site's `static/`.
fn collect_static(paths: &SitePaths, config: &Config) -> Result<Vec<(String, Vec<u8>)>> {
    let canonical_root = std::fs::canonicalize(&paths.root).unwrap_or_else(|_| paths.root.clone());
    let mut files: BTreeMap<String, Vec<u8>> = DEFAULT_STATIC
        .iter()
        .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
        .collect();
    for dir in [
        paths.themes.join(&config.theme).join("static"),
        paths.static_dir.clone(),
    ] {
        if !dir.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| {
                Error::Content(vec![Diagnostic::error(
                    "unreadable-file",
                    dir.clone(),
                    0,
                    0,
                    format!("failed to read `{}`: {e}", dir.display()),
                )])
            })?;
            if !entry.file_type().is_file()
                || crate::source::is_ignored_name(&entry.file_name().to_string_lossy())
            {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&dir)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            let real = std::fs::canonicalize(entry.path())
                .map_err(crate::error::io_error("read", entry.path()))?;
            if !real.starts_with(&canonical_root) {
                let shown = entry
                    .path()
                    .strip_prefix(&paths.root)
                    .unwrap_or(entry.path())
                    .to_path_buf();
                return Err(Error::Content(vec![Diagnostic::error(
                    "symlink-outside-site",
                    shown.clone(),
                    0,
                    0,
                    format!(
                        "`{}` is a symbolic link to `{}`, outside the site",
                        shown.display(),
                        real.display()
                    ),
                )
                .with_help("copy the file into the site instead of linking to it")]));
            }
            let bytes = std::fs::read(entry.path())
                .map_err(crate::error::io_error("read", entry.path()))?;
            files.insert(rel, bytes);
        }
    }
    Ok(files.into_iter().collect())
}

/// Two outputs on one file (compared without case, as on macOS and Windows hosts) is an error.
fn check_collisions(
    site: &Site,
    plans: &[PagePlan],
    extra: &[(String, String)],
    statics: &[(String, Vec<u8>)],
) -> Result<()> {
    let mut owners: HashMap<String, (String, Option<usize>)> = HashMap::new();
    let mut diags = Vec::new();
    let study_of = |p: &PagePlan| match p.kind {
        crate::plan::PageKind::Study(i) => Some(i),
        _ => None,
    };
    let entries = plans
        .iter()
        .map(|p| (route_file(&p.route), study_of(p), format!("`/{}`", p.route)))
        .chain(
            extra
                .iter()
                .map(|(rel, _)| (rel.clone(), None, format!("generated `{rel}`"))),
        )
        .chain(
            statics
                .iter()
                .map(|(rel, _)| (rel.clone(), None, format!("static file `{rel}`"))),
        );
    for (file, study, what) in entries {
        let key = file.to_lowercase();
        match owners.get(&key).cloned() {
            None => {
                owners.insert(key, (what, study));
            }
            Some((first, first_study)) => {
                let (culprit, other) = match (study, first_study) {
                    (Some(i), _) => (Some(i), first.clone()),
                    (None, Some(j)) => (Some(j), what.clone()),
                    (None, None) => (None, first.clone()),
                };
                let d = match culprit {
                    Some(i) => {
                        let s = &site.studies[i];
                        let (line, col) = if s.positions.contains_key("slug") {
                            s.position("slug")
                        } else {
                            (1, 1)
                        };
                        let other = if let Some(j) = first_study.filter(|j| Some(*j) != culprit) {
                            format!("`{}`", site.studies[j].path.display())
                        } else {
                            other
                        };
                        Diagnostic::error(
                            "duplicate-url",
                            s.path.clone(),
                            line,
                            col,
                            format!(
                                "`{}` would be written to `/{}`, which {} also uses",
                                s.path.display(),
                                s.route,
                                other
                            ),
                        )
                        .with_help("give one of them a different `slug:` or file name")
                    }
                    None => Diagnostic::error(
                        "duplicate-url",
                        "static",
                        0,
                        0,
                        format!("{what} would overwrite {first}"),
                    )
                    .with_help("rename or remove the static file"),
                };
                diags.push(d);
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        sort_diagnostics(&mut diags);
        Err(Error::Content(diags))
    }
}
