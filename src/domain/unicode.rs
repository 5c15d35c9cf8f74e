//! The Unicode rules behind names (docs/API.md, Limits): user names are NFC,
//! visible, of one script (UTS #39 "highly restrictive") and unique by the
//! confusable skeleton of their case folding; channel text has no control
//! or format characters.

use icu_casemap::CaseMapper;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};
use unicode_normalization::UnicodeNormalization;
use unicode_script::Script;
use unicode_security::mixed_script::AugmentedScriptSet;

/// Longest user name, in Unicode scalar values after NFC.
pub const USER_NAME_MAX: usize = 64;

/// A raw input longer than this many bytes cannot be a valid user name: one
/// NFC character decomposes into at most 4 code points (4 bytes each), so a
/// valid name's raw form is at most 64 * 4 * 4 = 1024 bytes. Checked before
/// normalizing so that huge inputs are turned down cheaply.
const USER_NAME_RAW_MAX_BYTES: usize = USER_NAME_MAX * 16;

/// Control (Cc) or format (Cf) character.
pub fn is_control_or_format(c: char) -> bool {
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::Control | GeneralCategory::Format
    )
}

/// Control, format, or other Default_Ignorable_Code_Point (zero-width
/// characters, bidi controls, variation selectors, Hangul fillers U+115F,
/// U+1160, U+3164, U+FFA0, ...).
pub fn is_invisible(c: char) -> bool {
    is_control_or_format(c) || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
}

/// UTS #39 "highly restrictive" script check, without the identifier-profile
/// gate of `unicode_security::RestrictionLevelDetection` (which would refuse
/// spaces and most punctuation). Common and Inherited characters (digits,
/// punctuation, spaces, combining marks) match every script. Accepted: one
/// script (by Script_Extensions, augmented with Jpan/Kore/Hanb), or Latin plus
/// one of Han+Hiragana+Katakana, Han+Bopomofo, Han+Hangul. Same logic as
/// unicode-security 0.1.3 `detect_restriction_level`.
fn is_highly_restrictive(s: &str) -> bool {
    let mut all = AugmentedScriptSet::default();
    let mut non_latin = AugmentedScriptSet::default();
    for c in s.chars() {
        let set = AugmentedScriptSet::for_char(c);
        all.intersect_with(set);
        if !set.base.contains_script(Script::Latin) {
            non_latin.intersect_with(set);
        }
    }
    !all.is_empty() || non_latin.jpan || non_latin.hanb || non_latin.kore
}

/// Validates a user name; returns its NFC form (the form to store) or a
/// short reason.
pub fn user_name(raw: &str) -> Result<String, &'static str> {
    const LENGTH: &str = "must be 1 to 64 characters";
    if raw.len() > USER_NAME_RAW_MAX_BYTES {
        return Err(LENGTH);
    }
    let name: String = raw.nfc().collect();
    let len = name.chars().count();
    if len == 0 || len > USER_NAME_MAX {
        return Err(LENGTH);
    }
    if name.chars().any(is_invisible) {
        return Err("must not contain control, format or invisible characters");
    }
    let starts_ws = name.chars().next().is_some_and(char::is_whitespace);
    let ends_ws = name.chars().next_back().is_some_and(char::is_whitespace);
    if starts_ws || ends_ws {
        return Err("must not start or end with whitespace");
    }
    if !is_highly_restrictive(&name) {
        return Err("must not mix scripts");
    }
    Ok(name)
}

/// Uniqueness key of a (valid, NFC) user name: the UTS #39 confusable
/// skeleton of its full Unicode case folding (canonical caseless form
/// `toCasefold(NFD(name))`). `admin`, `Admin` and `аdmin` share one key.
/// The key is for comparison only, never for display.
pub fn name_key(nfc_name: &str) -> String {
    let nfd: String = nfc_name.nfd().collect();
    let folded = CaseMapper::new().fold_string(&nfd);
    unicode_security::skeleton(&folded).collect()
}

/// What names are sorted and matched by when people look for someone:
/// without case or diacritics (`Émile` as `emile`).
pub fn sort_key(s: &str) -> String {
    let marks = CodePointMapData::<GeneralCategory>::new();
    let bare: String = s
        .nfd()
        .filter(|c| marks.get(*c) != GeneralCategory::NonspacingMark)
        .collect();
    bare.to_lowercase()
}

