//! Opaque identifiers. The contract warns that documented ID formats are not always kept, so these
//! wrap whatever string the server sends and never validate a pattern.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// A `conv_*` id.
    ConversationId
);

impl ConversationId {
    /// As a segment of the console's own addresses (`/conversations/{id}`): encoded, since the
    /// server's ids are opaque (a `?`, `#` or `/` in one would end the path there).
    pub fn path_segment(&self) -> String {
        super::inbox::encode_component(&self.0)
    }

    /// A CSS selector for the link of this conversation's row in the list.
    pub fn row_link_selector(&self) -> String {
        format!("li[data-conversation-id='{}'] a", css_string(&self.0))
    }
}

/// `s` for a CSS string in single quotes (the server's ids are opaque: they may hold a quote).
fn css_string(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\'', "\\'")
        .replace('\n', "\\a ")
}

id_type!(
    /// A `msg_*` id.
    MessageId
);

impl MessageId {
    /// A CSS selector for the control of class `class` in this message's line (its Edit, when
    /// it was not delivered; its file's link).
    pub fn control_selector(&self, class: &str) -> String {
        format!(
            "#messages li[data-message-id='{}'] .{class}",
            css_string(&self.0)
        )
    }

    /// The `id` of this message's text, for the controls it describes (`aria-describedby`, a
    /// list of ids split at spaces): percent-encoded, as in a URL, so that an id with a space in
    /// it is still one word, and no two messages share one.
    pub fn body_element_id(&self) -> String {
        format!("body-{}", crate::model::inbox::encode_component(&self.0))
    }
}
id_type!(
    /// An `agt_*` id.
    AgentId
);

#[cfg(test)]
mod tests {
    use super::MessageId;

    #[test]
    fn a_messages_text_has_an_element_id_of_one_word_its_own() {
        let id = |s: &str| MessageId::from(s).body_element_id();
        assert_eq!(id("msg_01HX-a9"), "body-msg_01HX-a9");
        // An id with a space, a quote or a character beyond ASCII is still one word.
        for odd in ["m 1", "m\"1", "m'1", "mé1", "m\t1"] {
            let made = id(odd);
            assert!(
                !made
                    .chars()
                    .any(|c| c.is_whitespace() || c == '"' || c == '\''),
                "{odd:?}: {made}"
            );
        }
        // Not two messages' alike: "%" is encoded too.
        assert_ne!(id("m 1"), id("m%201"));
        assert_ne!(id("a"), id("b"));
    }
}
