//! Small text helpers shared by every stage: slugs, positions, humanised names.

/// A URL-safe slug: lowercase ASCII letters, digits and single hyphens.
pub fn slugify(s: &str) -> String {
    slug::slugify(s)
}

/// 1-based (line, column in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `retrofit-accelerator` -> `Retrofit accelerator`.
pub fn humanise(slug: &str) -> String {
    let words = slug.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Escapes text for HTML and XML content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_html_into(&mut out, s);
    out
}

/// Eight bytes at a time in a `u64` ("SWAR"): each test sets the high bit of
/// every byte that passes it, so `trailing_zeros() / 8` finds the first and
/// `count_ones()` counts them.
pub(crate) mod swar {
    /// 0x01 in every byte.
    pub const ONES: u64 = 0x0101_0101_0101_0101;
    /// The high bit of every byte.
    pub const HIGH: u64 = 0x8080_8080_8080_8080;

    /// The eight bytes from `i`, little-endian (byte `i` lowest), if there are eight.
    #[inline]
    pub fn block(bytes: &[u8], i: usize) -> Option<u64> {
        bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
            .map(u64::from_le_bytes)
    }

    /// Bytes equal to `b` (exact for every byte value).
    #[inline]
    pub fn equal(x: u64, b: u8) -> u64 {
        let t = x ^ (ONES * u64::from(b));
        !(((t & !HIGH) + !HIGH) | t) & HIGH
    }

    /// Bytes in `lo..=hi`, for `x` of ASCII bytes only (`x & HIGH == 0`): no
    /// byte of these sums then carries into the next.
    #[inline]
    pub fn within(x: u64, lo: u8, hi: u8) -> u64 {
        (x + ONES * u64::from(0x80 - lo)) & !(x + ONES * u64::from(0x7f - hi)) & HIGH
    }
}

/// Appends `s` to `out`, escaped as [`escape_html`] does. Eight bytes are
/// tested at once for the five special characters; clean runs are copied whole.
pub fn escape_html_into(out: &mut String, s: &str) {
    const ENTITIES: [&str; 6] = ["", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];
    /// Each byte's index in `ENTITIES`; 0 for bytes copied as they are.
    static ENTITY: [u8; 256] = {
        let mut t = [0; 256];
        t[b'&' as usize] = 1;
        t[b'<' as usize] = 2;
        t[b'>' as usize] = 3;
        t[b'"' as usize] = 4;
        t[b'\'' as usize] = 5;
        t
    };
    use swar::{equal, ONES};
    out.reserve(s.len());
    let bytes = s.as_bytes();
    let (mut clean, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(x) = swar::block(bytes, i) {
            // `<` and `>` are 0x3C and 0x3E: both are 0x3E with bit 1 set.
            let special =
                equal(x | (ONES * 2), b'>') | equal(x, b'&') | equal(x, b'"') | equal(x, b'\'');
            if special == 0 {
                i += 8;
                continue;
            }
            i += special.trailing_zeros() as usize / 8;
        }
        let entity = ENTITY[usize::from(bytes[i])];
        if entity != 0 {
            out.push_str(&s[clean..i]);
            out.push_str(ENTITIES[usize::from(entity)]);
            clean = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[clean..]);
}

/// Appends `s` to `out`, with each ASCII byte `with` maps replaced. Clean runs
/// are copied whole; an ASCII byte is never part of a multi-byte character.
pub fn replace_ascii_into(out: &mut String, s: &str, with: impl Fn(u8) -> Option<&'static str>) {
    let mut clean = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(replacement) = with(b) {
            out.push_str(&s[clean..i]);
            out.push_str(replacement);
            clean = i + 1;
        }
    }
    out.push_str(&s[clean..]);
}

