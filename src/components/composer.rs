//! The reply box. It explains why it is disabled, counts SMS segments, keeps drafts, and turns
//! into the template form when the WhatsApp window has closed.

use super::announcer::Announcer;
use super::clock::use_clock;
use super::focus::{focus_after_render, focus_first_after_render, focus_within, hand_on};
use crate::model::blocked::Blocked;
use crate::model::segments;
use crate::model::window::WindowState;
use crate::model::{AiMode, Channel};
use leptos::prelude::*;

/// Shown and said as the WhatsApp window's last hour comes.
const CLOSING_WARNING: &str =
    "The WhatsApp window closes within the hour: reply now, or a template will be needed.";

/// What the composer's form sends up.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateForm {
    pub name: String,
    pub language: String,
    pub parameters: Vec<String>,
}

impl TemplateForm {
    /// From the form's fields (`[name, language, parameters]`, one parameter per line): `None`
    /// without a name or a language, which the API refuses, or with a parameter left blank
    /// ([`parameters_of`]).
    pub fn of_fields([name, language, parameters]: [&str; 3]) -> Option<Self> {
        let (name, language) = (name.trim(), language.trim());
        let parameters = parameters_of(parameters).ok()?;
        (!name.is_empty() && !language.is_empty()).then(|| TemplateForm {
            name: name.to_owned(),
            language: language.to_owned(),
            parameters,
        })
    }
}

/// The template's parameters, one per line, each trimmed (blank lines after the last are
/// dropped). `Err(n)`: the `n`th (from 1) is blank before a filled one, and sending the rest
/// would put each later parameter in the place before its own (`{{2}}` the order number).
pub fn parameters_of(text: &str) -> Result<Vec<String>, usize> {
    let mut lines: Vec<&str> = text.lines().map(str::trim).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    match lines.iter().position(|l| l.is_empty()) {
        Some(blank) => Err(blank + 1),
        None => Ok(lines.into_iter().map(str::to_owned).collect()),
    }
}

/// What the browser says of a field, when its form cannot go: the fields' own words (a name of
/// spaces alone passes `required`, and would send nothing, unexplained).
fn template_problem(field: &str, text: &str) -> String {
    match field {
        "parameters" => match parameters_of(text) {
            Err(n) => format!("Parameter {n} is empty: fill it in, or remove its line."),
            Ok(_) => String::new(),
        },
        _ if text.trim().is_empty() => format!("Enter the template's {field}."),
        _ => String::new(),
    }
}

/// Whether `text` would send nothing a customer could read: white space, and the invisible
/// characters a paste from a web page may bring (zero-width spaces and joiners, a byte order
/// mark), which `trim` keeps.
pub fn nothing_to_send(text: &str) -> bool {
    text.chars().all(|c| {
        c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
    })
}

/// The template form as typed. The page keeps it, as it keeps the reply's draft, so that it
/// outlives the form: a customer writing in reopens the window, and the form, no longer the
/// only way to write, then stays only while it holds what the operator typed.
#[derive(Debug, Clone, Copy)]
pub struct TemplateDraft {
    pub name: RwSignal<String>,
    pub language: RwSignal<String>,
    /// One per line.
    pub parameters: RwSignal<String>,
    /// Templates sent from it so far: the form, once shown, stays until one is sent (emptying
    /// its fields to type others must not take it away under the caret).
    sent: RwSignal<u32>,
}

impl TemplateDraft {
    /// The form as it was kept (`[name, language, parameters]`), or empty.
    pub fn new(kept: Option<[String; 3]>) -> Self {
        let [name, language, parameters] =
            kept.unwrap_or_else(|| [String::new(), "en".to_owned(), String::new()]);
        TemplateDraft {
            name: RwSignal::new(name),
            language: RwSignal::new(language),
            parameters: RwSignal::new(parameters),
            sent: RwSignal::new(0),
        }
    }

    /// Calls `keep` with the fields whenever one changes.
    pub fn keep_with(self, keep: impl Fn([&str; 3]) + 'static) {
        crate::state::effect(move || {
            self.name.with(|n| {
                self.language.with(|l| {
                    self.parameters
                        .with(|p| keep([n.as_str(), l.as_str(), p.as_str()]))
                })
            })
        });
    }

    fn is_blank(self) -> bool {
        let blank = |s: &String| s.trim().is_empty();
        self.name.with(blank) && self.parameters.with(blank)
    }

