//! Keyboard and pointer input through WebDriver actions: what a user's keyboard and mouse do,
//! delivered to whatever has focus (keys) or to an element's centre (clicks), with the
//! browser's own event sequence (keydown/keyup, mousedown/mouseup/click).

use anyhow::{Context, Result};
use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MouseActions, PointerAction, MOUSE_BUTTON_LEFT,
};

use crate::Harness;

impl Harness {
    /// Press `keys` together as one chord, to the focused element: each goes down in order and
    /// comes up in reverse order. `press(&[Key::Alt.into(), 't'])` is Alt+T;
    /// `press(&[Key::Tab.into()])` is one Tab.
    pub async fn press(&self, keys: &[char]) -> Result<()> {
        let mut seq = KeyActions::new("keyboard".into());
        for &value in keys {
            seq = seq.then(KeyAction::Down { value });
        }
        for &value in keys.iter().rev() {
            seq = seq.then(KeyAction::Up { value });
        }
        self.browser
            .perform_actions(seq)
            .await
            .with_context(|| format!("pressing {keys:?}"))?;
        self.browser
            .release_actions()
            .await
            .context("releasing the keyboard")
    }

    /// Click the element matching `css` `times` times in one burst, as a fast double or triple
    /// click does: one WebDriver action sequence, so the clicks are milliseconds apart and land
    /// on the same spot even if the page re-renders under the pointer.
    pub async fn click_rapidly(&self, css: &str, times: usize) -> Result<()> {
        let element = self
            .wait_for(css, std::time::Duration::from_secs(30))
            .await?;
        let mut seq = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        for _ in 0..times {
            seq = seq
                .then(PointerAction::Down {
                    button: MOUSE_BUTTON_LEFT,
                })
                .then(PointerAction::Up {
                    button: MOUSE_BUTTON_LEFT,
                });
        }
        self.browser
            .perform_actions(seq)
            .await
            .with_context(|| format!("clicking `{css}` {times} times"))?;
        self.browser
            .release_actions()
            .await
            .context("releasing the mouse")
    }
}
