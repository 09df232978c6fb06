//! The procedural half of `triglot::migrations!`: finds a project's
//! per-backend migration folders, refuses a missing one at compile time, and
//! fingerprints each folder's content.
//!
//! Only `proc_macro` is used (no syn or quote): the input is one path and
//! the output a call back into the facade's `__migrations_set!`, which does
//! the embedding with diesel_migrations.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use proc_macro::{Delimiter, Group, Literal, Span, TokenStream, TokenTree};

/// The backends whose folders this build embeds, as `(key, feature on)`.
const BACKENDS: [(&str, bool); 3] = [
    ("sqlite", cfg!(feature = "sqlite")),
    ("mysql", cfg!(feature = "mysql")),
    ("postgres", cfg!(feature = "postgres")),
];

/// `__embed_migrations!($crate, "dir")`: expands to
/// `$crate::__migrations_set!(sqlite 0x… "/abs/dir/sqlite"; …)` for every
/// compiled-in backend, or to a `compile_error!` naming the missing folder.
#[proc_macro]
pub fn __embed_migrations(input: TokenStream) -> TokenStream {
    // Fragments a `macro_rules!` hands on arrive wrapped in invisible groups.
    let mut tokens = flatten(input).into_iter();
    let Some(krate) = tokens.next() else {
        return error("triglot::migrations!: missing crate path", Span::call_site());
    };
    let _comma = tokens.next();
    let (dir, span) = match tokens.next() {
        Some(TokenTree::Literal(lit)) => match unquote(&lit.to_string()) {
            Some(dir) => (dir, lit.span()),
            None => return error("triglot::migrations! takes a string literal", lit.span()),
        },
        _ => ("migrations".to_owned(), Span::call_site()),
    };
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let root = Path::new(&manifest).join(&dir);

    let mut sets = String::new();
    for (key, enabled) in BACKENDS {
        if !enabled {
            continue;
        }
        let folder = root.join(key);
        let files = match migration_files(&folder) {
            Ok(files) => files,
            Err(why) => return error(&missing_folder(&dir, key, &why), span),
        };
        let path = folder.display().to_string();
        let _ = write!(sets, "{key} {:#018x}u64 {path:?};", fingerprint(&folder, &files));
    }
    let mut out = TokenStream::new();
    out.extend([krate]);
    out.extend(TokenStream::from_str("::__migrations_set!").unwrap_or_default());
    let body = TokenStream::from_str(&sets).unwrap_or_default();
    out.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, body))]);
    out
}

/// The compile error for a backend whose folder is missing or unusable.
fn missing_folder(dir: &str, key: &str, why: &str) -> String {
    format!(
        "triglot::migrations!: the {key} backend is compiled in (triglot's `{key}` feature) but \
         {}/{key} {why}; add the folder with that backend's migrations (diesel_cli's layout: \
         <version>_<name>/up.sql, down.sql)",
        dir.trim_end_matches('/')
    )
}

/// `input` with every invisible (`Delimiter::None`) group opened.
fn flatten(input: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for tree in input {
        match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
                out.extend(flatten(group.stream()));
            }
            other => out.push(other),
        }
    }
    out
}

/// The files of every migration in `folder`, sorted; an error says what is wrong.
fn migration_files(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(folder).map_err(|e| format!("cannot be read ({e})"))?;
    let mut files = Vec::new();
    let mut migrations = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if !path.join("up.sql").is_file() {
            return Err(format!("has a folder {} without up.sql", path.display()));
        }
        migrations += 1;
        for file in std::fs::read_dir(&path).map_err(|e| e.to_string())?.flatten() {
            if file.path().is_file() {
                files.push(file.path());
            }
        }
    }
    if migrations == 0 {
        return Err("holds no migration".into());
    }
    files.sort();
    Ok(files)
}

/// FNV-1a over each file's path below `folder` and its bytes: the same
/// content gives the same value on any machine.
fn fingerprint(folder: &Path, files: &[PathBuf]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for file in files {
        let relative = file.strip_prefix(folder).unwrap_or(file).to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap_or_default();
        for b in relative.bytes().chain([0]).chain(bytes).chain([0]) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The text of a plain string literal (`"…"`), without escapes.
fn unquote(lit: &str) -> Option<String> {
    let inner = lit.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then(|| inner.to_owned())
}

fn error(message: &str, span: Span) -> TokenStream {
    let mut lit = Literal::string(message);
    lit.set_span(span);
    let mut out = TokenStream::from_str("::core::compile_error!").unwrap_or_default();
    let mut group = Group::new(Delimiter::Parenthesis, TokenStream::from(TokenTree::Literal(lit)));
    group.set_span(span);
    out.extend([TokenTree::Group(group)]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_named_with_its_backend_and_feature() {
        let root = std::env::temp_dir().join(format!("tg_macro_test_{}", std::process::id()));
        let why = migration_files(&root.join("postgres")).unwrap_err();
        let message = missing_folder("db/migrations/", "postgres", &why);
        assert!(message.contains("db/migrations/postgres cannot be read"), "{message}");
        assert!(message.contains("triglot's `postgres` feature"), "{message}");
    }

    #[test]
    fn a_folder_needs_a_migration_with_up_sql_and_is_fingerprinted_by_content() {
        let root = std::env::temp_dir().join(format!("tg_macro_fp_{}", std::process::id()));
        let folder = root.join("sqlite");
        let migration = folder.join("2026-12-01-000001_books");
        std::fs::create_dir_all(&migration).unwrap();
        assert_eq!(
            migration_files(&folder).unwrap_err(),
            format!("has a folder {} without up.sql", migration.display())
        );
        std::fs::write(migration.join("up.sql"), "CREATE TABLE books (id BIGINT)").unwrap();
        let files = migration_files(&folder).unwrap();
        let first = fingerprint(&folder, &files);
        std::fs::write(migration.join("up.sql"), "CREATE TABLE books (id INTEGER)").unwrap();
        assert_ne!(first, fingerprint(&folder, &files));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