    /// The template to send: `None` without its name or its language, which the API refuses.
    /// (`None` too once its view has gone: an answer may come after.)
    pub fn form(self) -> Option<TemplateForm> {
        let [n, l, p] = [self.name, self.language, self.parameters].map(|f| f.try_get_untracked());
        TemplateForm::of_fields([n?.as_str(), l?.as_str(), p?.as_str()])
    }

    /// `form` has been sent: the next template starts blank, in the same language. Unless the
    /// operator has changed the form since it went (it stays editable while sending): that is
    /// their next one, or a correction, and stays.
    pub fn sent(self, form: &TemplateForm) {
        if self.form().as_ref() == Some(form) {
            self.name.set(String::new());
            self.parameters.set(String::new());
        }
        self.sent.update(|n| *n += 1);
    }
}

impl Default for TemplateDraft {
    fn default() -> Self {
        Self::new(None)
    }
}

#[component]
pub fn Composer(
    /// The channel a reply goes out on: the one the customer last wrote on.
    #[prop(into)]
    channel: Signal<Channel>,
    #[prop(into)] mode: Signal<AiMode>,
    #[prop(into)] opt_out: Signal<bool>,
    #[prop(into)] expires_at: Signal<Option<chrono::DateTime<chrono::Utc>>>,
    /// The server warned that the window is in its last hour (`Thread::closing_warned`).
    #[prop(optional, into)]
    closing_warned: Signal<bool>,
    /// The draft, owned by the page so it can be saved per conversation.
    draft: RwSignal<String>,
    template_draft: TemplateDraft,
    /// A template of this conversation's is on its way.
    #[prop(optional, into)]
    template_sending: Signal<bool>,
    on_send: Callback<String>,
    on_template: Callback<TemplateForm>,
) -> impl IntoView {
    let clock = use_clock();
    let window = Memo::new(move |_| {
        WindowState::of(channel.get(), expires_at.get(), clock.now()).warned(closing_warned.get())
    });
    let blocked =
        Memo::new(move |_| Blocked::of(mode.get(), opt_out.get(), channel.get(), window.get()));
    // Only while the window is in its last hour (by this device's clock, or the server's word
    // where the clock runs behind): not once it has closed, nor after the customer reopened it
    // (a refetch may bring that, not only a live message); and only where a reply could be sent
    // (not closed, opted out, or the AI's).
    let closing = Memo::new(move |_| {
        blocked.get().is_none() && matches!(window.get(), WindowState::ClosingSoon { .. })
    });
    // The window shutting on the clock is news no event brings (a handoff or a STOP is heard
    // as itself): said, since the reply box it disables may not be where the operator is. So is
    // its last hour coming, here alone, whether the server's `window.closing` brought it or the
    // clock: the warning below is inserted with its words, which
    // some screen readers leave unread.
    if let Some(announcer) = use_context::<Announcer>() {
        let (mut was, mut was_closing) = (blocked.get_untracked(), closing.get_untracked());
        crate::state::effect(move || {
            let (now, now_closing) = (blocked.get(), closing.get());
            // (Not where the focus is in the reply box or on Send: it goes to the reason,
            // which is read.)
            if was.is_none() && now == Some(Blocked::WindowExpired) && !focus_within("#composer") {
                announcer.announce(Blocked::WindowExpired.explain());
            }
            if now_closing && !was_closing {
                announcer.announce(CLOSING_WARNING);
            }
            (was, was_closing) = (now, now_closing);
        });
    }
    let count = Memo::new(move |_| draft.with(|d| segments::count(d)));
    // Memos rather than `<Show>` (one more generic component instance each): the view below is
    // rebuilt only when the answer changes, as `<Show>` would.
    // Shown while needed, typed into, or shown before and nothing sent since.
    let locked = Memo::new(move |_| blocked.get().is_some_and(Blocked::stops_templates));
    let sent_seen = StoredValue::new(0u32);
    let show_templates = Memo::new(move |was: Option<&bool>| {
        let sent = template_draft.sent.get();
        let kept = was == Some(&true) && sent_seen.get_value() == sent;
        sent_seen.set_value(sent);
        let needed = blocked.get() == Some(Blocked::WindowExpired);
        let typed = !template_draft.is_blank();
        // Where no template can go either, only what was typed stays, to be read and copied
        // (for good in a closed conversation, whose draft the customer's next one does not get).
        (needed || typed || kept) && (typed || !locked.get())
    });

    let text_box = NodeRef::<leptos::html::Textarea>::new();
    let send = move || {
        let text = draft.get_untracked();
        if nothing_to_send(&text) || blocked.get_untracked().is_some() {
            return;
        }
        on_send.run(text);
    };

    view! {
        <div class="composer-area">
            {move || closing.get().then(|| view! {
                <p class="banner warn" id="window-closing">{CLOSING_WARNING}</p>
            })}
            {move || {
                let b = blocked.get();
                // Open again (taken over, the window reopened, START), the reason that had the
                // focus goes: the focus goes to the reply box, not to the page's start.
                if b.is_none() {
                    hand_on("#composer-disabled-reason", "#composer-text");
                }
                b
            }.map(|b| {
                // The reply box and Send are disabled under the operator's typing (a handoff, a
                // STOP, the window closing): the focus goes to why, just before what can be done
                // now (the template form), not to the page's start.
                if focus_within("#composer") {
                    focus_after_render("#composer-disabled-reason".into());
                }
                view! {
                <p id="composer-disabled-reason" class="composer-reason" tabindex="-1" data-reason=format!("{b:?}")>
                    {b.explain()}
                </p>
            }})}
            // Only a template can go out then, and the reply box is disabled: the form comes first.
            {move || {
                let shown = show_templates.get();
                // Sent, with the window open again: the form goes, and the focus it had goes
                // where the next message is typed; or, handed to the AI meanwhile, to why not.
                if !shown && focus_within("#template-form") {
                    focus_first_after_render(vec![
                        "#composer-text:not([readonly])".into(),
                        "#composer-disabled-reason".into(),
                    ]);
                }
                shown.then(|| view! { <TemplateFormView draft=template_draft sending=template_sending locked=locked on_template=on_template/> })
            }}
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
                    // Read-only rather than disabled while it cannot be sent: what it holds (a
                    // draft, a failed send put back) can still be selected and copied, which a
                    // disabled box does not allow, for good in a closed conversation.
                    readonly=move || blocked.get().is_some()
                    aria-disabled=move || blocked.get().is_some().then_some("true")
                    // (That Enter sends is said too: a screen reader's user writing several lines
                    // would send half a message with the first.)
                    aria-describedby=move || if blocked.get().is_some() {
                        "composer-disabled-reason segment-counter"
                    } else {
                        "segment-counter composer-hint"
                    }
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        // (Safari ends an input method's composition before the Enter that
                        // confirms its word, which then comes unmarked but for keyCode 229.)
                        let composing = ev.is_composing() || ev.key_code() == 229;
                        if ev.key() == "Enter" && !ev.shift_key() && !composing {
                            ev.prevent_default();
                            // Enter held down repeats: not a send of each repeat, nor of a draft
                            // the focus came to while it was held (a take-over moves it here).
                            if !ev.repeat() {
                                send();
                            }
                        }
                    }
                ></textarea>
                <div class="composer-footer">
                    <span id="segment-counter" aria-live="off">
                        {move || {
                            if channel.get() == Channel::Sms {
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
                    <span class="hint" id="composer-hint">"Enter sends · Shift+Enter for a new line"</span>
                    <button
                        type="submit"
                        id="composer-send"
                        disabled=move || blocked.get().is_some()
                        // (Not `disabled` for an empty box: emptied while the focus is on Send,
                        // by a send from another tab, it would drop the focus to the page's
                        // start. A press sends nothing then.)
                        aria-disabled=move || {
                            (blocked.get().is_none() && draft.with(|d| nothing_to_send(d)))
                                .then_some("true")
                        }
                    >
                        "Send"
                    </button>
                </div>
            </form>
        </div>
    }
}

#[component]
fn TemplateFormView(
    draft: TemplateDraft,
    sending: Signal<bool>,
    /// No template can be sent (the reason is given above the form): the fields are read-only,
    /// as the reply box is, and Send sends nothing.
    locked: Memo<bool>,
    on_template: Callback<TemplateForm>,
) -> impl IntoView {
    let input = |field: RwSignal<String>| move |ev| field.set(event_target_value(&ev));
    // The browser refuses the form while a field says what is wrong with it, and says so.
    let (name, language) = (
        NodeRef::<leptos::html::Input>::new(),
        NodeRef::<leptos::html::Input>::new(),
    );
    let parameters = NodeRef::<leptos::html::Textarea>::new();
    // Enter in a one-line field goes on to the next field, as the browser would otherwise send
    // the form: a template is billed, and the reply box above it has trained Enter to send (a
    // name typed, the language left as it was, went out without its parameters).
    let on_to = |next: &'static str| {
        move |ev: web_sys::KeyboardEvent| {
            if ev.key() == "Enter" && !ev.is_composing() {
                ev.prevent_default();
                // (Not for the Enter that confirms an input method's word, as the reply box;
                // nor for Enter held down, which would run on through the fields to the billed
                // template's Send.)
                if ev.key_code() != 229 && !ev.repeat() {
                    super::focus::focus_after_render(next.to_owned());
                }
            }
        }
    };
    crate::state::effect(move || {
        if let Some(el) = name.get() {
            el.set_custom_validity(&draft.name.with(|t| template_problem("name", t)));
        }
        if let Some(el) = language.get() {
            el.set_custom_validity(
                &draft
                    .language
                    .with(|t| template_problem("language code", t)),
            );
        }
        if let Some(el) = parameters.get() {
            el.set_custom_validity(&draft.parameters.with(|t| template_problem("parameters", t)));
        }
    });
    // Locked, the fields read only and a press sends nothing: each says why, as it is reached.
    let why_locked = move || locked.get().then_some("composer-disabled-reason");
    view! {
        <form
            id="template-form"
            on:submit=move |ev| {
                ev.prevent_default();
                // (The page checks as well, for a press that was on its way when the form
                // locked, and for a view that has gone.)
                if let Some(form) = draft.form().filter(|_| !locked.get_untracked()) {
                    on_template.run(form);
                }
            }
        >
            <fieldset>
                <legend>"Send an approved template"</legend>
                <label for="template-name">"Template name"</label>
                <input id="template-name" node_ref=name aria-describedby=why_locked required readonly=locked prop:value=draft.name on:input=input(draft.name) on:keydown=on_to("#template-language")/>
                <label for="template-language">"Language code"</label>
                <input id="template-language" node_ref=language aria-describedby=why_locked required readonly=locked prop:value=draft.language on:input=input(draft.language) on:keydown=on_to("#template-parameters")/>
                <label for="template-parameters">"Parameters (one per line)"</label>
                <textarea id="template-parameters" node_ref=parameters aria-describedby=why_locked rows="2" readonly=locked prop:value=draft.parameters on:input=input(draft.parameters)></textarea>
                // Not disabled while one is out, or while none can be sent (the focus would drop
                // to the page's start): a press then sends nothing, and the button, or the reason
                // above the form, says why.
                <button type="submit" id="template-send" aria-disabled=move || (sending.get() || locked.get()).to_string() aria-describedby=why_locked>
                    {move || if sending.get() { "Sending…" } else { "Send template" }}
                </button>
            </fieldset>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_parameter_before_a_filled_one_is_named_not_dropped() {
        assert_eq!(parameters_of(""), Ok(vec![]));
        assert_eq!(parameters_of(" Ada \n\n \n"), Ok(vec!["Ada".to_owned()]));
        // {{2}} forgotten: the order number would have gone in its place.
        assert_eq!(parameters_of("Ada\n \nA-1042"), Err(2));
        assert_eq!(parameters_of("\nA-1042"), Err(1));
        assert_eq!(
            TemplateForm::of_fields(["order_update", "en", "Ada\n\nA-1042"]),
            None
        );
        assert!(template_problem("parameters", "Ada\n\nA-1042").contains("Parameter 2"));
        assert!(template_problem("name", "   ").contains("name"));
        assert_eq!(template_problem("name", "order_update"), "");
    }

    #[test]
    fn invisible_characters_alone_are_nothing_to_send() {
        assert!(nothing_to_send(""));
        assert!(nothing_to_send(" \n\t"));
        assert!(nothing_to_send("\u{200B}\u{FEFF} \u{2060}"));
        assert!(!nothing_to_send("\u{200B}ok"));
        assert!(!nothing_to_send("."));
    }

    #[test]
    fn a_template_needs_a_name_and_keeps_its_parameters_lines() {
        let d = TemplateDraft::default();
        assert_eq!(d.form(), None);
        assert!(d.is_blank());
        d.name.set(" order_update ".into());
        d.parameters.set("A-1042\n  Tomorrow \n\n".into());
        assert!(!d.is_blank());
        assert_eq!(
            d.form(),
            Some(TemplateForm {
                name: "order_update".into(),
                language: "en".into(),
                parameters: vec!["A-1042".into(), "Tomorrow".into()],
            })
        );
        d.language.set(" ".into());
        assert_eq!(d.form(), None, "a template is sent in a language");
        d.language.set("fr".into());
        let sent = d.form().unwrap();
        d.parameters.set("A-1043".into());
        d.sent(&sent);
        assert_eq!(
            d.parameters.get_untracked(),
            "A-1043",
            "changed while it was sending: kept"
        );
        let sent = d.form().unwrap();
        d.sent(&sent);
        assert!(d.is_blank());
        assert_eq!(
            d.language.get_untracked(),
            "fr",
            "the next one is likely in the same language"
        );
    }
}
