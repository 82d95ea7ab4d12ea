//! Arbitrary bytes through everything a content file meets: decoding,
//! front-matter splitting, YAML, validation, Markdown with link rewriting,
//! and diagnostic rendering. Any panic is a bug, as is the fast front-matter
//! reader giving a value serde_yaml would not.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use casebook::config::{parse_config, Config};
use casebook::front_matter::{parse_simple, parse_yaml_library};
use casebook::markdown::{render_markdown, resolve_links};
use casebook::model::parse_study;
use casebook::source::{decode, SourceFile};
use libfuzzer_sys::fuzz_target;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        parse_config(
            "title = \"Fuzz\"\nbase_url = \"https://e.org/sub/\"\n\
             [[cities]]\nkey = \"edinburgh\"\nname = \"Edinburgh\"\ncountry = \"UK\"\n\
             [[cities]]\nkey = \"london\"\nname = \"London\"\ncountry = \"UK\"\n\
             [[themes]]\nkey = \"heat\"\nname = \"Heat\"\n",
        )
        .expect("fuzz config is valid")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = match decode(data.to_vec()) {
        Ok(t) => t,
        Err((offset, before)) => {
            let _ = casebook::text::line_col(&before, offset);
            return;
        }
    };
    // The fast front-matter reader never disagrees with serde_yaml, on the
    // whole input or on the part between its fences.
    let fenced = text
        .strip_prefix("---\n")
        .and_then(|t| t.split("\n---\n").next())
        .map(|y| format!("{y}\n"));
    for yaml in [Some(&text), fenced.as_ref()].into_iter().flatten() {
        if let Some(fast) = parse_simple(yaml) {
            assert_eq!(Ok(fast), parse_yaml_library(yaml), "{yaml:?}");
        }
    }
    let file = SourceFile {
        path: PathBuf::from("content/case-studies/fuzz.md"),
        rel: PathBuf::from("case-studies/fuzz.md"),
        text,
        hash: 0,
    };
    let body = match parse_study(&file, config()) {
        Ok(study) => study.body,
        Err(diags) => {
            for d in &diags {
                let _ = d.render(true);
            }
            std::sync::Arc::from(file.text.as_str())
        }
    };
    for allow_html in [false, true] {
        let rendered = render_markdown(&body, &file.rel, allow_html);
        let html = resolve_links(&rendered.html, |i| rendered.links.get(i).map(|l| format!("/sub/{}", l.written)));
        assert!(!html.contains("=\"casebook:link:"), "every link token is resolved");
    }
});
