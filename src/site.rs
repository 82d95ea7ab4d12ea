//! What one build knows once content is loaded: the config, the published
//! studies with their rendered bodies, and the indexes over them.

use std::sync::Arc;

use crate::config::Config;
use crate::index::Indexes;
use crate::markdown::Heading;
use crate::model::Study;

/// A study's body, rendered and with its links resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// Final HTML.
    pub html: Arc<String>,
    /// Word count, for reading time.
    pub words: usize,
    /// `##`/`###` headings for the table of contents.
    pub toc: Arc<[Heading]>,
    /// Plain text, for the search index.
    pub text: Arc<String>,
}

impl Body {
    /// `##`/`###` headings for the table of contents.
    pub fn toc(&self) -> &[Heading] {
        &self.toc
    }

    /// Plain text, for the search index.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A loaded, validated site, ready to plan and render.
#[derive(Debug, Clone)]
pub struct Site {
    /// site.toml, with any `--base-url` applied.
    pub config: Config,
    /// Published studies and pages, sorted by source path.
    pub studies: Vec<Arc<Study>>,
    /// `bodies[i]` belongs to `studies[i]`.
    pub bodies: Vec<Body>,
    /// Cross-city indexes.
    pub indexes: Arc<Indexes>,
}
