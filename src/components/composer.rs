//! The reply box. It explains why it is disabled, counts SMS segments, keeps drafts, and turns
//! into the template form when the WhatsApp window has closed.

use super::clock::use_clock;
use crate::model::segments;
use crate::model::window::WindowState;
use crate::model::{AiMode, Channel};
use leptos::prelude::*;

/// Why free-form replies are not possible right now, if they aren't.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    Closed,
    OptedOut,
    WindowExpired,
    AiAnswering,
}

impl Blocked {
    pub fn of(mode: AiMode, opt_out: bool, window: WindowState) -> Option<Blocked> {
        if mode == AiMode::Closed {
            Some(Blocked::Closed)
        } else if opt_out {
            Some(Blocked::OptedOut)
        } else if !window.allows_free_form() {
            Some(Blocked::WindowExpired)
        } else if mode == AiMode::Ai {
            Some(Blocked::AiAnswering)
        } else {
            None
        }
    }

    pub fn explain(self) -> &'static str {
        match self {
            Blocked::Closed => "This conversation is closed. The customer's next message will start a new one.",
            Blocked::OptedOut => "This number has opted out of messages. It can't be messaged until the customer sends START.",
            Blocked::WindowExpired => "The WhatsApp 24-hour window has closed. Only an approved template can be sent.",
            Blocked::AiAnswering => "The AI is answering this conversation. Take over to reply yourself.",
        }
    }
}

/// What the composer's form sends up.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateForm {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
}

#[component]
pub fn Composer(
    channel: Channel,
    #[prop(into)] mode: Signal<AiMode>,
    #[prop(into)] opt_out: Signal<bool>,
    #[prop(into)] expires_at: Signal<Option<chrono::DateTime<chrono::Utc>>>,
    #[prop(into)] window_warning: Signal<bool>,
    /// The draft, owned by the page so it can be saved per conversation.
    draft: RwSignal<String>,
    on_send: Callback<String>,
    on_template: Callback<TemplateForm>,
) -> impl IntoView {
    let clock = use_clock();
    let window = Memo::new(move |_| WindowState::of(channel, expires_at.get(), clock.now()));
    let blocked = Memo::new(move |_| Blocked::of(mode.get(), opt_out.get(), window.get()));
    let count = Memo::new(move |_| draft.with(|d| segments::count(d)));
    // Memos rather than `<Show>` (one more generic component instance each): the view below is
    // rebuilt only when the answer changes, as `<Show>` would.
    let show_templates = Memo::new(move |_| {
        blocked.get() == Some(Blocked::WindowExpired)
            && mode.get() != AiMode::Closed
            && !opt_out.get()
    });

    let text_box = NodeRef::<leptos::html::Textarea>::new();
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() || blocked.get_untracked().is_some() {
            return;
        }
        on_send.run(text);
    };

    view! {
        <div class="composer-area">
            {move || window_warning.get().then(|| view! {
                <p class="banner warn" id="window-closing" role="status">
                    "The WhatsApp window closes within the hour: reply now, or a template will be needed."
                </p>
            })}
            {move || blocked.get().map(|b| view! {
                <p id="composer-disabled-reason" class="composer-reason" data-reason=format!("{b:?}")>
                    {b.explain()}
                </p>
            })}
            // Only a template can go out then, and the reply box is disabled: the form comes first.
            {move || show_templates.get().then(|| view! { <TemplateFormView on_template=on_template/> })}
            <form
                id="composer"
                on:submit=move |ev| {
                    ev.prevent_default();
                    send();
                    // Sent with the button, which the emptied box disables (dropping its
                    // focus): the operator goes on writing where the next message is typed.
                    if let Some(el) = text_box.get_untracked() {
                        let _ = el.focus();
                    }
                }
            >
                <label for="composer-text">"Reply"</label>
                <textarea
                    id="composer-text"
                    node_ref=text_box
                    rows="3"
                    prop:value=move || draft.get()
                    disabled=move || blocked.get().is_some()
                    aria-describedby="segment-counter"
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            send();
                        }
                    }
                ></textarea>
                <div class="composer-footer">
                    <span id="segment-counter" aria-live="off">
                        {move || {
                            if channel == Channel::Sms {
                                let c = count.get();
                                format!(
                                    "{} · {} segment{} · {} left",
                                    c.encoding.label(),
                                    c.segments,
                                    if c.segments == 1 { "" } else { "s" },
                                    c.remaining,
                                )
                            } else {
                                format!("{} characters", draft.with(|d| d.chars().count()))
                            }
                        }}
                    </span>
                    <span class="hint">"Enter sends · Shift+Enter for a new line"</span>
                    <button
                        type="submit"
                        id="composer-send"
                        disabled=move || blocked.get().is_some() || draft.with(|d| d.trim().is_empty())
                    >
                        "Send"
                    </button>
                </div>
            </form>
        </div>
    }
}

#[component]
fn TemplateFormView(on_template: Callback<TemplateForm>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let language = RwSignal::new("en".to_owned());
    let params = RwSignal::new(String::new());
    view! {
        <form
            id="template-form"
            on:submit=move |ev| {
                ev.prevent_default();
                let n = name.get_untracked();
                if n.trim().is_empty() {
                    return;
                }
                on_template.run(TemplateForm {
                    name: n.trim().to_owned(),
                    language: language.get_untracked().trim().to_owned(),
                    parameters: params
                        .get_untracked()
                        .lines()
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect(),
                });
            }
        >
            <fieldset>
                <legend>"Send an approved template"</legend>
                <label for="template-name">"Template name"</label>
                <input id="template-name" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <label for="template-language">"Language code"</label>
                <input id="template-language" prop:value=move || language.get() on:input=move |ev| language.set(event_target_value(&ev))/>
                <label for="template-parameters">"Parameters (one per line)"</label>
                <textarea id="template-parameters" rows="2" prop:value=move || params.get() on:input=move |ev| params.set(event_target_value(&ev))></textarea>
                <button type="submit" id="template-send">"Send template"</button>
            </fieldset>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_most_final_reason_wins() {
        let open = WindowState::Open {
            remaining: Duration::hours(3),
        };
        assert_eq!(
            Blocked::of(AiMode::Closed, true, WindowState::Expired),
            Some(Blocked::Closed)
        );
        assert_eq!(
            Blocked::of(AiMode::Human, true, open),
            Some(Blocked::OptedOut)
        );
        assert_eq!(
            Blocked::of(AiMode::Human, false, WindowState::Expired),
            Some(Blocked::WindowExpired)
        );
        assert_eq!(
            Blocked::of(AiMode::Ai, false, open),
            Some(Blocked::AiAnswering)
        );
        assert_eq!(
            Blocked::of(AiMode::Human, false, WindowState::NotApplicable),
            None
        );
        // An unknown mode from a newer server doesn't lock the operator out.
        assert_eq!(Blocked::of(AiMode::Unknown, false, open), None);
    }
}
