//! Lists from the API read one item at a time: an item the console cannot read (a required field
//! missing or `null`, a value of another type) is left out and counted, rather than failing its
//! whole page, which "Try again" would then fail in the same way for ever.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::value::RawValue;

/// The items that could be read, and how many could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Readable<T> {
    pub items: Vec<T>,
    pub unreadable: usize,
}

impl<T> Default for Readable<T> {
    fn default() -> Self {
        Readable {
            items: Vec::new(),
            unreadable: 0,
        }
    }
}

/// Each item is taken as its raw JSON text first (which holds the array's shape to the
/// contract: a page that is not an array of values still fails), then read on its own.
impl<'de, T: DeserializeOwned> Deserialize<'de> for Readable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Vec::<Box<RawValue>>::deserialize(d)?;
        let mut read = Readable {
            items: Vec::with_capacity(raw.len()),
            unreadable: 0,
        };
        for item in raw {
            match serde_json::from_str(item.get()) {
                Ok(item) => read.items.push(item),
                Err(_) => read.unreadable += 1,
            }
        }
        Ok(read)
    }
}

/// An error code, which carriers and WhatsApp give as numbers (`30007`): taken as its digits,
/// where a string-only field made the whole message, or the whole error, unreadable.
/// `#[serde(default, deserialize_with = "crate::model::readable::code")]`
pub fn code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Code;
    impl<'de> serde::de::Visitor<'de> for Code {
        type Value = Option<String>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an error code")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        // (A whole number written `30007.0` comes as a float: its digits, without a float's
        // formatting, which costs the wasm a few KB. Any other float says no code.)
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok((v.fract() == 0.0 && v.abs() < 1e15).then(|| (v as i64).to_string()))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Code)
}

/// Words the console may show, when given as a string: anything else (a list, an object, a
/// number) says none, where it made its whole answer unreadable (an error body's code with it).
/// `#[serde(default, deserialize_with = "crate::model::readable::text")]`
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|r| serde_json::from_str(r.get()).ok()))
}

#[cfg(test)]
mod tests {
    use super::Readable;

    #[test]
    fn an_error_code_is_read_as_text_or_digits() {
        #[derive(serde::Deserialize)]
        struct Failed {
            #[serde(default, deserialize_with = "super::code")]
            error_code: Option<String>,
        }
        let code = |json| {
            serde_json::from_str::<Failed>(json)
                .map(|f| f.error_code)
                .ok()
        };
        assert_eq!(
            code(r#"{"error_code": "UNDELIVERABLE"}"#),
            Some(Some("UNDELIVERABLE".into()))
        );
        assert_eq!(code(r#"{"error_code": 30007}"#), Some(Some("30007".into())));
        assert_eq!(code(r#"{"error_code": -1}"#), Some(Some("-1".into())));
        assert_eq!(
            code(r#"{"error_code": 30007.0}"#),
            Some(Some("30007".into()))
        );
        assert_eq!(code(r#"{"error_code": 1.5}"#), Some(None));
        assert_eq!(code(r#"{"error_code": null}"#), Some(None));
        assert_eq!(code("{}"), Some(None));
        assert_eq!(code(r#"{"error_code": {"a": 1}}"#), None);
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Item {
        id: String,
    }

    #[test]
    fn an_unreadable_item_is_left_out_and_counted() {
        let read: Readable<Item> =
            serde_json::from_str(r#"[{"id": "a"}, {"id": null}, {"other": 1}, 7, {"id": "b"}]"#)
                .expect("an array of values");
        assert_eq!(
            read.items,
            [Item { id: "a".into() }, Item { id: "b".into() }]
        );
        assert_eq!(read.unreadable, 3);
        assert!(serde_json::from_str::<Readable<Item>>(r#"{"id": "a"}"#).is_err());
        assert!(serde_json::from_str::<Readable<Item>>(r#"[{"id": "a"}, {"#).is_err());
    }
}
