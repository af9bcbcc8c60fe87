//! docs/reference.md names every route of the router and every command and flag of the CLI.

use crate::helpers::*;
use clap::CommandFactory;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn reference() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fails naming every entry of `wanted` that `reference.md` lacks.
fn assert_all_documented(what: &str, missing: Vec<String>) {
    assert!(
        missing.is_empty(),
        "docs/reference.md lacks these {what}:\n  {}",
        missing.join("\n  ")
    );
}

/// Every `.rs` file under `dir`, at any depth.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The string literal at the start of `text`, if there is one.
fn literal(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('"')?;
    rest.find('"').map(|end| &rest[..end])
}

/// The identifier at the start of `text` (a path's last segment: `routing::get` → `get`).
fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    text[..end].rsplit("::").next().unwrap_or_default()
}

/// `(METHOD, path)` of every `.route(path, method(...))` in `source`; a path given by a
/// constant is looked up among the `const NAME: &str = "...";` of `constants`.
fn plain_routes(source: &str, constants: &str) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (at, _) in source.match_indices(".route(") {
        let arguments = source[at + ".route(".len()..].trim_start();
        let path = match literal(arguments) {
            Some(path) => path.to_owned(),
            None => {
                let name = identifier(arguments);
                let declaration = format!("const {name}: &str = ");
                let start = constants
                    .find(&declaration)
                    .unwrap_or_else(|| panic!("no `{declaration}\"...\"` under src/http"));
                literal(&constants[start + declaration.len()..])
                    .expect("a route constant is a string literal")
                    .to_owned()
            }
        };
        let after_path = &arguments[arguments.find(',').expect("a route has a handler") + 1..];
        let method = identifier(after_path.trim_start()).to_uppercase();
        routes.push((method, path));
    }
    routes
}

#[test]
fn every_plain_route_is_in_the_reference() {
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let sources: Vec<String> = rust_files(&http)
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect();
    let constants = sources.concat();
    let routes: Vec<_> = sources
        .iter()
        .flat_map(|source| plain_routes(source, &constants))
        .collect();
    // The scan itself is checked against routes known to be registered this way.
    for known in [("GET", "/metrics"), ("GET", "/login"), ("POST", "/login")] {
        assert!(
            routes
                .iter()
                .any(|(m, p)| (m.as_str(), p.as_str()) == known),
            "the scan of src/http found no {known:?}; it found {routes:?}"
        );
    }
    let doc = reference();
    let missing = routes
        .iter()
        .map(|(method, path)| format!("`{method} {path}`"))
        .filter(|route| !doc.contains(route))
        .collect();
    assert_all_documented("routes (from `.route(` under src/http)", missing);
}

#[tokio::test]
async fn every_openapi_operation_is_in_the_reference() {
    let server = spawn().await;
    let document: Value = reqwest::get(server.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    let operations: Vec<String> = paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().expect("a path item is an object");
            methods
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |method| format!("`{} {path}`", method.to_uppercase()))
        })
        .collect();
    assert!(
        operations.len() > 10,
        "the OpenAPI document lists only {operations:?}"
    );
    let doc = reference();
    let missing = operations
        .into_iter()
        .filter(|operation| !doc.contains(operation))
        .collect();
    assert_all_documented("JSON API operations (from /api/openapi.json)", missing);
}

/// The reference's section for one command: from its heading, `### \`sessiond COMMAND\`` or
/// `### \`sessiond COMMAND ARGS\``, to the next heading.
fn command_section<'a>(doc: &'a str, command: &str) -> Option<&'a str> {
    let heading = format!("### `sessiond {command}");
    let start = doc
        .match_indices(&heading)
        .map(|(at, _)| at + heading.len())
        .find(|&end| doc[end..].starts_with(['`', ' ']))?;
    let end = doc[start..]
        .find("\n##")
        .map_or(doc.len(), |offset| start + offset);
    Some(&doc[start..end])
}

/// Every command that does something (no subcommands of its own), as `users create`, with
/// its long flags.
fn leaf_commands(command: &clap::Command, prefix: &str) -> Vec<(String, Vec<String>)> {
    let mut leaves = Vec::new();
    for sub in command.get_subcommands() {
        let path = format!("{prefix}{}", sub.get_name()).trim().to_owned();
        if sub.has_subcommands() {
            leaves.extend(leaf_commands(sub, &format!("{path} ")));
        } else {
            let flags = sub
                .get_arguments()
                .filter_map(|arg| arg.get_long())
                .map(|long| format!("--{long}"))
                .collect();
            leaves.push((path, flags));
        }
    }
    leaves
}

#[test]
fn every_command_and_flag_is_in_the_reference() {
    let doc = reference();
    let cli = sessiond::cli::Cli::command();
    let mut missing = Vec::new();
    for global in cli.get_arguments().filter_map(|arg| arg.get_long()) {
        if !doc.contains(&format!("`--{global}")) {
            missing.push(format!("the global flag --{global}"));
        }
    }
    let leaves = leaf_commands(&cli, "");
    assert!(leaves.len() > 10, "the CLI has only {leaves:?}");
    for (command, flags) in leaves {
        let Some(section) = command_section(&doc, &command) else {
            missing.push(format!("a section ### `sessiond {command}`"));
            continue;
        };
        for flag in flags {
            if !section.contains(&flag) {
                missing.push(format!("{flag} in the section of `sessiond {command}`"));
            }
        }
    }
    assert_all_documented("commands and flags (from clap)", missing);
}
