//! Rules for names people read and trust: display names, channel names, file names and
//! reactions. A name must not look like something it is not, so characters that are invisible
//! or that reorder the text around them are refused (names people type) or removed (file names,
//! which come from devices), and a word that mixes look-alike alphabets ("gеneral" with a
//! Cyrillic "е") is refused. Whole words in one alphabet are fine in any alphabet, and separate
//! words may use different ones ("Штаб HQ").

use unicode_script::{Script, UnicodeScript};

/// Why a name was refused. The messages are shown to people as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} cannot contain invisible or text-direction characters (found U+{code:04X})")]
    Hidden { what: &'static str, code: u32 },
    #[error(
        "{what} cannot mix {first} and {second} letters in one word, since such a word can \
         pass for another; write each word in one alphabet"
    )]
    MixedScript {
        what: &'static str,
        first: &'static str,
        second: &'static str,
    },
    #[error("{what} can only use ordinary spaces between words (found U+{code:04X})")]
    Spacing { what: &'static str, code: u32 },
}

impl TextError {
    /// The refusal as a client translates it; `field` is the request field that held the name.
    pub fn problem(&self, field: &'static str) -> crate::problem::Problem {
        use crate::problem::Problem;
        let code = |c: u32| format!("U+{c:04X}");
        match self {
            TextError::Hidden { code: c, .. } => {
                Problem::new("hidden-characters", self.to_string()).param("char", code(*c))
            }
            TextError::MixedScript { first, second, .. } => {
                Problem::new("mixed-script", self.to_string())
                    .param("first", *first)
                    .param("second", *second)
            }
            TextError::Spacing { code: c, .. } => {
                Problem::new("odd-spacing", self.to_string()).param("char", code(*c))
            }
        }
        .field(field)
    }
}

/// Characters that display as nothing, or that change the direction or shaping of the text
/// around them. This is the Unicode "Cf" (format) category, plus the invisible characters of
/// other categories: variation selectors, the combining grapheme joiner, Hangul fillers, line
/// and paragraph separators and Khmer inherent vowels.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD // soft hyphen
            | 0x034F // combining grapheme joiner
            | 0x0600..=0x0605
            | 0x061C // Arabic letter mark
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160 // Hangul fillers
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F // Mongolian variation selectors and vowel separator
            | 0x200B..=0x200F // zero-width space, (non-)joiners, LRM, RLM
            | 0x2028..=0x202E // separators, bidi embeddings and overrides
            | 0x2060..=0x206F // word joiner, invisible operators, bidi isolates
            | 0x3164 // Hangul filler
            | 0xFE00..=0xFE0F // variation selectors
            | 0xFEFF // zero-width no-break space (BOM)
            | 0xFFA0 // halfwidth Hangul filler
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE007F // tags
            | 0xE0100..=0xE01EF // variation selectors supplement
    )
}

/// The longest emoji sequence that starts `s`, as its byte length. Emoji sequences legitimately
/// carry joiners (👩‍💻), variation selectors (❤️) and tags (🏴󠁧󠁢󠁳󠁣󠁴󠁿), so these are allowed inside a
/// recognised sequence and nowhere else.
fn emoji_prefix(s: &str) -> Option<usize> {
    // The longest sequences (families with skin tones) have 10 code points; tag flags 7.
    let ends: Vec<usize> = s
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .take(16)
        .collect();
    ends.into_iter()
        .rev()
        .find(|&end| emojis::get(&s[..end]).is_some())
}

/// Walks `s` in pieces (a complete emoji sequence, or one character), telling `on` whether
/// each piece is a hidden character.
fn scan(s: &str, allow_emoji: bool, mut on: impl FnMut(&str, bool)) {
    let mut i = 0;
    while let Some(c) = s[i..].chars().next() {
        if allow_emoji && !c.is_ascii() {
            if let Some(n) = emoji_prefix(&s[i..]) {
                on(&s[i..i + n], false);
                i += n;
                continue;
            }
        }
        let n = c.len_utf8();
        on(&s[i..i + n], is_hidden(c));
        i += n;
    }
}

/// Scripts whose letters pass for each other's.
fn confusable_script(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    match c.script() {
        s @ (Script::Latin
        | Script::Greek
        | Script::Cyrillic
        | Script::Armenian
        | Script::Cherokee) => Some(s),
        _ => None,
    }
}

