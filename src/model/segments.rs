//! SMS segment counting, as the API bills it: GSM-7 fits 160 characters (153 per part when
//! split), and a single character outside GSM-7 turns the whole message into UCS-2, 70 (67).

/// The GSM 03.38 basic character set.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters that need the escape code, so they count twice.
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    pub encoding: Encoding,
    /// Length in the encoding's units (septets for GSM-7, UTF-16 code units for UCS-2).
    pub units: usize,
    pub segments: usize,
    /// Units left before the next segment starts.
    pub remaining: usize,
}

pub fn count(text: &str) -> SegmentCount {
    let gsm7 = text.chars().all(|c| gsm7_units(c).is_some());
    let (encoding, single, multi) = if gsm7 {
        (Encoding::Gsm7, 160, 153)
    } else {
        (Encoding::Ucs2, 70, 67)
    };
    let cost = |c: char| {
        if gsm7 {
            gsm7_units(c).unwrap_or(1)
        } else {
            c.len_utf16()
        }
    };
    let units: usize = text.chars().map(cost).sum();
    let (segments, remaining) = if units <= single {
        (usize::from(units > 0), single - units)
    } else {
        // A character's units (an escape pair, a surrogate pair) are never split across parts:
        // one that does not fit starts the next part, as the API bills it.
        let (parts, used) = text.chars().map(cost).fold((1, 0), |(parts, used), c| {
            if used + c > multi {
                (parts + 1, c)
            } else {
                (parts, used + c)
            }
        });
        (parts, multi - used)
    };
    SegmentCount {
        encoding,
        units,
        segments,
        remaining,
    }
}

/// A character's septets in GSM-7 (the escape code makes two), or `None` outside it.
fn gsm7_units(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENDED.contains(c) {
        Some(2)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_is_never_split_across_parts() {
        // 152 septets, then an escape pair that would straddle the first part's end.
        let euro = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!((count(&euro).segments, count(&euro).remaining), (3, 152));
        let emoji = format!("{}👍{}", "ọ".repeat(66), "ọ".repeat(66));
        assert_eq!(count(&emoji).segments, 3);
        assert_eq!(count(&emoji).encoding, Encoding::Ucs2);
    }

    #[test]
    fn gsm7_limits() {
        assert_eq!(count("").segments, 0);
        assert_eq!(count(&"a".repeat(160)).segments, 1);
        assert_eq!(count(&"a".repeat(161)).segments, 2);
        assert_eq!(count(&"a".repeat(306)).segments, 2);
        assert_eq!(count(&"a".repeat(307)).segments, 3);
        assert_eq!(count("hello").encoding, Encoding::Gsm7);
        assert_eq!(count("hello").remaining, 155);
    }

    #[test]
    fn extended_characters_count_twice() {
        let c = count(&"€".repeat(80));
        assert_eq!((c.encoding, c.units, c.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!(count(&"€".repeat(81)).segments, 2);
    }

    #[test]
    fn one_non_gsm_character_makes_it_ucs2() {
        let c = count(&format!("{}ọ", "a".repeat(69)));
        assert_eq!((c.encoding, c.units, c.segments), (Encoding::Ucs2, 70, 1));
        assert_eq!(count(&format!("{}ọ", "a".repeat(70))).segments, 2);
        assert_eq!(count(&"ọ".repeat(134)).segments, 2);
        assert_eq!(count(&"ọ".repeat(135)).segments, 3);
        // An emoji is two UTF-16 units.
        assert_eq!(count("👍").units, 2);
    }
}
