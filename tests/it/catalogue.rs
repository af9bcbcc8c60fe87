//! The message catalogues (`locales/<tag>/*.ftl`) against each other and against their uses:
//! every key in every language, no key unused, the same placeables everywhere, and no page
//! template with English of its own outside the catalogue.

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Words a template may show as they are: the product's name.
const UNTRANSLATED: &[&str] = &["sessiond"];

/// Keys the code reads in a language of its choosing rather than the request's, so not with
/// `t`: each language's own name, for the picker (`Lang::name`).
const READ_BY_LANGUAGE: &[&str] = &["language-name"];

/// Blocks that hold a value for markup, not text: `{% block main_class %}wide{% endblock %}`.
const MARKUP_BLOCKS: &[&str] = &["main_class"];

/// Attributes whose text people read or hear.
const READ_ATTRIBUTES: &[&str] = &[
    "title",
    "aria-label",
    "placeholder",
    "alt",
    "data-confirm",
    "data-label",
    "label",
];

/// Each message's placeables (`$name`s), by key, of one language.
type Catalogue = BTreeMap<String, BTreeSet<String>>;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files under `folder` whose names end with `extension`, recursively.
fn files(folder: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path, extension));
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Every language's catalogue, by tag.
fn catalogues() -> BTreeMap<String, Catalogue> {
    let mut languages = BTreeMap::new();
    for folder in std::fs::read_dir(root().join("locales")).unwrap() {
        let folder = folder.unwrap().path();
        let tag = folder.file_name().unwrap().to_string_lossy().into_owned();
        let mut catalogue = Catalogue::new();
        for file in files(&folder, "ftl") {
            let text = std::fs::read_to_string(&file).unwrap();
            let resource = fluent_syntax::parser::parse(text.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{}: {errors:?}", file.display()));
            for entry in resource.body {
                if let Entry::Message(message) = entry {
                    let mut placeables = BTreeSet::new();
                    if let Some(value) = &message.value {
                        pattern_variables(value, &mut placeables);
                    }
                    let key = message.id.name.to_owned();
                    let again = catalogue.insert(key.clone(), placeables);
                    assert!(again.is_none(), "{tag}: {key} twice");
                }
            }
        }
        languages.insert(tag, catalogue);
    }
    languages
}

fn pattern_variables(pattern: &Pattern<&str>, found: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, found);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        Expression::Select { selector, variants } => {
            inline_variables(selector, found);
            for variant in variants {
                pattern_variables(&variant.value, found);
            }
        }
        Expression::Inline(inline) => inline_variables(inline, found),
    }
}

fn inline_variables(inline: &InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_owned());
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, found),
        InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, found);
            }
        }
        _ => {}
    }
}

/// The keys named by `t("...")` and `msg("...")` in the templates and the Rust source.
fn used_keys() -> BTreeMap<String, String> {
    let mut used = BTreeMap::new();
    let sources = files(&root().join("templates"), "html")
        .into_iter()
        .chain(files(&root().join("src"), "rs"));
    for file in sources {
        let text = std::fs::read_to_string(&file).unwrap();
        for call in ["t(\"", "msg(\""] {
            for (at, _) in text.match_indices(call) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[at + call.len()..];
                let key = &rest[..rest.find('"').unwrap()];
                used.entry(key.to_owned())
                    .or_insert_with(|| file.display().to_string());
            }
        }
    }
    used
}

#[test]
fn every_language_has_every_key_with_the_same_placeables() {
    let languages = catalogues();
    let english = &languages["en"];
    assert!(languages.len() >= 3, "{:?}", languages.keys());
    for (tag, catalogue) in &languages {
        for (key, placeables) in english {
            let theirs = catalogue
                .get(key)
                .unwrap_or_else(|| panic!("{tag} lacks {key}"));
            assert_eq!(theirs, placeables, "{tag}: the placeables of {key}");
        }
        for key in catalogue.keys() {
            assert!(english.contains_key(key), "{tag} has {key}, English not");
        }
    }
}

#[test]
fn every_key_used_exists_and_every_key_is_used() {
    let english = &catalogues()["en"];
    let used = used_keys();
    for (key, file) in &used {
        assert!(
            english.contains_key(key),
            "{file} uses {key}, not in the catalogue"
        );
    }
    for key in english.keys() {
        assert!(
            used.contains_key(key) || READ_BY_LANGUAGE.contains(&key.as_str()),
            "{key} is in the catalogue but never used"
        );
    }
}

/// `template` without its template syntax: comments, tags, expressions and the bodies of
/// [`MARKUP_BLOCKS`] become nothing.
fn without_template_syntax(template: &str) -> String {
    let mut template = template.to_owned();
    for block in MARKUP_BLOCKS {
        let opening = format!("{{% block {block} %}}");
        while let Some(start) = template.find(&opening) {
            let end = template[start..]
                .find("{% endblock %}")
                .expect("an ended block")
                + start;
            template.replace_range(start..end, "");
        }
    }
    let mut plain = String::new();
    let mut rest = template.as_str();
    while let Some(start) = ["{{", "{%", "{#"]
        .iter()
        .filter_map(|open| rest.find(open))
        .min()
    {
        plain.push_str(&rest[..start]);
        let close = match &rest[start..start + 2] {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let end = rest[start..].find(close).expect("a closed template tag") + start;
        rest = &rest[end + 2..];
    }
    plain.push_str(rest);
    plain
}

/// The English a reader would meet in `html`: text between tags, and read attributes.
fn english_in(html: &str) -> Vec<String> {
    let has_english = |text: &str| {
        text.split(|c: char| !c.is_ascii_alphabetic())
            .any(|word| !word.is_empty() && !UNTRANSLATED.contains(&word))
    };
    let mut found = Vec::new();
    for (index, piece) in html.split('<').enumerate() {
        let (tag, text) = if index == 0 {
            ("", piece)
        } else {
            piece.split_once('>').unwrap_or((piece, ""))
        };
        if has_english(text) {
            found.push(text.trim().to_owned());
        }
        for attribute in READ_ATTRIBUTES {
            let opening = format!(" {attribute}=\"");
            for (at, _) in tag.match_indices(&opening) {
                let value = &tag[at + opening.len()..];
                let value = &value[..value.find('"').unwrap_or(value.len())];
                if has_english(value) {
                    found.push(format!("{attribute}=\"{value}\""));
                }
            }
        }
    }
    found
}

#[test]
fn templates_speak_only_through_the_catalogue() {
    for file in files(&root().join("templates"), "html") {
        let template = std::fs::read_to_string(&file).unwrap();
        let english = english_in(&without_template_syntax(&template));
        assert!(
            english.is_empty(),
            "{} has text outside the catalogue: {english:?}",
            file.display()
        );
    }
}

#[test]
fn the_template_check_finds_english() {
    let found = english_in(&without_template_syntax(
        r#"<p title="{{ x }}">{{ t("k") }} · sessiond</p><button aria-label="Close">{{ y }}</button><p>Hello {{ name }}</p>"#,
    ));
    assert_eq!(found, ["aria-label=\"Close\"", "Hello"]);
}
