//! The languages pages speak: one Project Fluent catalogue per language, each a folder
//! `locales/<tag>/` built into the binary, so adding a language is adding a folder.
//!
//! A request's language is chosen once by the HTTP layer (`http::language`) and holds, as
//! [`Lang::current`], for everything the request puts into words: pages, banners, dialogs and
//! the JSON error bodies. Code outside a request (the command line, background tasks) speaks
//! the fallback, English. Why Fluent: docs/i18n.md.

pub mod negotiate;
pub mod time;

use fluent_templates::Loader;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::loader::LanguageIdentifier;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around placeables: they would show in `title` and
        // `confirm` text, and in the JSON API's messages.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages of the catalogue, by tag, in a stable order for the picker.
static AVAILABLE: LazyLock<Vec<(LanguageIdentifier, String)>> = LazyLock::new(|| {
    let mut languages: Vec<_> = LOCALES
        .locales()
        .map(|id| (id.clone(), id.to_string()))
        .collect();
    languages.sort_by(|a, b| a.1.cmp(&b.1));
    languages
});

/// A language the catalogue has.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Lang(&'static (LanguageIdentifier, String));

impl fmt::Debug for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl Lang {
    /// Every language of the catalogue, ordered by tag.
    pub fn all() -> impl Iterator<Item = Lang> {
        AVAILABLE.iter().map(Lang)
    }

    /// English: what a request speaks when nothing else fits, and what the catalogue falls
    /// back to for a message a language lacks.
    pub fn fallback() -> Lang {
        Lang::parse("en").expect("the catalogue has English")
    }

    /// The catalogue's language with exactly this tag (`ja`, any case); `None` for others.
    pub fn parse(tag: &str) -> Option<Lang> {
        AVAILABLE
            .iter()
            .find(|(_, known)| known.eq_ignore_ascii_case(tag))
            .map(Lang)
    }

    /// The BCP 47 tag, as `<html lang>` and the language cookie carry it.
    pub fn tag(self) -> &'static str {
        &self.0.1
    }

    /// What the language calls itself ("日本語"), for the picker.
    pub fn name(self) -> String {
        LOCALES.lookup(&self.0.0, "language-name")
    }

    /// The language of the request being answered; English outside a request.
    pub fn current() -> Lang {
        CURRENT
            .try_with(|lang| *lang)
            .unwrap_or_else(|_| Lang::fallback())
    }

    /// Runs `work` speaking this language.
    pub async fn speak<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    fn id(self) -> &'static LanguageIdentifier {
        &self.0.0
    }
}

tokio::task_local! {
    static CURRENT: Lang;
}

/// The message `key` in the request's language, for messages without placeables.
pub fn t(key: &str) -> String {
    LOCALES.lookup(Lang::current().id(), key)
}

/// The message `key` with placeables to fill in with [`Message::arg`]; it is put into words
/// when shown.
pub fn msg(key: &'static str) -> Message {
    Message {
        key,
        args: HashMap::new(),
    }
}

/// A message with its placeables, shown (`Display`) in the request's language.
pub struct Message {
    key: &'static str,
    args: HashMap<Cow<'static, str>, FluentValue<'static>>,
}

impl Message {
    /// Fills the placeable `{ $name }` with `value`.
    pub fn arg(mut self, name: &'static str, value: impl Placeable) -> Message {
        self.args.insert(Cow::Borrowed(name), value.fluent());
        self
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = LOCALES.lookup_with_args(Lang::current().id(), self.key, &self.args);
        f.write_str(&text)
    }
}

/// A value a message's placeable can show: text as it is, numbers by the language's plural
/// rules. Templates pass values by reference, so references are placeables too.
pub trait Placeable {
    fn fluent(&self) -> FluentValue<'static>;
}

impl<T: Placeable + ?Sized> Placeable for &T {
    fn fluent(&self) -> FluentValue<'static> {
        (**self).fluent()
    }
}

impl Placeable for str {
    fn fluent(&self) -> FluentValue<'static> {
        FluentValue::from(self.to_owned())
    }
}

impl Placeable for String {
    fn fluent(&self) -> FluentValue<'static> {
        self.as_str().fluent()
    }
}

macro_rules! numeric_placeables {
    ($($number:ty),*) => {$(
        impl Placeable for $number {
            fn fluent(&self) -> FluentValue<'static> {
                FluentValue::from(*self)
            }
        }
    )*};
}
numeric_placeables!(u32, u64, usize, i64);

/// What templates call: `{{ t("sessions-title") }}`, and for placeables
/// `{{ msg("admin-showing").arg("first", 1).arg("last", 50).arg("total", 121) }}`. Askama
/// turns a bare call into a method call on the page, so every page gets these by importing
/// this trait (`use crate::i18n::Localized as _;`).
pub trait Localized {
    fn t(&self, key: &str) -> String {
        t(key)
    }

    fn msg(&self, key: &'static str) -> Message {
        msg(key)
    }

    /// The request's language, for `<html lang>` and the picker.
    fn lang(&self) -> Lang {
        Lang::current()
    }

    /// The languages the picker offers.
    fn languages(&self) -> Vec<Lang> {
        Lang::all().collect()
    }
}

impl<T: askama::Template> Localized for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_english_japanese_and_korean() {
        let tags: Vec<&str> = Lang::all().map(Lang::tag).collect();
        assert_eq!(tags, ["en", "ja", "ko"]);
        assert_eq!(Lang::parse("JA").map(Lang::tag), Some("ja"));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse("ko").unwrap().name(), "한국어");
    }

    #[tokio::test]
    async fn messages_follow_the_request_language_and_plural_rules() {
        let revoked = |n: u64| msg("sessions-revoked").arg("count", n).to_string();
        assert_eq!(revoked(1), "Session revoked. That device is signed out.");
        assert_eq!(
            revoked(3),
            "3 sessions revoked. Those devices are signed out."
        );
        let japanese = Lang::parse("ja").unwrap();
        let (title, three) = japanese
            .speak(async { (t("sessions-title"), revoked(3)) })
            .await;
        assert_eq!(title, "アクティブなセッション");
        assert!(
            three.starts_with("3 件のセッションを取り消しました"),
            "{three}"
        );
    }
}