/// Refuses a word mixing the letters of look-alike alphabets. Words are split at anything that
/// is not a letter, digit or combining mark.
fn check_scripts(what: &'static str, s: &str) -> Result<(), TextError> {
    let in_word = |c: char| c.is_alphanumeric() || c.script() == Script::Inherited;
    for word in s.split(|c: char| !in_word(c)) {
        let mut first: Option<Script> = None;
        for script in word.chars().filter_map(confusable_script) {
            match first {
                None => first = Some(script),
                Some(f) if f != script => {
                    return Err(TextError::MixedScript {
                        what,
                        first: f.full_name(),
                        second: script.full_name(),
                    })
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Checks a name people type and others read (`what` names it in the error, e.g. "a display
/// name"). `allow_emoji` lets complete emoji sequences, with their joiners, through.
pub fn check_name(what: &'static str, s: &str, allow_emoji: bool) -> Result<(), TextError> {
    let mut found = None;
    scan(s, allow_emoji, |piece, hidden| {
        if hidden && found.is_none() {
            found = piece.chars().next();
        }
    });
    if let Some(c) = found {
        return Err(TextError::Hidden {
            what,
            code: c as u32,
        });
    }
    // A thin or hair space splits a look-alike word in two for the script check while it
    // still reads as one word ("payp\u{200A}а\u{200A}l").
    if let Some(c) = s.chars().find(|c| c.is_whitespace() && *c != ' ') {
        return Err(TextError::Spacing {
            what,
            code: c as u32,
        });
    }
    check_scripts(what, s)
}

/// Removes hidden characters, keeping complete emoji sequences: for names that arrive from
/// devices (file names), where refusing would only lose the upload.
pub fn strip_hidden(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    scan(s, true, |piece, hidden| {
        if !hidden {
            for c in piece.chars() {
                out.push(if c.is_whitespace() && !c.is_control() {
                    ' '
                } else {
                    c
                });
            }
        }
    });
    out
}

/// The search form of a lower-case word: its Snowball stem, Russian for Cyrillic words and
/// English for the rest ("колонну" and "колонна" → "колон", "convoys" → "convoy"), with "ё"
/// read as "е". Digits and mixed tokens pass through the English stemmer unchanged.
pub fn stem(word: &str) -> String {
    use rust_stemmers::{Algorithm, Stemmer};
    use std::sync::OnceLock;
    static RU: OnceLock<Stemmer> = OnceLock::new();
    static EN: OnceLock<Stemmer> = OnceLock::new();
    let word = word.replace('ё', "е");
    let cyrillic = word.chars().any(|c| matches!(c, '\u{0400}'..='\u{04FF}'));
    let stemmer = if cyrillic {
        RU.get_or_init(|| Stemmer::create(Algorithm::Russian))
    } else {
        EN.get_or_init(|| Stemmer::create(Algorithm::English))
    };
    stemmer.stem(&word).into_owned()
}

/// The words of a text as search indexes them: lower case, stemmed, separated by spaces.
pub fn search_text(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The canonical form of `s` if it is exactly one emoji (with any skin tone, joiner sequence or
/// flag), so the same reaction written with or without its variation selector counts once.
pub fn single_emoji(s: &str) -> Option<&'static str> {
    emojis::get(s).map(|e| e.as_str())
}

/// What a message says without its Markdown: `**urgent**` reads "urgent" and
/// `[the map](https://…)` reads "the map". For excerpts shown as plain text (search snippets),
/// where the markup would be noise and a cut could leave half of it. Markup that the web UI
/// shows as typed (HTML) stays text.
pub fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, TagEnd};
    let mut out = String::with_capacity(markdown.len());
    let space = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(char::is_whitespace) {
            out.push(' ');
        }
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule => space(&mut out),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::Heading(_)
                | TagEnd::BlockQuote(_),
            ) => space(&mut out),
            _ => {}
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_forms_meet_at_their_stem() {
        for (a, b) in [
            ("колонну", "колонна"),
            ("рация", "рации"),
            ("convoys", "convoy"),
            ("ёлка", "елки"),
            ("generators", "generator"),
        ] {
            assert_eq!(stem(a), stem(b), "{a} / {b}");
        }
        assert_ne!(stem("колонна"), stem("колено"));
        assert_eq!(
            search_text("Колонна ВЫШЛА, convoys: 3!"),
            "колон вышл convoy 3"
        );
    }

    const NAME: &str = "a name";

    fn hidden(s: &str) -> bool {
        matches!(check_name(NAME, s, true), Err(TextError::Hidden { .. }))
    }

    fn mixed(s: &str) -> bool {
        matches!(
            check_name(NAME, s, true),
            Err(TextError::MixedScript { .. })
        )
    }

    #[test]
    fn bidi_and_invisible_characters_are_refused() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{2060}',
            '\u{2061}',
            '\u{2064}',
            '\u{FEFF}',
            '\u{00AD}',
            '\u{FE0F}',
            '\u{FE00}',
            '\u{E0001}',
            '\u{E0041}',
            '\u{180E}',
            '\u{3164}',
            '\u{2028}',
            '\u{034F}',
            '\u{E0100}',
        ] {
            let s = format!("ad{c}min");
            assert!(hidden(&s), "U+{:04X}", c as u32);
            assert!(!strip_hidden(&s).contains(c), "U+{:04X}", c as u32);
        }
        assert_eq!(
            check_name("a display name", "x\u{202E}y", false),
            Err(TextError::Hidden {
                what: "a display name",
                code: 0x202E
            })
        );
    }

    #[test]
    fn emoji_sequences_keep_their_joiners_but_lone_joiners_do_not_pass() {
        for ok in [
            "Ana 👩‍💻",
            "❤️ team",
            "👍🏽",
            "👨‍👩‍👧‍👦 family",
            "🏳️‍🌈",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scot",
            "🇫🇷",
        ] {
            assert_eq!(check_name(NAME, ok, true), Ok(()), "{ok}");
            assert_eq!(strip_hidden(ok), ok);
        }
        assert!(hidden("a\u{200D}b"));
        assert!(hidden("👩\u{200D}"));
        assert!(hidden("x\u{FE0F}"));
        assert!(hidden("Ana a\u{200D}💻"));
        // Emoji only count where they are allowed.
        assert!(matches!(
            check_name(NAME, "👩‍💻", false),
            Err(TextError::Hidden { code: 0x200D, .. })
        ));
        assert_eq!(strip_hidden("report\u{202E}fdp.exe"), "reportfdp.exe");
    }

    #[test]
    fn words_mixing_look_alike_alphabets_are_refused() {
        assert!(mixed("g\u{0435}neral"));
        assert!(mixed("pаypal"));
        assert!(mixed("Ωmega-ok"));
        assert!(mixed("Μoscow")); // Greek capital mu
        assert_eq!(
            check_name("a channel name", "g\u{0435}neral", false),
            Err(TextError::MixedScript {
                what: "a channel name",
                first: "Latin",
                second: "Cyrillic"
            })
        );
        for ok in [
            "general",
            "Оперативный штаб",
            "Штаб HQ",
            "ops-штаб",
            "Ελληνικά",
            "café au lait",
            "cafe\u{0301}",
            "東京タワー",
            "Team 7",
            "Zoë",
            "",
        ] {
            assert_eq!(check_name(NAME, ok, true), Ok(()), "{ok}");
        }
    }

    #[test]
    fn a_reaction_is_exactly_one_emoji_in_canonical_form() {
        assert_eq!(single_emoji("👍"), Some("👍"));
        assert_eq!(single_emoji("👍🏿"), Some("👍🏿"));
        assert_eq!(single_emoji("👩‍💻"), Some("👩‍💻"));
        assert_eq!(single_emoji("🇯🇵"), Some("🇯🇵"));
        assert!(single_emoji("❤").is_some());
        for bad in [
            "+1",
            ":thumbsup:",
            "a",
            "👍👍",
            "👍 ",
            "\u{200D}",
            "",
            "\u{FE0F}",
        ] {
            assert_eq!(single_emoji(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn thin_spaces_cannot_split_a_look_alike_word() {
        assert!(matches!(
            check_name("a channel name", "payp\u{200A}\u{0430}\u{200A}l", false),
            Err(TextError::Spacing { .. })
        ));
        assert!(check_name(
            "a channel name",
            "\u{0448}\u{0442}\u{0430}\u{0431} HQ",
            false
        )
        .is_ok());
        assert_eq!(strip_hidden("a\u{2009}b.txt"), "a b.txt");
    }

    #[test]
    fn plain_text_reads_the_markdown() {
        assert_eq!(
            plain_text("**urgent**: see _the_ ~~old~~ map"),
            "urgent: see the old map"
        );
        assert_eq!(
            plain_text("[the map](https://10.0.0.5/m) `grid-7`"),
            "the map grid-7"
        );
        assert_eq!(plain_text("> quoted\n\n- one\n- two"), "quoted one two");
        assert_eq!(plain_text("```\nlet x = 1;\n```"), "let x = 1;");
        assert_eq!(plain_text("a\\*b\\* <b>bold?</b>"), "a*b* <b>bold?</b>");
        assert_eq!(plain_text("<script>x</script>"), "<script>x</script>");
        assert_eq!(plain_text(""), "");
    }
}
