//! Rebuilds when a language is added to `locales/`: `fluent_templates::static_loader!` reads
//! that folder while compiling, which cargo cannot see on its own.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