/// The number of whitespace-separated words, as `text.split_whitespace().count()`
/// gives, several times faster. Eight ASCII bytes are classified at once in a
/// `u64`; other bytes go through a table, and only the lead bytes of Unicode's
/// non-ASCII spaces (C2, E1, E2, E3) are decoded.
pub fn count_words(text: &str) -> usize {
    const fn classes() -> [u8; 256] {
        let mut t = [WORD; 256];
        // ASCII's `char::is_whitespace`: tab, line feed, vertical tab, form feed,
        // carriage return and space.
        let mut b = 9;
        while b <= 13 {
            t[b] = SPACE;
            b += 1;
        }
        t[b' ' as usize] = SPACE;
        t[0xC2] = DECODE;
        t[0xE1] = DECODE;
        t[0xE2] = DECODE;
        t[0xE3] = DECODE;
        t
    }
    const WORD: u8 = 0;
    const SPACE: u8 = 1;
    const DECODE: u8 = 2;
    static CLASS: [u8; 256] = classes();
    use swar::HIGH;
    let bytes = text.as_bytes();
    let (mut words, mut after_space, mut i) = (0, SPACE, 0);
    while i < bytes.len() {
        if let Some(x) = swar::block(bytes, i) {
            if x & HIGH == 0 {
                // A space is 0x20, or 9 to 13; a word starts after one.
                let space = swar::equal(x, b' ') | swar::within(x, 9, 13);
                let space_before = (space << 8) | (u64::from(after_space) << 7);
                words += (!space & HIGH & space_before).count_ones() as usize;
                after_space = (space >> 63) as u8;
                i += 8;
                continue;
            }
        }
        let mut class = CLASS[usize::from(bytes[i])];
        if class == DECODE {
            let c = text[i..].chars().next().unwrap_or('x');
            class = if c.is_whitespace() { SPACE } else { WORD };
            i += c.len_utf8() - 1;
        }
        words += usize::from(after_space & !class & 1);
        after_space = class;
        i += 1;
    }
    words
}

/// `count` texts of up to `most` pieces each, drawn from `pieces` by a fixed
/// pseudo-random sequence: test input that crosses every block edge.
#[cfg(test)]
pub(crate) fn mixes(pieces: &[&str], most: u64, count: usize) -> Vec<String> {
    let mut seed = 7u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    (0..count)
        .map(|_| {
            (0..next() % (most + 1))
                .map(|_| pieces[next() as usize % pieces.len()])
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_hyphenated() {
        assert_eq!(slugify("Heat Pumps in München!"), "heat-pumps-in-munchen");
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
    }

    #[test]
    fn line_col_counts_characters() {
        let t = "ab\ncé d\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 7), (2, 4));
    }

    #[test]
    fn escapes_the_five_html_characters_and_nothing_else() {
        assert_eq!(
            escape_html("a<b>&\"c\" 'd' é→"),
            "a&lt;b&gt;&amp;&quot;c&quot; &#39;d&#39; é→"
        );
        assert_eq!(escape_html(""), "");
        // Every byte, at every offset of an eight-byte block, beside clean text.
        let naive = |s: &str| {
            s.chars()
                .map(|c| match c {
                    '&' => "&amp;".to_owned(),
                    '<' => "&lt;".to_owned(),
                    '>' => "&gt;".to_owned(),
                    '"' => "&quot;".to_owned(),
                    '\'' => "&#39;".to_owned(),
                    c => c.to_string(),
                })
                .collect::<String>()
        };
        for c in (0..=0x7f_u8).map(char::from).chain(['é', '€', '\u{1F600}']) {
            for at in 0..17 {
                let text = format!("{}{c}{}", "x".repeat(at), "y=;?".repeat(at % 5));
                assert_eq!(escape_html(&text), naive(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn word_counts_match_split_whitespace() {
        for text in [
            "",
            "  ",
            "a",
            " two  words ",
            "tab\tand\nline",
            "no\u{a0}break em\u{2003}space é",
            "\u{85}next\u{1680}ogham\u{3000}ideographic\u{2029}para\u{e9}",
            "ü€\u{1F600} 😀x",
            "\u{b}vt\u{c}ff\r\ncrlf\u{1f}unit-separator",
            "x-y_z 2021",
            "eight ch\tnine\u{b}ch\u{c}ars\r\n   \x1f\x08\x0e~!  and é\u{2003}more words past one block",
        ] {
            assert_eq!(
                count_words(text),
                text.split_whitespace().count(),
                "{text:?}"
            );
        }
        // Every mix of words and spaces across eight-byte blocks.
        let pieces = [
            "a", "bc", " ", "\t", "\n", "\r\n", "\u{b}", "\u{c}", "é", "\u{a0}", "\u{2003}",
            "\u{1f}", "\u{e}", "\u{8}", "~",
        ];
        for text in mixes(&pieces, 40, 3000) {
            assert_eq!(
                count_words(&text),
                text.split_whitespace().count(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn humanises_slugs() {
        assert_eq!(humanise("retrofit-accelerator"), "Retrofit accelerator");
    }
}
