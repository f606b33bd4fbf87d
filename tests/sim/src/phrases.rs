//! Plausible customer-support text (English, Nigerian Pidgin, a little Yoruba) for seed
//! threads, live traffic and the hosted-AI stand-in.

/// A support thread: alternating customer / agent lines. `{order}` and `{amount}` are filled in.
pub struct Topic {
    pub lines: &'static [&'static str],
}

pub const TOPICS: &[Topic] = &[
    Topic {
        lines: &[
            "Hello, I ordered a blender last week and I haven't heard anything. Order #{order}",
            "Hello! Thanks for reaching out. Let me check order #{order} for you.",
            "Okay, I'm waiting",
            "Your order has left our Lagos warehouse and is with the rider. Expected delivery is tomorrow before 6pm.",
            "Can the rider call me before coming?",
            "Sure, I've added a note for the rider to call you on this number.",
            "Thank you so much",
            "You're welcome! Anything else I can help with?",
        ],
    },
    Topic {
        lines: &[
            "Abeg, my package never reach o. Dem talk say e go come since Tuesday",
            "Sorry about the delay 🙏 Abeg send me your order number make I check am.",
            "Na {order}",
            "I don see am. The rider dey Ikeja now, e go reach you before evening.",
            "Ehen, thank you. Make e no pass today o",
            "No wahala, I go follow am up. If e no reach by 6pm, message us again.",
        ],
    },
    Topic {
        lines: &[
            "Good afternoon. I returned the shoes on Friday, when will I get my refund?",
            "Good afternoon! Refunds take 3-5 working days after the item is inspected. Can I have your order number?",
            "{order}",
            "Thanks. The return was received and approved. ₦{amount} will be refunded to your card by Thursday.",
            "Okay, noted",
            "Is there anything else I can help you with today?",
        ],
    },
    Topic {
        lines: &[
            "I was debited twice for the same order!! ₦{amount} each",
            "I'm sorry about that. I can see two attempts; the second one will be reversed automatically within 24 hours.",
            "24 hours ke? I need that money today",
            "I understand. I've escalated it to our payments team as urgent and they will update you here.",
            "Please let them hurry",
            "Will do. Your reference is PAY-{order}.",
        ],
    },
    Topic {
        lines: &[
            "Ẹ kú àárọ̀ o, I need to change my delivery address",
            "Ẹ kú àárọ̀! Of course, what's the new address?",
            "12 Adeola Odeku Street, Victoria Island",
            "Done ✅ Your order will now be delivered to 12 Adeola Odeku Street, Victoria Island.",
            "Ẹ ṣé gan ni",
            "You're welcome!",
        ],
    },
    Topic {
        lines: &[
            "I'm not getting the OTP to log in",
            "Sorry about that. Please confirm the number on your account ends with the number you're texting from?",
            "Yes",
            "I've resent the code. It can take up to a minute to arrive.",
            "It has come now, thanks",
            "Great! Have a lovely day.",
        ],
    },
    Topic {
        lines: &[
            "How far, una get the Samsung A15 for stock?",
            "Good day! Yes, the Samsung A15 is available for ₦{amount}. Would you like to order?",
            "Abeg wetin be the delivery fee to Port Harcourt?",
            "Delivery to Port Harcourt is ₦2,500 and takes 2-3 working days.",
            "Okay make I think am",
            "No problem. Just send a message here whenever you're ready.",
        ],
    },
    Topic {
        lines: &[
            "Good evening, the rice I received is not the brand I ordered",
            "Good evening, I'm sorry about that. Could you send a photo of the item and your order number?",
            "Order {order}. I will send the photo now",
            "Thank you. We'll arrange a swap at no cost; a rider will pick it up tomorrow.",
            "Alright thanks",
        ],
    },
];

pub const CUSTOMER_FILLERS: &[&str] = &[
    "Okay",
    "Alright",
    "Thank you",
    "I dey wait",
    "Any update?",
    "Hello??",
    "Please how far",
    "Noted 👍",
    "Is it still coming today?",
    "Please I need this sorted quickly",
];

pub const AGENT_FILLERS: &[&str] = &[
    "Still checking, please bear with me.",
    "Thanks for your patience.",
    "I'll update you shortly.",
    "Is there anything else I can help with?",
    "I've noted that on your order.",
];

/// First messages of customers writing in live.
pub const CUSTOMER_OPENERS: &[&str] = &[
    "Hello, good morning",
    "Good afternoon, I need help with my order",
    "Abeg, where my order dey?",
    "Hi, I placed an order on Monday and it hasn't arrived",
    "How far? My package never reach",
    "Please I want to request a refund",
    "Good evening. I was debited twice for one order",
    "My delivery was supposed to come today",
    "Do you deliver to Abuja?",
    "Ẹ kú ọ̀sán, I want to change my address",
];

pub const FAILURE_CODES: &[&str] = &["UNDELIVERABLE", "CARRIER_REJECTED", "RECIPIENT_UNREACHABLE"];

pub fn fill(line: &str, order: u32, amount: u32) -> String {
    if !line.contains('{') {
        return line.to_string();
    }
    line.replace("{order}", &format!("VB{order:06}"))
        .replace("{amount}", &group_thousands(amount))
}

fn group_thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The hosted-AI stand-in's answer to an inbound message.
pub fn ai_reply(inbound: &str) -> &'static str {
    let text = inbound.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| text.contains(w));
    let pidgin = has(&["abeg", "dey", "how far", "wetin", "una", "never reach"]);
    if has(&["refund", "return"]) {
        "Refunds take 3-5 working days after we inspect the item. Please send your order number and I'll check the status."
    } else if has(&["debit", "charged", "payment", "pay"]) {
        "Sorry about the payment issue. Duplicate debits are reversed automatically within 24 hours; I've flagged yours for review."
    } else if has(&["order", "package", "deliver", "rider", "arrive", "reach"]) {
        if pidgin {
            "Sorry for the wahala 🙏 Abeg send your order number make I check where the rider dey."
        } else {
            "Thanks for reaching out! Please send your order number and I'll check where your delivery is."
        }
    } else if has(&["address"]) {
        "Sure, please send the new delivery address and I'll update your order."
    } else if pidgin {
        "Hello! How I fit help you today?"
    } else {
        "Hello! Thanks for your message. How can I help you today?"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("Order #{order}", 42, 0), "Order #VB000042");
        assert_eq!(fill("₦{amount} each", 0, 1_234_567), "₦1,234,567 each");
        assert_eq!(fill("₦{amount}", 0, 500), "₦500");
    }

    #[test]
    fn ai_replies_follow_the_topic() {
        assert!(ai_reply("I want a REFUND").contains("Refunds"));
        assert!(ai_reply("Abeg where my order dey").contains("Abeg"));
        assert!(ai_reply("hi").starts_with("Hello"));
    }
}
