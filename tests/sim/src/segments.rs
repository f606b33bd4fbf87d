//! SMS segment counting: GSM-7 160 characters (153 per part when concatenated), UCS-2 70 (67
//! per part); a single character outside GSM-7 makes the whole message UCS-2.

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// Characters reached through the GSM-7 escape: each costs two septets.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// Septets a character costs in GSM-7, or `None` when it is not in GSM-7.
fn gsm7_cost(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

pub fn encoding(body: &str) -> Encoding {
    if body.chars().all(|c| gsm7_cost(c).is_some()) {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    }
}

/// Number of SMS parts needed for `body` (at least 1).
pub fn count(body: &str) -> u32 {
    // Per-character cost in code units of the chosen encoding; a unit that must not be split
    // across parts (an escape pair, a UTF-16 surrogate pair) stays together.
    let (costs, single, per_part): (Vec<usize>, usize, usize) = match encoding(body) {
        Encoding::Gsm7 => (
            body.chars().map(|c| gsm7_cost(c).unwrap_or(1)).collect(),
            160,
            153,
        ),
        Encoding::Ucs2 => (body.chars().map(char::len_utf16).collect(), 70, 67),
    };
    let total: usize = costs.iter().sum();
    if total <= single {
        return 1;
    }
    let mut parts = 1;
    let mut used = 0;
    for cost in costs {
        if used + cost > per_part {
            parts += 1;
            used = 0;
        }
        used += cost;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_limits() {
        assert_eq!(count(""), 1);
        assert_eq!(count("Hello"), 1);
        assert_eq!(count(&"a".repeat(160)), 1);
        assert_eq!(count(&"a".repeat(161)), 2);
        assert_eq!(count(&"a".repeat(306)), 2);
        assert_eq!(count(&"a".repeat(307)), 3);
        assert_eq!(count(&"a".repeat(459)), 3);
        assert_eq!(count(&"a".repeat(460)), 4);
        assert_eq!(encoding("Price: £5 @ café è"), Encoding::Gsm7);
    }

    #[test]
    fn extension_characters_count_twice() {
        assert_eq!(encoding("€[]{}"), Encoding::Gsm7);
        assert_eq!(count(&"€".repeat(80)), 1);
        assert_eq!(count(&"€".repeat(81)), 2);
        // 152 plain + one escape pair: the pair does not fit in the first 153-septet part.
        let body = format!("{}{}{}", "a".repeat(152), "€", "a".repeat(10));
        assert_eq!(count(&body), 2);
        let body = format!("{}{}", "a".repeat(152), "€".repeat(77));
        assert_eq!(count(&body), 3);
    }

    #[test]
    fn one_non_gsm_character_makes_the_message_ucs2() {
        assert_eq!(encoding("Ẹ kú àárọ̀"), Encoding::Ucs2);
        assert_eq!(count(&"a".repeat(70)), 1);
        let body = format!("{}\u{1ecd}", "a".repeat(69));
        assert_eq!(count(&body), 1);
        let body = format!("{}\u{1ecd}", "a".repeat(70));
        assert_eq!(count(&body), 2);
        assert_eq!(count(&format!("{}\u{1ecd}", "a".repeat(133))), 2);
        assert_eq!(count(&format!("{}\u{1ecd}", "a".repeat(134))), 3);
    }

    #[test]
    fn emoji_take_two_ucs2_units_and_are_not_split() {
        assert_eq!(count(&"😀".repeat(35)), 1);
        assert_eq!(count(&"😀".repeat(36)), 2);
        // 66 units + a surrogate pair: the pair moves to the second part.
        let body = format!("{}{}", "a".repeat(66), "😀".repeat(3));
        assert_eq!(count(&body), 2);
        let body = format!("{}{}", "a".repeat(66), "😀".repeat(34));
        assert_eq!(count(&body), 3);
    }
}
