//! casebook: a static-site generator for sharing, replicating and scaling
//! climate-innovation practice between cities.
//!
//! Authors write case studies, replication playbooks and structural-challenge
//! studies in Markdown with YAML front matter; casebook validates them against
//! the site's cities and themes, renders them through Tera templates, and
//! builds the cross-city indexes that show which practice was piloted,
//! replicated and scaled where.
//!
//! ```no_run
//! use casebook::{BuildOptions, Session};
//! let report = Session::new(BuildOptions::new("my-site")).build()?;
//! println!("{} pages", report.pages);
//! # Ok::<(), casebook::Error>(())
//! ```

// Diagnostics travel in `Err` on the cold path only; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub mod build;
pub mod config;
pub mod context;
pub mod date;
pub mod error;
pub mod export;
pub mod front_matter;
pub mod highlight;
pub mod index;
pub mod markdown;
pub mod model;
pub mod output;
pub mod plan;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod site;
pub mod source;
pub mod svg;
pub mod templates;
pub mod text;
pub mod watch;

pub use build::{BuildOptions, Report, Session};
pub use error::{Diagnostic, Error, Result, Severity};

/// The most items of a per-file parallel loop one rayon job takes. Left to
/// itself rayon splits a loop only when a thread runs out of work, so the last
/// job could hold a thousand pages that one core rendered while the other
/// waited: 60 ms of Markdown and 140 ms of pages at 10k. Jobs this small keep
/// both cores busy to the end, for a job set-up every 64 items.
pub(crate) const PAR_CHUNK: usize = 64;
