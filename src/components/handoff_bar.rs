//! Take over / Return to AI / Close. Clicks are debounced by the page (one PATCH per intent);
//! Close asks for confirmation first because it is terminal.

use super::focus::{
    focus_after_render, focus_first_after_render, focus_within, focused_element, return_focus,
};
use crate::model::handoff::{HandoffAction, Press};
use crate::model::AiMode;
use leptos::prelude::*;

fn action_id(action: HandoffAction) -> &'static str {
    match action {
        HandoffAction::TakeOver => "take-over",
        HandoffAction::ReturnToAi => "return-to-ai",
        HandoffAction::Close => "close-conversation",
    }
}

const UNDER_WAY: &str = "Another change is under way: answer once it is done.";

/// Said for a press (of a button, or its shortcut) while a change is out: the button says only
/// that it is unavailable, and the shortcut's focus is elsewhere.
pub const CHANGE_UNDER_WAY: &str = "A change is already under way: wait for its answer.";

#[component]
pub fn HandoffBar(
    #[prop(into)] mode: Signal<AiMode>,
    #[prop(into)] busy: Signal<bool>,
    /// Just after a handoff answered: the buttons ignore presses for a moment (a double click's
    /// second would land on the button that moved into place), and say so.
    #[prop(into)]
    quiet: Signal<bool>,
    on_action: Callback<(HandoffAction, Press)>,
    /// Raised by the Alt+C shortcut to open the confirmation.
    confirming: RwSignal<bool>,
) -> impl IntoView {
    // `autofocus` is ignored on elements inserted after load: move focus into the confirmation
    // (on the safe choice) explicitly. Kept open (Cancel, Escape), the focus goes back where it
    // was when the confirmation opened (the Close button, or the reply box for Alt+C); closed,
    // to the Close button while the close is under way.
    let cancel = NodeRef::<leptos::html::Button>::new();
    crate::state::effect(move || {
        if let Some(button) = cancel.get() {
            let _ = button.focus();
        }
    });
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let announcer = use_context::<super::announcer::Announcer>();
    let kept_open = move || {
        confirming.set(false);
        return_focus(
            opener.try_update_value(Option::take).flatten(),
            "#close-conversation",
        );
    };
    let button = move |action: HandoffAction| {
        let id = action_id(action);
        let shortcut = format!("Alt+{}", action.shortcut().to_ascii_uppercase());
        view! {
            <button
                type="button"
                id=id
                aria-keyshortcuts=shortcut.clone()
                // (Close opens its question, whose answer is no stray repeat: it waits only
                // for a change under way.)
                aria-disabled=move || (busy.get() || (quiet.get() && action != HandoffAction::Close)).to_string()
                // Enter held down clicks again at each repeat: once the change is answered, on
                // the button that moved into place, which would undo it.
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.repeat() {
                        ev.prevent_default();
                    }
                }
                on:click=move |ev: leptos::ev::MouseEvent| {
                    if action == HandoffAction::Close {
                        confirming.set(true);
                    } else if busy.get_untracked() {
                        if let Some(a) = announcer {
                            a.announce(CHANGE_UNDER_WAY);
                        }
                    } else {
                        // (A click no pointer made, `detail` 0, is Enter's or Space's.)
                        let press = if ev.detail() == 0 { Press::Key } else { Press::Pointer };
                        on_action.run((action, press));
                    }
                }
            >
                {action.label()}
                // Shown for the eye; aria-keyshortcuts tells it to assistive technology, which
                // would otherwise run it into the name ("CloseAlt+C").
                <kbd aria-hidden="true">{shortcut.clone()}</kbd>
            </button>
        }
    };
    // A memo rather than `<Show>` (one more generic component instance): the dialog is rebuilt
    // only when it opens, not on every `set(true)`.
    // Closed meanwhile (by another operator, or a close already under way), the question is
    // moot: it goes, and so does the focus it held (to the messages, as the buttons' does).
    let closable = Memo::new(move |_| HandoffAction::Close.available_from(mode.get()));
    crate::state::effect(move || {
        if !closable.get() && confirming.get_untracked() {
            confirming.set(false);
        }
    });
    let show_confirm = Memo::new(move |_| confirming.get() && closable.get());
    // The question is asked of the conversation as it was: another operator's change of hands
    // meanwhile (announced as news) makes it another question, and the press meant for the
    // first would end their exchange. It goes, and says why. Not for a change of this
    // console's own, under way as it was asked (its answer ends `busy` and moves the mode
    // together) or brought by the stream while it was: the question waits for that one.
    let asked_in = StoredValue::new(None::<(AiMode, bool)>);
    crate::state::effect(move || {
        let (open, now, own) = (show_confirm.get(), mode.get(), busy.get());
        let was = asked_in.get_value();
        asked_in.set_value(open.then_some((now, own)));
        if let Some((asked, own_out)) = was.filter(|_| open) {
            if asked != now && !own && !own_out {
                kept_open();
                if let Some(a) = announcer {
                    a.announce("Not closed: the conversation changed hands while you were asked.");
                }
            }
        }
    });
    view! {
        <div class="handoff-bar" role="group" aria-label="Who answers">
            // One place per action, so that a button never becomes another under the focus
            // (a list rebuilt in place turned the focused Take over into Return to AI, unsaid,
            // and a second press gave the conversation back). The focus a button had when its
            // action goes (by the operator's press or another's) goes where the operator goes on:
            // after a take-over, where a reply or a template is written (else why neither can
            // be); after a hand-back, to Take over; else (closed) to the messages. (This runs
            // before the old button leaves the page.)
            {HandoffAction::ALL.map(|action| move || {
                let shown = action.available_from(mode.get());
                // (Closed meanwhile, the close's question goes too, with the focus it held.)
                let had_focus = focus_within(&format!("#{}", action_id(action)))
                    || (action == HandoffAction::Close && focus_within("#confirm-close"));
                if !shown && had_focus {
                    let next: &[&str] = match action {
                        _ if mode.get_untracked() == AiMode::Closed => &[],
                        HandoffAction::TakeOver => &[
                            "#composer-text:not([readonly])",
                            "#template-name:not([readonly])",
                            "#composer-disabled-reason",
                        ],
                        HandoffAction::ReturnToAi => &["#take-over"],
                        HandoffAction::Close => &[],
                    };
                    focus_first_after_render(
                        next.iter().chain(&[".message-scroller"]).map(|s| s.to_string()).collect(),
                    );
                }
                shown.then(|| button(action))
            })}
            {move || show_confirm.get().then(|| {
                // (This runs before the confirmation takes the focus.)
                opener.set_value(focused_element());
                view! {
                    <div
                        class="confirm"
                        id="confirm-close"
                        role="alertdialog"
                        aria-labelledby="confirm-close-text"
                        // A press on its words keeps the focus in it, where Escape reaches it.
                        tabindex="-1"
                        // The focus taken elsewhere in the page (a pointer's press on another
                        // control or on what takes no focus, a screen reader's browsing): the
                        // question is not left open behind it, out of Escape's reach. It goes,
                        // unanswered; the focus stays where the operator put it. Looked at once
                        // the focus has landed (a press on what takes none leaves it on the
                        // page's body, unnamed by the event), and not for the window losing the
                        // focus, nor for the question's own answers, which have closed it.
                        on:focusout=move |_| {
                            gloo_timers::callback::Timeout::new(0, move || {
                                if confirming.try_get_untracked() == Some(true)
                                    && crate::state::browser::is_looked_at()
                                    && !focus_within("#confirm-close")
                                {
                                    opener.set_value(None);
                                    confirming.set(false);
                                }
                            })
                            .forget();
                        }
                        on:keydown=move |ev| match ev.key().as_str() {
                            // Enter held on Close repeats onto Cancel, which took the focus: the
                            // question would be withdrawn as soon as it was asked.
                            "Enter" if ev.repeat() => ev.prevent_default(),
                            "Escape" => kept_open(),
                            // The question keeps the keyboard until it is answered, as an alert
                            // dialog does: Tab goes round its two buttons. (Tabbed away, it
                            // stayed open behind the focus, and Escape no longer reached it.)
                            "Tab" => {
                                let (from, to) = if ev.shift_key() {
                                    ("#confirm-close-yes", "#confirm-close-no")
                                } else {
                                    ("#confirm-close-no", "#confirm-close-yes")
                                };
                                // (From its words, after a press there: to the safe choice.)
                                let on_words = !focus_within("#confirm-close button");
                                if on_words {
                                    ev.prevent_default();
                                    focus_after_render("#confirm-close-no".to_owned());
                                } else if focus_within(from) {
                                    ev.prevent_default();
                                    focus_after_render(to.to_owned());
                                }
                            }
                            _ => {}
                        }
                    >
                        <p id="confirm-close-text">
                            "Close this conversation? This can't be undone: the customer's next message starts a new conversation."
                        </p>
                        // Another change is still out: the close waits for the operator to
                        // answer again once it is back, the focus kept here (marked unavailable,
                        // not disabled, so it stays on the button).
                        <p id="confirm-close-busy">
                            {move || busy.get().then_some(UNDER_WAY)}
                        </p>
                        <button
                            type="button"
                            id="confirm-close-yes"
                            aria-disabled=move || busy.get().to_string()
                            aria-describedby="confirm-close-busy"
                            on:click=move |_| {
                                // (Said as well: shown at once when the question opens
                                // during the change, it is read only on this button.)
                                if busy.get_untracked() {
                                    if let Some(a) = announcer {
                                        a.announce(UNDER_WAY);
                                    }
                                    return;
                                }
                                confirming.set(false);
                                focus_after_render("#close-conversation".to_owned());
                                on_action.run((HandoffAction::Close, Press::Pointer));
                            }
                        >
                            "Close conversation"
                        </button>
                        <button type="button" id="confirm-close-no" node_ref=cancel on:click=move |_| kept_open()>
                            "Cancel"
                        </button>
                    </div>
                }
            })}
        </div>
    }
}