/// Whether `c` belongs inside a word, as the search index splits text:
/// letters, digits and the marks that go with them.
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::NonspacingMark
                | GeneralCategory::SpacingMark
                | GeneralCategory::EnclosingMark
        )
}

/// Channel name / description character check: no control (Cc) or format
/// (Cf) characters, except `\n` and `\t` when `allow_newline_tab`.
pub fn channel_text_ok(s: &str, allow_newline_tab: bool) -> bool {
    s.chars()
        .all(|c| (allow_newline_tab && (c == '\n' || c == '\t')) || !is_control_or_format(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVISIBLE: &str = "must not contain control, format or invisible characters";

    #[test]
    fn confusable_and_case_variants_share_a_key() {
        let k = name_key("admin");
        assert_eq!(name_key("Admin"), k);
        assert_eq!(name_key("ADMIN"), k);
        assert_eq!(name_key("\u{0430}dmin"), k); // Cyrillic а
        assert_ne!(name_key("admins"), k);
        // Full case folding, not just lowercasing.
        assert_eq!(name_key("Straße"), name_key("STRASSE"));
    }

    #[test]
    fn invisible_characters_rejected() {
        for s in [
            "admin\u{200B}",
            "\u{202E}admin",
            "ad\u{2066}min",
            "\u{3164}",
            "a\u{115F}b",
            "a\u{1160}b",
            "a\u{FFA0}b",
            "ad\u{00AD}min",
            "ad\u{0000}min",
            "ad\u{001B}min",
            "ad\u{007F}min",
            "a\u{FEFF}",
        ] {
            assert_eq!(user_name(s), Err(INVISIBLE), "{s:?}");
        }
    }

    #[test]
    fn composed_and_decomposed_are_the_same_name() {
        let composed = user_name("adm\u{00ED}n").unwrap();
        let decomposed = user_name("admi\u{0301}n").unwrap();
        assert_eq!(composed, "adm\u{00ED}n");
        assert_eq!(composed, decomposed);
        assert_eq!(name_key(&composed), name_key(&decomposed));
    }

    #[test]
    fn length_limits() {
        const LENGTH: &str = "must be 1 to 64 characters";
        assert!(user_name(&"a".repeat(64)).is_ok());
        assert_eq!(user_name(&"a".repeat(65)), Err(LENGTH));
        assert!(user_name(&"名".repeat(64)).is_ok());
        assert_eq!(user_name(&"名".repeat(65)), Err(LENGTH));
        // Counted after NFC: 64 decomposed pairs make 64 characters.
        assert!(user_name(&"e\u{0301}".repeat(64)).is_ok());
        assert_eq!(user_name(""), Err(LENGTH));
        assert_eq!(user_name(&"a".repeat(100_000)), Err(LENGTH));
    }

    #[test]
    fn valid_names_accepted() {
        for s in [
            "名前",
            "neo the one",
            "José",
            "ユーザー名",
            "user_1.2-3",
            "Ωμέγα",
            "Иван",
            "홍길동",
            "tanaka 田中さん", // Latin + Han + Hiragana
            "kim 김민수",      // Latin + Hangul
            "a",
        ] {
            assert_eq!(user_name(s).as_deref(), Ok(s), "{s:?}");
        }
    }

    #[test]
    fn mixed_scripts_rejected() {
        for s in ["p\u{0430}ypal", "αlpha", "ひらがな한글"] {
            assert_eq!(user_name(s), Err("must not mix scripts"), "{s:?}");
        }
    }

    #[test]
    fn surrounding_whitespace_rejected() {
        const WS: &str = "must not start or end with whitespace";
        for s in ["\u{3000}a", " a", "a ", "a\u{00A0}", " "] {
            assert_eq!(user_name(s), Err(WS), "{s:?}");
        }
    }

    #[test]
    fn channel_text() {
        assert!(channel_text_ok("general", false));
        assert!(channel_text_ok("Café chat 雑談", false));
        assert!(!channel_text_ok("a\u{0000}b", false));
        assert!(!channel_text_ok("a\u{0000}b", true));
        assert!(!channel_text_ok("a\u{001B}[31mb", true));
        assert!(!channel_text_ok("a\u{202E}b", true));
        assert!(!channel_text_ok("a\u{200B}b", true));
        assert!(!channel_text_ok("line\nline", false));
        assert!(channel_text_ok("line\nline", true));
        assert!(channel_text_ok("col\tcol", true));
        assert!(!channel_text_ok("a\r\nb", true));
        assert!(channel_text_ok("", false));
    }
}
